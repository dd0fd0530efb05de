package policy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// deltaReport is one image with a shell it always had and, over its
// baseline, an added network tool (medium) and an added setuid file
// (high); a disabled check's finding was removed.
func deltaReport() *report.Report {
	shell := report.Finding{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Path: "/bin/sh"}
	curl := report.Finding{ID: "IA-NETWORK-TOOL", Category: "tool", Severity: report.Medium, Path: "/usr/bin/curl"}
	suid := report.Finding{ID: "IA-SETUID", Category: "privilege", Severity: report.High, Path: "/usr/local/bin/helper"}
	health := report.Finding{ID: "IA-HEALTHCHECK", Category: "config", Severity: report.Low}
	return &report.Report{Images: []report.Image{{
		Reference: "app:2",
		Findings:  []report.Finding{shell, curl, suid},
		Diff:      &report.Diff{Baseline: "app:1", Added: []report.Finding{curl, suid}, Removed: []report.Finding{health}, Unchanged: 1},
	}}}
}

// TestEvaluateGateNew: --fail-on-new counts only the added findings,
// suppressed ones never; --fail-on still counts everything.
func TestEvaluateGateNew(t *testing.T) {
	for _, tc := range []struct {
		name             string
		gate             policy.Gate
		policy           string
		verdict          report.Verdict
		failing, failNew int
		reasons          []string
	}{
		{"new at medium", policy.Gate{FailOn: policy.FailNever, FailOnNew: policy.FailOnMedium}, "", report.Fail, 0, 2,
			[]string{"new IA-SETUID: 1 high finding", "new IA-NETWORK-TOOL: 1 medium finding"}},
		{"new at critical", policy.Gate{FailOn: policy.FailNever, FailOnNew: policy.FailOnCritical}, "", report.Pass, 0, 0, nil},
		{"fail-on applies to everything", policy.Gate{FailOn: policy.FailOnMedium, FailOnNew: policy.FailOnCritical}, "", report.Fail, 3, 0,
			[]string{"IA-SETUID: 1 high finding", "IA-NETWORK-TOOL: 1 medium finding", "IA-SHELL: 1 medium finding"}},
		{"an ignored addition does not count", policy.Gate{FailOn: policy.FailNever, FailOnNew: policy.FailOnMedium},
			"ignore:\n  - check: IA-SETUID\n    reason: the helper is audited\n", report.Fail, 0, 1,
			[]string{"new IA-NETWORK-TOOL: 1 medium finding"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := deltaReport()
			var p *policy.Policy
			if tc.policy != "" {
				p = parse(t, tc.policy)
			}
			policy.EvaluateGate(r, p, tc.gate, now)
			want := &report.ImageGate{Verdict: tc.verdict, Failing: tc.failing, FailingNew: tc.failNew, Reasons: tc.reasons}
			if d := cmp.Diff(want, r.Images[0].Gate); d != "" {
				t.Errorf("image gate (-want +got)\n%s", d)
			}
			if r.Gate.FailOnNew != tc.gate.FailOnNew.String() || r.Gate.FailingNew != tc.failNew {
				t.Errorf("run gate %+v", r.Gate)
			}
		})
	}

	// A disabled check neither adds nor removes.
	r := deltaReport()
	policy.EvaluateGate(r, parse(t, "disable:\n  checks: [IA-HEALTHCHECK, IA-SETUID]\n"), policy.Gate{FailOn: policy.FailNever, FailOnNew: policy.FailOnInfo}, now)
	if d := r.Images[0].Diff; len(d.Removed) != 0 || len(d.Added) != 1 {
		t.Errorf("with disabled checks: added %v, removed %v", d.Added, d.Removed)
	}
	// Without a baseline the gate does not mention --fail-on-new.
	r = deltaReport()
	policy.Evaluate(r, nil, policy.FailOnCritical, now)
	if r.Gate.FailOnNew != "" || r.Gate.Verdict != report.Pass {
		t.Errorf("without FailOnNew: %+v", r.Gate)
	}
}
