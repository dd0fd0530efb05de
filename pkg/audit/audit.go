// Package audit is imgaudit's facade: it opens images, scans each one once
// (pkg/layers), runs the check catalogue (pkg/checks) and returns the report
// model (pkg/report). The CLI makes one call here per command.
package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// ErrIncomplete is wrapped by the error [Run] returns when at least one image
// could not be scanned completely. The report still holds every image, the
// failed ones with their Error set.
var ErrIncomplete = errors.New("audit incomplete")

// Event reports progress.
type Event struct {
	Reference string
	// Layer is the index of the layer just done, -1 for image-level events.
	Layer  int
	Layers int
	Bytes  int64 // compressed bytes of that layer
	Cached bool
	Done   bool // the image is done
}

// Run audits every reference in refs and returns one report. References
// are opened and audited concurrently (o.Concurrency), an image named by
// several references is audited once, and layers shared between images are
// read once. A reference or image that fails is recorded in the report with
// its error, and the audit goes on; the returned error then wraps
// [ErrIncomplete]. A cancelled context stops the audit and is returned as is.
func Run(ctx context.Context, refs []string, o Options) (*report.Report, error) {
	return RunStream(ctx, refs, o, nil)
}

// RunStream is Run with emit called for each image as soon as it is done.
// With o.Baseline, each image also carries its diff against the baseline
// (see [Options.Baseline]): a baseline that could not be audited
// completely, or has no image of an audited image's platform, makes the
// audit incomplete; a baseline report file that cannot be read is an
// error and no report. Against [BaselineBase], the images are emitted
// once every base is audited, and an image whose manifest names no base
// makes the audit incomplete.
func RunStream(ctx context.Context, refs []string, o Options, emit func(report.Image)) (*report.Report, error) {
	if o.Baseline != "" {
		return runBaseline(ctx, refs, o, emit)
	}
	if len(refs) > 1 {
		var done func()
		var err error
		if o, done, err = withSession(o); err != nil {
			return nil, err
		}
		defer done()
	}
	r, err := runRefs(ctx, refs, o, emit)
	if r == nil {
		return nil, err
	}
	if err != nil {
		return r, fmt.Errorf("%w: %w", ErrIncomplete, err)
	}
	return r, nil
}

// Reference audits the images one reference names (one per platform with
// all-platforms). On error the returned images carry it in their Error field.
func Reference(ctx context.Context, ref string, o Options) ([]report.Image, error) {
	res, err := fetch.Open(ctx, ref, o.Fetch...)
	if err != nil {
		return []report.Image{{Reference: ref, Error: err.Error(), Findings: []report.Finding{}}}, err
	}
	defer res.Close()
	var out []report.Image
	var errs []error
	for _, t := range res.Targets {
		img, err := Target(ctx, t, o)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, img)
	}
	return out, errors.Join(errs...)
}

