package layers

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrLimit is wrapped by every error that reports a limit of [Limits] being
// hit. The message names the limit and its value.
var ErrLimit = errors.New("limit exceeded")

// ErrCorrupt is wrapped by errors for blobs that are not what they claim to
// be: bad compression, a broken tar stream, or a digest that does not match.
var ErrCorrupt = errors.New("corrupt layer")

// Limits bound what one layer (and, for MaxLayers, one image) may make
// imgaudit do. A zero field takes the default from [DefaultLimits].
type Limits struct {
	// MaxLayers is the most layers one image may have. Docker refuses to
	// build or run an image of more than 127 layers and containerd's
	// overlay mounts stop near there too; the default, 1,000, is generous
	// and bounds the per-layer work a hostile manifest of hundreds of
	// thousands of tiny layers asks for. It does not change a layer's
	// index (nor its cache key).
	MaxLayers       int
	MaxEntries      int   // entries in one layer, implied parent directories included
	MaxPathLen      int   // bytes in one entry name or link target
	MaxLayerBytes   int64 // decompressed bytes of one layer
	MaxCaptureBytes int64 // bytes of one captured file
	MaxCaptureTotal int64 // bytes captured from one layer in all
}

// DefaultLimits returns the limits a zero field takes: generous for real
// images, and still stopping bombs quickly.
//
// A scan holds about 450 bytes per entry (measured: 1,000,000 entries of
// 36-byte paths in one layer, 469 MB peak RSS for the whole CLI scan;
// 2,000,000, 918 MB), so MaxEntries at 2,000,000 keeps a one-layer scan
// near 1 GB where 5,000,000 allowed 2-3 GB; the largest real layers hold a
// few hundred thousand files. Longer paths cost more per entry.
func DefaultLimits() Limits {
	return Limits{
		MaxLayers:       1000,
		MaxEntries:      2_000_000,
		MaxPathLen:      4096,
		MaxLayerBytes:   64 << 30,
		MaxCaptureBytes: 16 << 20,
		MaxCaptureTotal: 256 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxLayers > 0 {
		d.MaxLayers = l.MaxLayers
	}
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxPathLen > 0 {
		d.MaxPathLen = l.MaxPathLen
	}
	if l.MaxLayerBytes > 0 {
		d.MaxLayerBytes = l.MaxLayerBytes
	}
	if l.MaxCaptureBytes > 0 {
		d.MaxCaptureBytes = l.MaxCaptureBytes
	}
	if l.MaxCaptureTotal > 0 {
		d.MaxCaptureTotal = l.MaxCaptureTotal
	}
	return d
}

// Options configure [Index].
type Options struct {
	// Capture lists the files whose contents are kept (see [Match]).
	Capture []string
	Limits  Limits
	// SourceVerifiesDigest says that the layers' Compressed streams already
	// fail when their bytes do not hash to the layer digest, as those of
	// pkg/fetch do (go-containerregistry's remote layers and fetch's local
	// stores): Index then does not hash the compressed bytes a second time
	// (about 5% of a scan's CPU). The diffID is always verified.
	SourceVerifiesDigest bool
	// Inflater, when set, inflates gzip layers instead of Go's own
	// inflater (pkg/inflate). It does not change the index (nor the cache
	// key), only the speed.
	Inflater Inflater
}

// LayerIndex is what one streaming pass over a layer learns. It depends only
// on the layer's uncompressed bytes and the [Options] used.
type LayerIndex struct {
	Digest v1.Hash // digest of the blob as stored (compressed)
	DiffID v1.Hash // digest of the uncompressed tar stream
	// CompressedSize and UncompressedSize are in bytes.
	CompressedSize   int64
	UncompressedSize int64
	// Entries in tar order, whiteout markers included (as TypeWhiteout and
	// TypeOpaque entries).
	Entries []Entry
	// Files holds the contents of captured files, by absolute path.
	Files map[string][]byte
	// Partials holds what was kept of declared files too large to
	// capture (see Partial), by absolute path.
	Partials  map[string]*Partial
	Anomalies []Anomaly
}

func limitErr(name string, v int64) error {
	return fmt.Errorf("%w: %s (%d)", ErrLimit, name, v)
}
