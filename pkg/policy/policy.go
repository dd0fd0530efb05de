// Package policy reads imgaudit's policy file (.imgaudit.yaml) and applies
// it to a report: the gate threshold, checks and categories that are
// disabled, and ignores scoped by check or category, path glob and image
// glob, each with a required reason and an optional expiry date.
//
// A policy file looks like this:
//
//	version: 1
//	fail-on: high              # none, info, low, medium, high, critical
//	disable:
//	  checks: [IA-HEALTHCHECK]
//	  categories: [healthcheck]
//	ignore:
//	  - check: IA-SETUID        # or category: setuid
//	    path: /usr/bin/passwd   # optional glob; ** crosses directories
//	    image: registry.example.com/team/*   # optional glob
//	    reason: login needs it; tracked in SEC-123
//	    expires: 2026-06-30     # optional; the ignore applies through that day
//	  - check: IW-SA-TOKEN      # a workload cross-check (imgaudit workload)
//	    workload: kube-system/* # optional glob over NAMESPACE/NAME, or NAME
//	    container: istio-proxy  # optional glob over the container's name
//	    reason: the proxy reads its own pod through the API
//
// Unknown keys are errors, and every error names the file, the line and the
// field. An ignore past its expiry date stops applying, and [Policy.Apply]
// says so with a [Warning]. Suppressed findings stay in the report, marked
// with the ignore's reason, and never fail the gate ([Evaluate]).
//
// The workload cross-checks of imgaudit workload (IW-* IDs, and their
// categories) are disabled and ignored like the image checks. A container
// finding matches an ignore by check ID or category; path, when set, is
// matched against the image file the finding is about (IW-SETUID-ESCALATION,
// the file-capability checks); image against the image reference the
// container names (as the pod spec writes it); workload against the
// workload's NAMESPACE/NAME and its NAME alone (so "web" covers every
// namespace's web, "shop/*" every workload of namespace shop); container
// against the container's name. An ignore that names a workload or a
// container never matches an image's own findings.
package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// FileName is the policy file [Find] looks for.
const FileName = ".imgaudit.yaml"

// Policy is a parsed policy file. Build one with [Load], [Find] or [Parse].
type Policy struct {
	// File is where the policy was read from.
	File string
	// FailOn is the gate threshold the file sets; nil when it sets none.
	FailOn *Threshold
	// Profile is the gate profile the file names (lower case), "" when it
	// names none; ProfileLine is its line. The caller checks the name
	// against the profiles it knows ([Policy.CheckProfile]).
	Profile     string
	ProfileLine int
	// DisabledChecks and DisabledCategories are not reported.
	DisabledChecks     []string
	DisabledCategories []string
	// Ignores suppress matching findings, in file order; the first that
	// matches a finding wins.
	Ignores []Ignore
}

// Ignore suppresses the findings it matches. A finding matches when it has
// the ignore's check ID or category, one of its paths (the path or an
// alias) matches Path when Path is set, and its image reference matches
// Image when Image is set.
type Ignore struct {
	// Check is a check ID; Category a category. Exactly one is set.
	Check    string
	Category string
	// Path is a glob over absolute paths in the image, "" for any.
	Path string
	// Image is a glob over image references, "" for any. It is matched
	// against the reference as given and without its tag or digest, so
	// "registry.example.com/team/app" covers every tag of that repository.
	// For a workload finding it is the reference the container names.
	Image string
	// Workload is a glob over a workload's NAMESPACE/NAME and NAME, ""
	// for any; Container a glob over a container's name, "" for any. An
	// ignore with either set matches workload findings only.
	Workload  string
	Container string
	// Reason says why the finding is accepted. Required.
	Reason string
	// Expires is the last day (YYYY-MM-DD, UTC) the ignore applies; "" for
	// never.
	Expires string
	// Line is the ignore's line in the policy file.
	Line int

	expires   time.Time // start of the day after Expires
	path      *glob
	image     *glob
	workload  *glob
	container *glob
}