// Target audits one opened image. The returned image always carries the
// reference; on error its Error field is set and the error is returned too.
func Target(ctx context.Context, t fetch.Target, o Options) (report.Image, error) {
	ri := report.Image{
		Reference:    displayRef(t),
		Source:       string(t.Source),
		Digest:       t.Digest.String(),
		PlatformNote: t.PlatformNote,
		Findings:     []report.Finding{},
		Layers:       []report.Layer{},
	}
	if t.IndexDigest != nil {
		ri.IndexDigest = t.IndexDigest.String()
	}
	if t.Platform != nil {
		ri.Platform = t.Platform.String()
	}
	fail := func(err error) (report.Image, error) {
		// Errors of blob reads come classified and scrubbed from the image
		// pkg/fetch handed out; they only need the reference in front.
		// Text from the image (a file name) is kept as it is: renderers
		// and the CLI escape it when they print it.
		err = fmt.Errorf("%s: %w", ri.Reference, err)
		ri.Error = err.Error()
		return ri, err
	}
	cfg, err := t.Image.ConfigFile()
	if err != nil {
		return fail(fmt.Errorf("reading config: %w", err))
	}
	if ri.Platform == "" && cfg.OS != "" {
		ri.Platform = (&v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}).String()
	}
	cs := o.checks()
	lo := o.layerOptions(cs)
	key := o.reportCacheKey(t, cfg, cs, lo.Options)
	if key != "" && o.reuseReport && o.OnSBOM == nil && o.onAssess == nil {
		// A baseline audited before (usually as the image a diff compares
		// with) comes back as it was: no layer is read, nothing assessed.
		if cached, ok := o.cachedReport(ctx, key); ok {
			if o.Progress != nil {
				o.Progress(Event{Reference: ri.Reference, Layer: -1, Done: true})
			}
			return cached, nil
		}
	}
	if o.SBOM {
		// syft's license scanner takes seconds of CPU to build, once per
		// process: build it while the layers are read, from the first
		// layer that is not in the cache (when every layer is, the
		// catalogue usually is too, and nothing needs the scanner).
		var prepare sync.Once
		prev := lo.OnLayer
		lo.OnLayer = func(i int, idx *layers.LayerIndex, cached bool) {
			if !cached {
				prepare.Do(func() { go func() { _ = sbom.Prepare() }() })
			}
			if prev != nil {
				prev(i, idx, cached)
			}
		}
	}
	if o.Progress != nil {
		n := len(cfg.RootFS.DiffIDs)
		prev := lo.OnLayer
		lo.OnLayer = func(i int, idx *layers.LayerIndex, cached bool) {
			if prev != nil {
				prev(i, idx, cached)
			}
			o.Progress(Event{Reference: ri.Reference, Layer: i, Layers: n, Bytes: idx.CompressedSize, Cached: cached})
		}
	}
	fsys, err := layers.Scan(ctx, t.Image, lo)
	if err != nil {
		return fail(err)
	}
	for _, l := range fsys.Layers() {
		ri.Layers = append(ri.Layers, report.Layer{
			Index: l.Index, Digest: l.Digest.String(), DiffID: l.DiffID.String(), Size: l.Size, CreatedBy: checks.RedactText(l.CreatedBy),
		})
		ri.Stats.CompressedBytes += l.Size
		ri.Stats.UncompressedBytes += l.UncompressedSize
	}
	ri.Stats.Layers = len(ri.Layers)
	ri.Stats.Files = fsys.Len()
	ri.Stats.DeletedFiles = len(fsys.Deleted())
	img, err := assess(ctx, &ri, cs, cfg, fsys)
	if err != nil {
		return fail(err)
	}
	ri.Base.Name, ri.Base.Digest = baseAnnotations(t.Image)
	if o.onAssess != nil {
		if err := o.onAssess(ctx, &ri, img); err != nil {
			return fail(err)
		}
	}
	if o.SBOM {
		res, err := catalog(ctx, &ri, t, fsys, lo.Options, o)
		if err != nil {
			return fail(err)
		}
		if o.OnSBOM != nil {
			if err := o.OnSBOM(ri, res); err != nil {
				return fail(fmt.Errorf("writing SBOM: %w", err))
			}
		}
	}
	if key != "" {
		o.cacheReport(ctx, key, ri)
	}
	if o.Progress != nil {
		o.Progress(Event{Reference: ri.Reference, Layer: -1, Done: true})
	}
	return ri, nil
}

// displayRef is the reference plus the platform when the image was picked
// from an index, so each platform reads as its own image.
func displayRef(t fetch.Target) string {
	if t.IndexDigest != nil && t.Platform != nil {
		return t.Reference + " (" + t.Platform.String() + ")"
	}
	return t.Reference
}

// Annotations of an image manifest naming the image it was built on, as
// BuildKit writes them.
const (
	annotationBaseName   = "org.opencontainers.image.base.name"
	annotationBaseDigest = "org.opencontainers.image.base.digest"
)

// baseAnnotations returns the base image the manifest names, "" when it
// does not (or the manifest cannot be read: it was read to open the image,
// so the layers would have failed first). The text is the image's: renderers
// escape it.
func baseAnnotations(img v1.Image) (name, digest string) {
	m, err := img.Manifest()
	if err != nil || m == nil {
		return "", ""
	}
	return m.Annotations[annotationBaseName], m.Annotations[annotationBaseDigest]
}
