package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// BaselinePrevious is the [RegistryOptions.BaselineTag] value that compares
// each repository's newest semantic-version tag with the one just below
// it. A tag literally named "previous" cannot be chosen as a baseline.
const BaselinePrevious = "previous"

// WarningNotCompared is the report.Warning kind of a repository that a
// registry audit with a baseline tag could not compare.
const WarningNotCompared = "not-compared"

// repoDelta is one repository's comparison in a registry audit with a
// baseline tag: its newest tag and the baseline tag, or why there is none.
type repoDelta struct {
	repo string // host/repository
	// newest is the tag compared; "" with candidates set: the candidate
	// whose image was created last, known once they are audited.
	newest     string
	candidates []string
	baseline   string
	note       string // why the repository is not compared
}

// planDelta decides what a repository's comparison will be from its tags
// (all of them) and the tags the audit selected, newest first.
//
// With [BaselinePrevious], the newest tag is the highest semantic version
// among the tags --tag matches (--max-tags aside) and the baseline the next
// one. With a tag name, the baseline is that tag (whatever --tag selects)
// and the newest tag is the highest semantic version among the selected
// tags other than it, or, when none of them is a version, the one whose
// image config says it was created last.
func planDelta(repo string, all, selected []string, ro RegistryOptions) repoDelta {
	d := repoDelta{repo: repo}
	if ro.BaselineTag == BaselinePrevious {
		var versions []string
		for _, t := range fetch.SelectTags(all, ro.TagGlob, 0) {
			if fetch.IsVersionTag(t) {
				versions = append(versions, t)
			}
		}
		if len(versions) < 2 {
			d.note = fmt.Sprintf("fewer than two semantic-version tags (%d)", len(versions))
			return d
		}
		d.newest, d.baseline = versions[0], versions[1]
		return d
	}
	if !slices.Contains(all, ro.BaselineTag) {
		d.note = "no tag " + ro.BaselineTag
		return d
	}
	d.baseline = ro.BaselineTag
	others := slices.DeleteFunc(slices.Clone(selected), func(t string) bool { return t == ro.BaselineTag })
	switch {
	case len(others) == 0:
		d.note = "no tag other than " + ro.BaselineTag + " selected"
	case fetch.IsVersionTag(others[0]): // SelectTags puts versions first
		d.newest = others[0]
	default:
		d.candidates = others
	}
	return d
}

// registryDelta carries the comparisons of one registry audit with a
// baseline tag.
type registryDelta struct {
	tag      string
	repos    []repoDelta
	selected map[string]bool // the references the audit selected
	extra    []string        // references audited only as baselines
	mu       sync.Mutex
	created  map[string]time.Time // image digest → config created
}

// newRegistryDelta plans the comparisons and lists the references to audit
// on top of selected (a baseline tag that --tag or --max-tags left out).
func newRegistryDelta(tag string, repos []repoDelta, selected []string) *registryDelta {
	repos = slices.Clone(repos)
	slices.SortFunc(repos, func(a, b repoDelta) int { return strings.Compare(a.repo, b.repo) })
	d := &registryDelta{tag: tag, repos: repos, selected: map[string]bool{}, created: map[string]time.Time{}}
	for _, ref := range selected {
		d.selected[ref] = true
	}
	for _, rd := range repos {
		for _, t := range []string{rd.newest, rd.baseline} {
			if ref := rd.repo + ":" + t; t != "" && !d.selected[ref] && !slices.Contains(d.extra, ref) {
				d.extra = append(d.extra, ref)
			}
		}
	}
	return d
}

// options returns o recording each image's config created time.
func (d *registryDelta) options(o Options) Options {
	prev := o.onAssess
	o.onAssess = func(ctx context.Context, ri *report.Image, img *checks.Image) error {
		if img.Config != nil {
			d.mu.Lock()
			d.created[ri.Digest] = img.Config.Created.Time
			d.mu.Unlock()
		}
		if prev != nil {
			return prev(ctx, ri, img)
		}
		return nil
	}
	return o
}

// apply gives each compared repository's newest image its diff against
// the baseline tag's image, records the repositories not compared as
// warnings, and drops the images audited only as baselines. It returns
// the errors that make the audit incomplete: a baseline with no image of
// the newest image's platform, or no repository compared at all.
func (d *registryDelta) apply(r *report.Report) []error {
	byRef := map[string][]int{}
	for i, img := range r.Images {
		for _, name := range append([]string{img.Reference}, img.AlsoKnownAs...) {
			ref, _, _ := strings.Cut(name, " (") // "REF (os/arch)" from an index
			byRef[ref] = append(byRef[ref], i)
		}
	}
	var errs []error
	compared := 0
	for _, rd := range d.repos {
		if rd.note == "" && rd.newest == "" {
			rd.newest, rd.note = d.newestCreated(r, rd, byRef)
		}
		if rd.note != "" {
			r.Warnings = append(r.Warnings, report.Warning{Kind: WarningNotCompared,
				Message: fmt.Sprintf("%s: not compared (--baseline-tag %s): %s", rd.repo, d.tag, rd.note)})
			continue
		}
		compared++
		baseRef := rd.repo + ":" + rd.baseline
		base := &report.Report{}
		for _, i := range byRef[baseRef] {
			base.Images = append(base.Images, r.Images[i])
		}
		// One image under both tags is compared with itself: nothing added.
		for _, i := range byRef[rd.repo+":"+rd.newest] {
			errs = append(errs, compareWith(base, baseRef, &r.Images[i]))
		}
	}
	d.dropExtra(r)
	if compared == 0 {
		errs = append(errs, fmt.Errorf("--baseline-tag %s: no repository could be compared", d.tag))
	}
	return errs
}

// newestCreated picks, among a repository's candidate tags, the one whose
// image (any platform) was created last; ties go to the tag listed first.
func (d *registryDelta) newestCreated(r *report.Report, rd repoDelta, byRef map[string][]int) (newest, note string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var best time.Time
	for _, t := range rd.candidates {
		for _, i := range byRef[rd.repo+":"+t] {
			img := r.Images[i]
			if img.Error != "" {
				continue
			}
			if c := d.created[img.Digest]; newest == "" || c.After(best) {
				newest, best = t, c
			}
		}
	}
	if newest == "" {
		return "", "none of its tags besides " + rd.baseline + " could be audited"
	}
	return newest, ""
}

// dropExtra removes the images audited only as baselines, and their names
// from the other images' AlsoKnownAs.
func (d *registryDelta) dropExtra(r *report.Report) {
	if len(d.extra) == 0 {
		return
	}
	extra := func(name string) bool {
		ref, _, _ := strings.Cut(name, " (")
		return slices.Contains(d.extra, ref)
	}
	r.Images = slices.DeleteFunc(r.Images, func(img report.Image) bool { return extra(img.Reference) })
	for i := range r.Images {
		if aka := slices.DeleteFunc(r.Images[i].AlsoKnownAs, extra); len(aka) > 0 {
			r.Images[i].AlsoKnownAs = aka
		} else {
			r.Images[i].AlsoKnownAs = nil
		}
	}
}