// Warning is a problem with the policy that does not stop the run.
type Warning struct {
	// Kind is "expired-ignore", "invalid-ignore" or "unused-ignore".
	Kind    string
	File    string
	Line    int
	Message string
}

// String formats the warning as FILE:LINE: MESSAGE.
func (w Warning) String() string {
	return fmt.Sprintf("%s: %s", location(w.File, w.Line), w.Message)
}

// Error is an invalid policy file: where, which field, and what is wrong.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("policy ")
	b.WriteString(location(e.File, e.Line))
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func location(file string, line int) string {
	if file == "" {
		file = FileName
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// Load reads and parses the policy file at path.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return Parse(path, b)
}

// Find loads the policy file FileName in dir. It returns nil and no error
// when dir has none.
func Find(dir string) (*Policy, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return Parse(path, b)
}

// CheckProfile returns an error naming the file and line when the
// profile the file names is not one of names ("none" is always known).
func (p *Policy) CheckProfile(names []string) error {
	if p == nil || p.Profile == "" || p.Profile == "none" || slices.Contains(names, p.Profile) {
		return nil
	}
	return &Error{File: p.File, Line: p.ProfileLine, Field: "profile",
		Msg: fmt.Sprintf("unknown profile %q (known: %s, none)", p.Profile, strings.Join(names, ", "))}
}

// Validate checks the check IDs and categories the policy names against the
// catalogue: a name the catalogue does not know is most likely a typo, and
// an ignore or a disable that silently matches nothing is worse than an
// error. Names are compared without regard to case. The caller passes the
// whole catalogue: the image checks and the workload cross-checks (IW-*)
// with their categories. An ignore that scopes an image check (not IW-*)
// to a workload or a container is an error too: it could match nothing.
func (p *Policy) Validate(checkIDs, categories []string) error {
	if p == nil {
		return nil
	}
	known := func(list []string, s string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
	}
	bad := func(line int, field, kind, name string, list []string) error {
		return &Error{File: p.File, Line: line, Field: field,
			Msg: fmt.Sprintf("unknown %s %q (see 'imgaudit checks'; known: %s)", kind, name, strings.Join(list, ", "))}
	}
	for _, id := range p.DisabledChecks {
		if !known(checkIDs, id) {
			return bad(0, "disable.checks", "check", id, checkIDs)
		}
	}
	for _, c := range p.DisabledCategories {
		if !known(categories, c) {
			return bad(0, "disable.categories", "category", c, categories)
		}
	}
	for i, ig := range p.Ignores {
		if ig.Check != "" && !known(checkIDs, ig.Check) {
			return bad(ig.Line, fmt.Sprintf("ignore[%d].check", i), "check", ig.Check, checkIDs)
		}
		if ig.Category != "" && !known(categories, ig.Category) {
			return bad(ig.Line, fmt.Sprintf("ignore[%d].category", i), "category", ig.Category, categories)
		}
		if (ig.Workload != "" || ig.Container != "") && ig.Check != "" && !IsWorkloadCheck(ig.Check) {
			field := "workload"
			if ig.Workload == "" {
				field = "container"
			}
			return &Error{File: p.File, Line: ig.Line, Field: fmt.Sprintf("ignore[%d].%s", i, field),
				Msg: fmt.Sprintf("%s is an image check: %s scopes only the workload cross-checks (IW-*), so this ignore would match nothing", ig.Check, field)}
		}
	}
	return nil
}

// IsWorkloadCheck reports whether id names a workload cross-check of
// imgaudit workload (IW-*), whose findings are about a container.
func IsWorkloadCheck(id string) bool {
	return len(id) > 3 && strings.EqualFold(id[:3], "IW-")
}

// Apply filters r with the policy: it drops the findings of disabled checks
// and categories, marks the findings an active ignore matches as
// suppressed, records the policy in r.Policy, appends a warning to
// r.Warnings for each ignore past its expiry date (as of now), and
// recomputes r.Summary. It returns the warnings, for the caller to print.
// A nil policy changes nothing.
func (p *Policy) Apply(r *report.Report, now time.Time) []Warning {
	if p == nil {
		return nil
	}
	var warns []Warning
	active := make([]*Ignore, 0, len(p.Ignores))
	for i := range p.Ignores {
		ig := &p.Ignores[i]
		if err := ig.compile(); err != nil {
			warns = append(warns, Warning{Kind: "invalid-ignore", File: p.File, Line: ig.Line,
				Message: fmt.Sprintf("ignore of %s does not apply: %v", ig.subject(), err)})
			continue
		}
		if ig.Expired(now) {
			warns = append(warns, Warning{Kind: "expired-ignore", File: p.File, Line: ig.Line,
				Message: fmt.Sprintf("ignore of %s expired on %s and no longer applies (reason was: %s)", ig.subject(), ig.Expires, ig.Reason)})
			continue
		}
		active = append(active, ig)
	}

	used := map[*Ignore]bool{}
	audited := false // whether any image or container could have matched
	for i := range r.Images {
		img := &r.Images[i]
		audited = audited || img.Error == ""
		img.Findings = p.filter(img.Reference, img.Findings, active, used)
		if img.Diff != nil {
			// The delta is filtered as the findings are: a disabled check
			// neither adds nor removes, an ignore suppresses an added one.
			img.Diff.Added = p.filter(img.Reference, img.Diff.Added, active, used)
			img.Diff.Removed = p.filter(img.Reference, img.Diff.Removed, active, used)
		}
	}
	for i := range r.Workloads {
		wl := &r.Workloads[i]
		for j := range wl.Containers {
			c := &wl.Containers[j]
			c.Findings = p.filterFunc(c.Findings, active, used, func(ig *Ignore, f report.Finding) bool {
				return ig.matchesContainer(wl, c, f)
			})
		}
	}
	if audited {
		// An ignore that matches nothing is a typo, a finding fixed long
		// ago, or a scope that names the wrong image: say so, so that it
		// is removed before it hides something new.
		for _, ig := range active {
			if !used[ig] {
				warns = append(warns, Warning{Kind: "unused-ignore", File: p.File, Line: ig.Line,
					Message: fmt.Sprintf("ignore of %s matched no finding in this run", ig.subject())})
			}
		}
	}

	r.Policy = &report.PolicyRef{
		File:               p.File,
		DisabledChecks:     slices.Clone(p.DisabledChecks),
		DisabledCategories: slices.Clone(p.DisabledCategories),
	}
	for _, w := range warns {
		r.Warnings = append(r.Warnings, report.Warning{Kind: w.Kind, Message: w.String()})
	}
	r.Summarize()
	return warns
}

// filter drops the findings of disabled checks from fs (in place) and
// marks those an active ignore matches as suppressed.
func (p *Policy) filter(ref string, fs []report.Finding, active []*Ignore, used map[*Ignore]bool) []report.Finding {
	return p.filterFunc(fs, active, used, func(ig *Ignore, f report.Finding) bool { return ig.matches(ref, f) })
}

// filterFunc is filter with the matching rule given. used records the
// ignores that match a finding (or suppressed it in an earlier Apply).
func (p *Policy) filterFunc(fs []report.Finding, active []*Ignore, used map[*Ignore]bool, matches func(*Ignore, report.Finding) bool) []report.Finding {
	kept := fs[:0]
	for _, f := range fs {
		if p.disabled(f) {
			continue
		}
		for _, ig := range active {
			switch {
			case f.Suppressed != nil && f.Suppressed.Policy == location(p.File, ig.Line):
				used[ig] = true
			case f.Suppressed == nil && matches(ig, f):
				f.Suppressed = &report.Suppression{Reason: ig.Reason, Expires: ig.Expires, Policy: location(p.File, ig.Line)}
				used[ig] = true
			}
		}
		kept = append(kept, f)
	}
	return kept
}

func (p *Policy) disabled(f report.Finding) bool {
	eq := func(s string) func(string) bool { return func(x string) bool { return strings.EqualFold(x, s) } }
	return slices.ContainsFunc(p.DisabledChecks, eq(f.ID)) || slices.ContainsFunc(p.DisabledCategories, eq(f.Category))
}

// Expired reports whether the ignore's last day is before now's day (UTC).
func (ig *Ignore) Expired(now time.Time) bool {
	if ig.Expires == "" {
		return false
	}
	if ig.expires.IsZero() {
		d, err := time.Parse(time.DateOnly, ig.Expires)
		if err != nil {
			return true // an unreadable date never extends an ignore
		}
		ig.expires = d.AddDate(0, 0, 1)
	}
	return !now.UTC().Before(ig.expires)
}

func (ig *Ignore) compile() error {
	var err error
	if ig.Path != "" && ig.path == nil {
		if ig.path, err = compileGlob(ig.Path); err != nil {
			return err
		}
	}
	if ig.Image != "" && ig.image == nil {
		if ig.image, err = compileGlob(ig.Image); err != nil {
			return err
		}
	}
	if ig.Workload != "" && ig.workload == nil {
		if ig.workload, err = compileGlob(ig.Workload); err != nil {
			return err
		}
	}
	if ig.Container != "" && ig.container == nil {
		if ig.container, err = compileGlob(ig.Container); err != nil {
			return err
		}
	}
	return nil
}

// subject names what the ignore covers, for messages.
func (ig *Ignore) subject() string {
	s := ig.Check
	if s == "" {
		s = "category " + ig.Category
	}
	if ig.Path != "" {
		s += " at " + ig.Path
	}
	if ig.Image != "" {
		s += " in " + ig.Image
	}
	if ig.Workload != "" {
		s += " of workload " + ig.Workload
	}
	if ig.Container != "" {
		s += " of container " + ig.Container
	}
	return s
}

// matches reports whether the ignore matches an image's finding (ref is
// the image's reference).
func (ig *Ignore) matches(ref string, f report.Finding) bool {
	if ig.Workload != "" || ig.Container != "" {
		return false
	}
	return ig.matchFinding(ref, f)
}

// matchesContainer reports whether the ignore matches a finding of
// container c of workload wl.
func (ig *Ignore) matchesContainer(wl *report.Workload, c *report.Container, f report.Finding) bool {
	if ig.workload != nil {
		forms := []string{wl.Name}
		if wl.Namespace != "" {
			forms = append(forms, wl.Namespace+"/"+wl.Name)
		}
		if !slices.ContainsFunc(forms, ig.workload.match) {
			return false
		}
	}
	if ig.container != nil && !ig.container.match(c.Name) {
		return false
	}
	return ig.matchFinding(c.Image.Reference, f)
}

func (ig *Ignore) matchFinding(ref string, f report.Finding) bool {
	switch {
	case ig.Check != "" && !strings.EqualFold(ig.Check, f.ID):
		return false
	case ig.Category != "" && !strings.EqualFold(ig.Category, f.Category):
		return false
	case ig.Check == "" && ig.Category == "":
		return false
	}
	if ig.path != nil {
		if f.Path == "" {
			return false
		}
		if !ig.path.match(f.Path) && !slices.ContainsFunc(f.Aliases, ig.path.match) {
			return false
		}
	}
	if ig.image != nil && !slices.ContainsFunc(refForms(ref), ig.image.match) {
		return false
	}
	return true
}

// refForms returns the forms of an image reference an image glob is matched
// against: as shown (a platform picked from an index is shown as
// "REF (os/arch)"), without the platform, and without tag or digest.
func refForms(ref string) []string {
	forms := []string{ref}
	if i := strings.LastIndex(ref, " ("); i > 0 && strings.HasSuffix(ref, ")") {
		ref = ref[:i]
		forms = append(forms, ref)
	}
	if repo := Repository(ref); repo != ref {
		forms = append(forms, repo)
	}
	return forms
}

// Repository strips the tag and digest from an image reference:
// "registry:5000/team/app:1.2@sha256:..." gives "registry:5000/team/app".
func Repository(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}
