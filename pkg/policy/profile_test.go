package policy_test

import (
	"testing"

	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

func TestGateProfile(t *testing.T) {
	hardened := policy.Profile{Name: "hardened", Checks: []string{"IA-SHELL", "IA-SETUID"}}
	f := func(id string, sev report.Severity) report.Finding { return report.Finding{ID: id, Severity: sev} }
	suppressed := f("IA-SHELL", report.Medium)
	suppressed.Suppressed = &report.Suppression{Reason: "r"}
	for _, tc := range []struct {
		name string
		g    policy.Gate
		f    report.Finding
		want bool
	}{
		{"profile check below fail-on", policy.Gate{FailOn: policy.FailNever, Profile: hardened}, f("IA-SHELL", report.Low), true},
		{"profile check, case", policy.Gate{FailOn: policy.FailNever, Profile: hardened}, f("ia-shell", report.Medium), true},
		{"profile check at info", policy.Gate{FailOn: policy.FailNever, Profile: hardened}, f("IA-SHELL", report.Info), false},
		{"other check below fail-on", policy.Gate{FailOn: policy.FailOnHigh, Profile: hardened}, f("IA-HEALTHCHECK", report.Medium), false},
		{"other check at fail-on", policy.Gate{FailOn: policy.FailOnHigh, Profile: hardened}, f("IA-ROOT-USER", report.High), true},
		{"suppressed", policy.Gate{FailOn: policy.FailOnInfo, Profile: hardened}, suppressed, false},
		{"no profile", policy.Gate{FailOn: policy.FailNever}, f("IA-SHELL", report.Critical), false},
	} {
		if got := tc.g.Fails(tc.f); got != tc.want {
			t.Errorf("%s: Fails = %v, want %v", tc.name, got, tc.want)
		}
	}

	r := &report.Report{Images: []report.Image{
		{Reference: "busybox", Findings: []report.Finding{f("IA-SHELL", report.Medium), f("IA-HEALTHCHECK", report.Low)}},
		{Reference: "static", Findings: []report.Finding{f("IA-HEALTHCHECK", report.Low)}},
	}}
	policy.EvaluateGate(r, nil, policy.Gate{FailOn: policy.FailNever, FailOnNew: policy.FailNever, Profile: hardened}, now)
	if r.Gate.Profile != "hardened" || r.Gate.FailOn != "none" || r.Gate.Verdict != report.Fail ||
		r.Images[0].Gate.Verdict != report.Fail || r.Images[0].Gate.Failing != 1 || r.Images[1].Gate.Verdict != report.Pass {
		t.Errorf("gate %+v, images %+v %+v", r.Gate, r.Images[0].Gate, r.Images[1].Gate)
	}
}

func TestPolicyFileProfile(t *testing.T) {
	p, err := policy.Parse("p.yaml", []byte("version: 1\nprofile: Hardened\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Profile != "hardened" || p.ProfileLine != 2 {
		t.Errorf("profile %q line %d", p.Profile, p.ProfileLine)
	}
	if err := p.CheckProfile([]string{"baseline", "hardened"}); err != nil {
		t.Error(err)
	}
	p, _ = policy.Parse("p.yaml", []byte("profile: strict\n"))
	if err := p.CheckProfile([]string{"baseline", "hardened"}); err == nil || err.Error() != `policy p.yaml:1: profile: unknown profile "strict" (known: baseline, hardened, none)` {
		t.Errorf("unknown profile: %v", err)
	}
}
