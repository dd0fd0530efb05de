package audit

import (
	"context"
	"runtime"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// DefaultConcurrency is how many images an audit reads at once when
// [Options.Concurrency] is 0.
const DefaultConcurrency = 4

// Options configure an audit. Every default lives here: a zero field means
// its default, and [DefaultOptions] is the zero value with a tool version.
// Like crane's Options, the one field that configures a lower package,
// Fetch, takes that package's own options; everything else is the
// audit's.
type Options struct {
	// Fetch are pkg/fetch's options (fetch.WithCredentials, WithInsecure,
	// WithPlatform, WithTimeout, ...): how to reach images. They are
	// passed to fetch.Open, and to fetch.Catalog and fetch.Tags by
	// [Registry]. None: anonymous or Docker keychain credentials, TLS,
	// linux/amd64 from a multi-platform index.
	Fetch []fetch.Option
	// Limits bound what one layer may make the audit do (entries,
	// decompressed bytes, name length). A zero field takes the value of
	// layers.DefaultLimits.
	Limits layers.Limits
	// Inflater, when set, inflates gzip layers instead of Go's own
	// inflater: a child process from pkg/inflate (inflate.Find).
	Inflater layers.Inflater
	// Cache keeps layer analyses between audits, and each image's package
	// catalogue next to them when it is also a layers.BlobCache (as
	// layers.DiskCache is). Nil: nothing is kept between audits; within an
	// audit of several images a layer is still read once.
	Cache layers.Cache
	// Concurrency is how many images are audited at once by [Run] and
	// [Registry]. 0: [DefaultConcurrency].
	Concurrency int
	// LayerConcurrency is how many layers of one image are read at once.
	// 0: as many as there are CPUs (GOMAXPROCS), for all the images
	// audited at once together: an image reads as many as are free, so the
	// one reading a base layer the others share reads its layers side by
	// side while they wait (waiting for a shared layer, or decoding a
	// cached one, takes no turn).
	LayerConcurrency int
	// DisabledChecks and DisabledCategories name the checks (by ID) and
	// the categories, ignoring case, that do not run; every other check of
	// checks.All() does. Their findings then never exist.
	DisabledChecks     []string
	DisabledCategories []string
	// ToolVersion goes into the report's tool field ("": "dev").
	ToolVersion string
	// Progress, when set, receives events as the audit goes. It is called
	// from several goroutines.
	Progress func(Event)
	// SBOM catalogues each image's packages with syft (pkg/sbom) from the
	// same single pass over its layers: the report gets the package summary
	// and the package that owns each tool finding's file. Off by default:
	// it costs a few seconds of CPU once per process and some memory per
	// image.
	SBOM bool
	// OnSBOM, when set with SBOM, receives each image's catalogue (its full
	// document for sbom.Encode) once the image is assessed; an error fails
	// the image. It is called from several goroutines.
	OnSBOM func(img report.Image, res *sbom.Result) error
	// Baseline, when set, makes [Run] and [RunStream] compare every image
	// they audit with a baseline and give it its report.Image.Diff (pkg/diff):
	// an earlier JSON report's file, an image reference (audited first with
	// these options, the layers both share read once; its SBOM is not
	// handed to OnSBOM), or [BaselineBase], the base image each image's
	// manifest names. [Registry] takes RegistryOptions.BaselineTag instead.
	Baseline string

	// flight makes the images of one audit share the read of a layer.
	flight *layers.Flight
	// onAssess, when set, sees each image once it is assessed, with the
	// checks' view of its config and final filesystem (Workloads derives
	// image facts there); an error fails the image. It is called from
	// several goroutines.
	onAssess func(ctx context.Context, ri *report.Image, img *checks.Image) error
	// blobs is the caller's Cache as a layers.BlobCache, kept when an
	// in-memory cache is put in front of it (sharing), so that package
	// catalogues are still cached.
	blobs layers.BlobCache
	// reuseReport lets Target return an image's audit from the cache
	// (every audit with a blob cache stores one): set for baselines, whose
	// images were usually audited before.
	reuseReport bool
}

// DefaultOptions returns the options used when the caller sets nothing:
// the zero Options, whose fields all document their defaults, with the
// tool version "dev".
func DefaultOptions() Options {
	return Options{ToolVersion: "dev"}
}

// sharing returns o set up for audits that share layers (several images,
// or an image and its baseline): one layer Flight, and decoded layer
// indexes kept in memory for the run (bounded by entries) in front of
// the caller's cache.
func (o Options) sharing() Options {
	if o.flight == nil {
		o.flight = o.newFlight()
	}
	if _, ok := o.Cache.(*layers.MemoryCache); !ok {
		if bc, ok := o.Cache.(layers.BlobCache); ok && o.blobs == nil {
			o.blobs = bc
		}
		o.Cache = layers.NewMemoryCache(o.Cache, memoryCacheEntries)
	}
	return o
}

// blobCache is where package catalogues are cached, nil when nowhere.
func (o Options) blobCache() layers.BlobCache {
	if o.blobs != nil {
		return o.blobs
	}
	bc, _ := o.Cache.(layers.BlobCache)
	return bc
}

// workers is how many images are audited at once.
func (o Options) workers() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return DefaultConcurrency
}

// layerWorkers is how many layers of one image are read at once:
// LayerConcurrency, or the CPUs (then bounded for all the images together
// by the audit's Flight: see newFlight).
func (o Options) layerWorkers() int {
	if o.LayerConcurrency > 0 {
		return o.LayerConcurrency
	}
	return runtime.GOMAXPROCS(0)
}

// newFlight is the layer Flight of one audit: with LayerConcurrency 0, its
// images read as many layers at once, all together, as there are CPUs.
func (o Options) newFlight() *layers.Flight {
	if o.LayerConcurrency > 0 {
		return layers.NewFlight()
	}
	return layers.NewReadFlight(runtime.GOMAXPROCS(0))
}

// toolVersion is the version the report names.
func (o Options) toolVersion() string {
	if o.ToolVersion == "" {
		return "dev"
	}
	return o.ToolVersion
}

// checks returns the checks to run: the catalogue less the disabled ones.
func (o Options) checks() []checks.Check {
	all := checks.All()
	if len(o.DisabledChecks) == 0 && len(o.DisabledCategories) == 0 {
		return all
	}
	fold := func(s string) func(string) bool { return func(x string) bool { return strings.EqualFold(x, s) } }
	out := make([]checks.Check, 0, len(all))
	for _, c := range all {
		m := c.Meta()
		if slices.ContainsFunc(o.DisabledChecks, fold(m.ID)) || slices.ContainsFunc(o.DisabledCategories, fold(string(m.Category))) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// layerOptions are the options of the streaming pass over one image.
func (o Options) layerOptions(cs []checks.Check) layers.ImageOptions {
	lo := layers.ImageOptions{
		Options:     layers.Options{Limits: o.Limits, Inflater: o.Inflater},
		Concurrency: o.layerWorkers(),
		Cache:       o.Cache,
		Flight:      o.flight,
	}
	// Every layer pkg/fetch serves checks its own digest as it streams.
	lo.SourceVerifiesDigest = true
	lo.Capture = captures(cs)
	if o.SBOM {
		lo.Capture = append(lo.Capture, sbom.Needs()...)
	}
	return lo
}
