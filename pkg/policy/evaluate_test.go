package policy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestEvaluate: the verdict of each image and of the run, with reasons,
// at every threshold; suppressed findings never count; an image that could
// not be scanned makes the run incomplete whatever the threshold.
func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		t       policy.Threshold
		images  []report.Verdict
		verdict report.Verdict
		failing int
	}{
		{policy.FailOnHigh, []report.Verdict{report.Fail, report.Fail, report.Fail}, report.Fail, 5},
		{policy.FailOnMedium, []report.Verdict{report.Fail, report.Fail, report.Fail}, report.Fail, 7},
		{policy.FailOnCritical, []report.Verdict{report.Pass, report.Pass, report.Pass}, report.Pass, 0},
		{policy.FailNever, []report.Verdict{report.Pass, report.Pass, report.Pass}, report.Pass, 0},
	} {
		r := testReport()
		if warns := policy.Evaluate(r, nil, tc.t, now); warns != nil {
			t.Errorf("%s: warnings %v without a policy", tc.t, warns)
		}
		var got []report.Verdict
		for _, img := range r.Images {
			got = append(got, img.Gate.Verdict)
		}
		if d := cmp.Diff(tc.images, got); d != "" {
			t.Errorf("%s: image verdicts (-want +got)\n%s", tc.t, d)
		}
		want := &report.Gate{FailOn: tc.t.String(), Failed: tc.failing > 0, Verdict: tc.verdict, Failing: tc.failing}
		if d := cmp.Diff(want, r.Gate); d != "" {
			t.Errorf("%s: gate (-want +got)\n%s", tc.t, d)
		}
	}

	r := testReport()
	policy.Evaluate(r, nil, policy.FailOnMedium, now)
	want := &report.ImageGate{Verdict: report.Fail, Failing: 4, Reasons: []string{
		"IA-ROOT-USER: 1 high finding", "IA-SETUID: 2 high findings", "IA-SHELL: 1 medium finding"}}
	if d := cmp.Diff(want, r.Images[0].Gate); d != "" {
		t.Errorf("reasons (-want +got)\n%s", d)
	}

	// A policy's suppressions and disables apply before the verdict.
	p := parse(t, "disable:\n  categories: [shell]\nignore:\n  - check: IA-SETUID\n    reason: login needs it\n")
	r = testReport()
	policy.Evaluate(r, p, policy.FailOnMedium, now)
	if g := r.Images[0].Gate; g.Verdict != report.Fail || g.Failing != 1 || r.Images[2].Gate.Verdict != report.Pass {
		t.Errorf("with the policy: %+v, %+v", g, r.Images[2].Gate)
	}
	if r.Summary.Suppressed != 4 || r.Policy == nil {
		t.Errorf("summary %+v, policy %+v", r.Summary, r.Policy)
	}

	// An incomplete image makes the run incomplete, even at "none".
	for _, th := range []policy.Threshold{policy.FailOnHigh, policy.FailNever} {
		r = testReport()
		r.Images = append(r.Images, report.Image{Reference: "broken", Error: "broken: unexpected EOF"})
		policy.Evaluate(r, nil, th, now)
		g := r.Images[3].Gate
		if g.Verdict != report.Incomplete || len(g.Reasons) != 1 || r.Gate.Verdict != report.Incomplete || r.Gate.Incomplete != 1 {
			t.Errorf("%s: image %+v, run %+v", th, g, r.Gate)
		}
		if r.Gate.Failed != (th == policy.FailOnHigh) {
			t.Errorf("%s: Failed %v counts findings only", th, r.Gate.Failed)
		}
	}

	// The fleet summary counts the images the verdicts fail.
	r = testReport()
	r.Images = append(r.Images, report.Image{Reference: "broken", Error: "broken: unexpected EOF"})
	policy.Evaluate(r, nil, policy.FailOnCritical, now)
	r.ComputeFleet(report.FleetTop)
	if r.Summary.Fleet.ImagesFailing != 1 {
		t.Errorf("fleet: %d images failing, want the incomplete one", r.Summary.Fleet.ImagesFailing)
	}
}

// TestEvaluateWorkloads: a workload run gates on its workloads' findings;
// mitigated and suppressed ones never count, image findings are evidence
// only, and a container whose image was not audited makes its workload and
// the run incomplete.
func TestEvaluateWorkloads(t *testing.T) {
	f := func(id string, s report.Severity, mitigated bool) report.Finding {
		return report.Finding{ID: id, Severity: s, Mitigated: mitigated}
	}
	mk := func() *report.Report {
		return &report.Report{
			Images: []report.Image{{Reference: "img", Findings: []report.Finding{f("IA-USER-ROOT", report.High, false)}}},
			Workloads: []report.Workload{
				{Name: "mitigated", Containers: []report.Container{{Findings: []report.Finding{f("IW-ROOT-IMAGE", report.High, true), f("IW-SA-TOKEN", report.Low, false)}}}},
				{Name: "failing", Containers: []report.Container{{Findings: []report.Finding{f("IW-START-IMAGE-ROOT", report.High, false)}}}},
			},
		}
	}
	r := mk()
	policy.Evaluate(r, nil, policy.FailOnHigh, now)
	want := &report.Gate{FailOn: "high", Failed: true, Verdict: report.Fail, Failing: 1}
	if d := cmp.Diff(want, r.Gate); d != "" {
		t.Errorf("gate (-want +got)\n%s", d)
	}
	if r.Workloads[0].Gate.Verdict != report.Pass || r.Workloads[1].Gate.Verdict != report.Fail ||
		!cmp.Equal(r.Workloads[1].Gate.Reasons, []string{"IW-START-IMAGE-ROOT: 1 high finding"}) {
		t.Errorf("workload gates %+v %+v", r.Workloads[0].Gate, r.Workloads[1].Gate)
	}
	if r.Images[0].Gate.Verdict != report.Fail {
		t.Errorf("the image keeps its own verdict: %+v", r.Images[0].Gate)
	}

	r = mk()
	r.Workloads[0].Containers[0].Image.Error = "img: not found"
	policy.Evaluate(r, nil, policy.FailNever, now)
	if r.Gate.Verdict != report.Incomplete || r.Gate.Incomplete != 1 || r.Workloads[0].Gate.Verdict != report.Incomplete {
		t.Errorf("gate %+v, workload %+v", r.Gate, r.Workloads[0].Gate)
	}
}
