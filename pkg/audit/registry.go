package audit

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/imgaudit/imgaudit/internal/parallel"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/shard"
)

// RegistryOptions select what a registry audit covers.
type RegistryOptions struct {
	// RepoGlob and TagGlob filter repositories and tags (path.Match syntax;
	// "" matches all). RepoGlob applies to the repository path without the
	// registry host.
	RepoGlob string
	TagGlob  string
	// MaxTags keeps the newest N tags per repository (by semantic version,
	// then by name); 0 keeps all.
	MaxTags int
	// BaselineTag, when set, compares each repository's newest tag with
	// this tag (audited too, in the same run, but reported only as the
	// newest image's report.Diff baseline unless selected), or with
	// [BaselinePrevious], the semantic version just below the newest. The
	// newest tag is the highest semantic version among the selected tags
	// (with BaselinePrevious: among those TagGlob matches), or, when none
	// is a version, the one whose image config was created last. A
	// repository that cannot be compared (no such tag, fewer than two
	// versions) is named in a report warning of kind [WarningNotCompared];
	// when none can be, the audit is incomplete. Images are emitted once
	// every comparison is made.
	BaselineTag string
	// Shard, when its Count is set, keeps the repositories this shard owns
	// (shard.Spec.Owns of "HOST/REPO"): N audits with shards 0/N to
	// N-1/N together cover every selected repository exactly once, and
	// shard.Merge makes one report of theirs. It does not combine with
	// BaselineTag.
	Shard shard.Spec
	// Skip names repositories ("HOST/PATH") the audit leaves out, such as
	// a shared layer cache kept in the audited registry (pkg/regcache),
	// whose artifacts are no images.
	Skip []string
}

// RegistryTarget names a registry audit for report.Shard.Target: the
// registry and prefix and the selection options, which every shard of one
// audit must share.
func RegistryTarget(target string, ro RegistryOptions) string {
	s := "registry " + strings.TrimSuffix(target, "/")
	if ro.RepoGlob != "" {
		s += " --repo " + ro.RepoGlob
	}
	if ro.TagGlob != "" {
		s += " --tag " + ro.TagGlob
	}
	if ro.MaxTags != 0 {
		s += " --max-tags " + strconv.Itoa(ro.MaxTags)
	}
	return s
}

// Registry audits every image of a registry, "HOST[/PREFIX]": it lists the
// repositories (paginated catalog) below PREFIX and their tags, opens each
// tag, audits each distinct image once (tags that share a digest are listed
// in AlsoKnownAs), and returns one report. emit, when set, receives each
// image as soon as it is done (from one goroutine at a time).
//
// A tag or image that fails is recorded with its error and the audit goes on;
// the returned error then wraps [ErrIncomplete]. Failing to list the
// registry at all is returned as an error with no report.
func Registry(ctx context.Context, target string, ro RegistryOptions, o Options, emit func(report.Image)) (*report.Report, error) {
	if o.Baseline != "" {
		return nil, errors.New("a registry audit takes its baseline from RegistryOptions.BaselineTag, not Options.Baseline")
	}
	if err := ro.Shard.Validate(); err != nil {
		return nil, err
	}
	if ro.Shard.Enabled() && ro.BaselineTag != "" {
		return nil, errors.New("--baseline-tag does not combine with --shard: a shard cannot tell whether any repository of the registry was compared")
	}
	target, err := fetch.TrimScheme(target, o.Fetch...)
	if err != nil {
		return nil, err
	}
	host, prefix, _ := strings.Cut(strings.TrimSuffix(target, "/"), "/")
	if ro.RepoGlob != "" {
		if _, err := path.Match(ro.RepoGlob, ""); err != nil {
			return nil, fmt.Errorf("--repo %q: %w", ro.RepoGlob, err)
		}
	}
	if ro.TagGlob != "" {
		if _, err := path.Match(ro.TagGlob, ""); err != nil {
			return nil, fmt.Errorf("--tag %q: %w", ro.TagGlob, err)
		}
	}
	o, done, err := withSession(o)
	if err != nil {
		return nil, err
	}
	defer done()
	repos, err := fetch.Catalog(ctx, host, o.Fetch...)
	if err != nil {
		return nil, err
	}
	var selected []string
	for _, repo := range repos {
		if prefix != "" && repo != prefix && !strings.HasPrefix(repo, prefix+"/") {
			continue
		}
		if ro.RepoGlob != "" {
			if ok, _ := path.Match(ro.RepoGlob, repo); !ok {
				continue
			}
		}
		if slices.Contains(ro.Skip, host+"/"+repo) || !ro.Shard.Owns(host+"/"+repo) {
			continue
		}
		selected = append(selected, repo)
	}
	// In lexical order, as the distribution spec has registries list them:
	// an image under two repositories is reported under the first one's
	// name whatever order a registry lists them in, and so is it by
	// shard.Merge.
	slices.Sort(selected)
	selected = slices.Compact(selected)
	tags := make([][]string, len(selected))
	tagErrs := make([]error, len(selected))
	parallel.Each(ctx, len(selected), o.workers(), func(i int) {
		tags[i], tagErrs[i] = fetch.Tags(ctx, host+"/"+selected[i], o.Fetch...)
	})
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	var refs []string
	var failed []report.Image
	var errs []error
	var plans []repoDelta
	for i, repo := range selected {
		if err := tagErrs[i]; err != nil {
			failed = append(failed, report.Image{Reference: host + "/" + repo, Error: err.Error(), Findings: []report.Finding{}, Layers: []report.Layer{}})
			errs = append(errs, err)
			continue
		}
		picked := fetch.SelectTags(tags[i], ro.TagGlob, ro.MaxTags)
		for _, t := range picked {
			refs = append(refs, host+"/"+repo+":"+t)
		}
		if ro.BaselineTag != "" {
			plans = append(plans, planDelta(host+"/"+repo, tags[i], picked, ro))
		}
	}
	var delta *registryDelta
	if ro.BaselineTag != "" {
		// The baselines are audited with the fleet (selected references
		// first, so a tag both selected and a baseline is reported under
		// its selected name); images are emitted once compared.
		delta = newRegistryDelta(ro.BaselineTag, plans, refs)
		refs = append(refs, delta.extra...)
		o = delta.options(o)
	}
	sink := emit
	if delta != nil {
		sink = nil
	}
	r, err := runRefs(ctx, refs, o, sink)
	if r == nil {
		return nil, err
	}
	if err != nil {
		errs = append(errs, err)
	}
	if delta != nil {
		errs = append(errs, delta.apply(r)...)
	}
	r.Images = append(r.Images, failed...)
	r.SortImages()
	r.Summarize()
	if delta != nil && emit != nil {
		for _, img := range r.Images {
			emit(img)
		}
	}
	errs = slices.DeleteFunc(errs, func(e error) bool { return e == nil })
	if len(errs) > 0 {
		return r, fmt.Errorf("%w: %w", ErrIncomplete, errors.Join(errs...))
	}
	return r, nil
}

