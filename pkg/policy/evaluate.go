package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// Evaluate is imgaudit's gate, the one function that decides verdicts. It
// applies p to r (see [Policy.Apply]; a nil policy changes no finding),
// recomputes r.Summary, and writes into r each image's verdict
// (report.Image.Gate) and the run's verdict (report.Report.Gate), which the
// fleet summary ([report.Report.ComputeFleet]) then reads. It returns the
// policy's warnings, for the caller to print.
//
// An image fails when it has an unsuppressed finding at or above t; an
// image that could not be scanned completely is incomplete whatever its
// findings, and so is a run with such an image. A workload report
// (r.Workloads non-nil) is gated on its workloads instead (each gets its
// report.Workload.Gate): a finding of a container counts unless it is
// suppressed or mitigated, and a container whose image was not audited
// makes its workload and the run incomplete; the images keep their own
// verdicts as evidence. Renderers and the exit code only read what
// Evaluate wrote.
func Evaluate(r *report.Report, p *Policy, t Threshold, now time.Time) []Warning {
	return EvaluateGate(r, p, Gate{FailOn: t, FailOnNew: FailNever}, now)
}

// Gate is the input of the verdict: the thresholds and the profile.
type Gate struct {
	// FailOn applies to every finding of an image.
	FailOn Threshold
	// FailOnNew applies to the findings an image added over its baseline
	// (report.Image.Diff.Added); FailNever when there is no baseline.
	FailOnNew Threshold
	// Profile, when it has a name, fails an image on any finding of its
	// checks at low severity or above, whatever FailOn says.
	Profile Profile
}

// Profile is a named set of checks (checks.Profiles describes them; this
// package only applies them).
type Profile struct {
	Name   string
	Checks []string
}

// Fails reports whether finding f fails the gate's FailOn or its profile:
// never when it is suppressed.
func (g Gate) Fails(f report.Finding) bool {
	if f.Suppressed != nil {
		return false
	}
	return g.FailOn.Fails(f.Severity) || g.Profile.fails(f)
}

// fails reports whether f is a finding of one of p's checks at low or
// above.
func (p Profile) fails(f report.Finding) bool {
	return p.Name != "" && f.Severity >= report.Low && slices.ContainsFunc(p.Checks, func(id string) bool {
		return strings.EqualFold(id, f.ID)
	})
}

// EvaluateGate is [Evaluate] with both thresholds: an image also fails
// when its diff adds an unsuppressed finding at or above gt.FailOnNew.
// The report's gate records FailOnNew only when it can fail.
func EvaluateGate(r *report.Report, p *Policy, gt Gate, now time.Time) []Warning {
	t := gt.FailOn
	warns := p.Apply(r, now)
	r.Summarize()
	g := &report.Gate{FailOn: t.String(), Profile: gt.Profile.Name}
	if gt.FailOnNew < FailNever {
		g.FailOnNew = gt.FailOnNew.String()
	}
	for i := range r.Images {
		r.Images[i].Gate = imageGate(r.Images[i], gt)
	}
	r.TallyGate(g)
	if r.Workloads != nil {
		// A workload run gates on its workloads: the images are their
		// evidence (each keeps its own verdict above), and an image finding
		// the pod spec neutralises is there as a mitigated workload finding.
		g.Failing, g.Incomplete = 0, 0
		for i := range r.Workloads {
			wl := &r.Workloads[i]
			wl.Gate = workloadGate(*wl, t)
			g.Failing += wl.Gate.Failing
			if wl.Gate.Verdict == report.Incomplete {
				g.Incomplete++
			}
		}
	}
	g.SetVerdict()
	r.Gate = g
	return warns
}

// workloadGate decides one workload's verdict: incomplete when one of its
// images could not be audited (the reasons say which, then name the
// findings that fail already), else fail when a finding of its containers
// that is neither suppressed nor mitigated is at or above t.
func workloadGate(wl report.Workload, t Threshold) *report.ImageGate {
	g := &report.ImageGate{Verdict: report.Pass}
	var failing []report.Finding
	for _, c := range wl.Containers {
		if c.Image.Error != "" {
			g.Reasons = append(g.Reasons, fmt.Sprintf("container %s: image not audited: %s", c.Name, c.Image.Error))
		}
		for _, f := range c.Findings {
			if f.Suppressed == nil && !f.Mitigated && t.Fails(f.Severity) {
				failing = append(failing, f)
			}
		}
	}
	g.Failing = len(failing)
	switch {
	case len(g.Reasons) > 0:
		// Incomplete whatever the findings; those that fail already are
		// named after why.
		g.Verdict = report.Incomplete
		g.Reasons = append(g.Reasons, failReasons(failing)...)
	case len(failing) > 0:
		g.Verdict = report.Fail
		g.Reasons = failReasons(failing)
	}
	return g
}

// imageGate decides one image's verdict.
func imageGate(img report.Image, t Gate) *report.ImageGate {
	var failing []report.Finding
	for _, f := range img.Findings {
		if t.Fails(f) {
			failing = append(failing, f)
		}
	}
	var failingNew []report.Finding
	if img.Diff != nil {
		failingNew = failingIn(img.Diff.Added, t.FailOnNew)
	}
	g := &report.ImageGate{Verdict: report.Pass, Failing: len(failing), FailingNew: len(failingNew)}
	switch {
	case img.Error != "":
		g.Verdict = report.Incomplete
		g.Reasons = []string{"scan incomplete, image not assessed: " + img.Error}
	case len(failing) > 0 || len(failingNew) > 0:
		g.Verdict = report.Fail
		g.Reasons = failReasons(failing)
		for _, r := range failReasons(failingNew) {
			g.Reasons = append(g.Reasons, "new "+r)
		}
	}
	return g
}

// failReasons names each failing check with its count and severity, worst
// first: "IA-SHELL: 2 medium findings".
func failReasons(fs []report.Finding) []string {
	type key struct {
		id  string
		sev report.Severity
	}
	counts := map[key]int{}
	var keys []key
	for _, f := range fs {
		k := key{f.ID, f.Severity}
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(b.sev, a.sev); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		word := "findings"
		if counts[k] == 1 {
			word = "finding"
		}
		out = append(out, fmt.Sprintf("%s: %d %s %s", k.id, counts[k], k.sev, word))
	}
	return out
}
