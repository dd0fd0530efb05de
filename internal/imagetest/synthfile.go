package imagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// SynthLayerFile streams the synthetic layer s, gzip-compressed, straight
// into the blobs of the OCI image layout at dir
// (dir/blobs/sha256/DIGEST), hashing it as it goes, and returns it as a
// layer read back from that file. Nothing of it is held in memory, so
// layers of gigabytes can be generated; layout.Path's writers skip the
// blob, as it is already there.
func SynthLayerFile(dir string, s SynthSpec) (v1.Layer, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(blobs, ".synth-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	compressed, uncompressed := sha256.New(), sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, compressed)}
	zw, err := gzip.NewWriterLevel(cw, gzip.DefaultCompression)
	if err != nil {
		f.Close()
		return nil, err
	}
	err = SynthTar(io.MultiWriter(zw, uncompressed), s)
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("synthetic layer: %w", err)
	}
	l := &fileLayer{digest: hashOf(compressed), diffID: hashOf(uncompressed), size: cw.n}
	l.path = filepath.Join(blobs, l.digest.Hex)
	if err := os.Rename(f.Name(), l.path); err != nil {
		return nil, err
	}
	return l, nil
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is a gzip layer blob in a file, its digests known.
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}