// memoryCacheEntries bounds the in-memory layer index cache of one audit:
// about 100 bytes per entry, so some 100 MB at most.
const memoryCacheEntries = 1_000_000

// runRefs opens every reference, audits each distinct image once with
// o.Concurrency workers sharing one layer Flight, and reports them.
func runRefs(ctx context.Context, refs []string, o Options, emit func(report.Image)) (*report.Report, error) {
	if len(refs) > 1 {
		// Images of one audit share layers.
		o = o.sharing()
	} else if o.flight == nil {
		o.flight = o.newFlight()
	}
	workers := o.workers()
	r := &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "imgaudit", Version: o.toolVersion()}}

	type job struct {
		target fetch.Target
		alias  []string
	}
	var (
		mu      sync.Mutex
		errs    []error
		seen    = map[string]*job{}
		jobs    []*job
		results []*fetch.Result
	)
	defer func() {
		for _, res := range results {
			res.Close()
		}
	}()
	record := func(img report.Image, err error) {
		mu.Lock()
		defer mu.Unlock()
		r.Images = append(r.Images, img)
		if err != nil {
			errs = append(errs, err)
		}
		if emit != nil {
			emit(img)
		}
	}

	// Phase 1: open every reference (manifests only), in parallel, and group
	// the images by digest and platform.
	opened := make([]*fetch.Result, len(refs))
	openErr := make([]error, len(refs))
	parallel.Each(ctx, len(refs), workers, func(i int) {
		opened[i], openErr[i] = fetch.Open(ctx, refs[i], o.Fetch...)
	})
	if err := ctx.Err(); err != nil {
		for _, res := range opened {
			res.Close()
		}
		return nil, context.Cause(ctx)
	}
	for i, res := range opened {
		if openErr[i] != nil {
			record(report.Image{Reference: refs[i], Error: openErr[i].Error(), Findings: []report.Finding{}, Layers: []report.Layer{}}, openErr[i])
			continue
		}
		results = append(results, res)
		for _, t := range res.Targets {
			key := t.Digest.String()
			if t.Platform != nil {
				key += " " + t.Platform.String()
			}
			if j, ok := seen[key]; ok {
				j.alias = append(j.alias, displayRef(t))
				continue
			}
			j := &job{target: t}
			seen[key] = j
			jobs = append(jobs, j)
		}
	}

	// Phase 2: audit each distinct image once. Layer reads inside each
	// image share the machine with the other images read at once (the
	// Flight bounds them all together).
	parallel.Each(ctx, len(jobs), workers, func(i int) {
		j := jobs[i]
		img, err := Target(ctx, j.target, o)
		sort.Strings(j.alias)
		img.AlsoKnownAs = j.alias
		if ctx.Err() != nil {
			return
		}
		record(img, err)
	})
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	r.SortImages()
	r.Summarize()
	if len(errs) > 0 {
		return r, errors.Join(errs...)
	}
	return r, nil
}

// withSession returns o with a fetch session shared by all its calls (one
// connection pool, one authentication per repository), and its closer.
func withSession(o Options) (Options, func(), error) {
	s, err := fetch.NewSession(o.Fetch...)
	if err != nil {
		return o, nil, err
	}
	o.Fetch = append(append([]fetch.Option(nil), o.Fetch...), fetch.WithSession(s))
	return o, s.Close, nil
}
