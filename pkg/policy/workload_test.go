package policy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// workloadCatalogue is what the CLI validates a policy against: the image
// checks (two stand for them here) and the workload cross-checks.
func workloadCatalogue() (ids, cats []string) {
	ids, cats = []string{"IA-SETUID", "IA-SHELL"}, []string{"setuid", "shell"}
	for _, c := range workload.Checks() {
		ids = append(ids, c.ID)
		if !slices.Contains(cats, string(c.Category)) {
			cats = append(cats, string(c.Category))
		}
	}
	return ids, cats
}

func wlFinding(id, cat string, sev report.Severity, path string) report.Finding {
	return report.Finding{ID: id, Category: cat, Severity: sev, Title: id, Path: path}
}

// workloadReport: two workloads over one image; the image's own finding
// and the containers' cross-check findings.
func workloadReport() *report.Report {
	img := report.Image{Reference: "registry.example.com/shop/web:1", Digest: "sha256:aa",
		Findings: []report.Finding{wlFinding("IA-SETUID", "setuid", report.High, "/usr/bin/su")}}
	web := report.Workload{Kind: "Deployment", Namespace: "shop", Name: "web", Containers: []report.Container{
		{Name: "app", Image: report.ImageRef{Reference: "registry.example.com/shop/web:1", Digest: "sha256:aa"}, Findings: []report.Finding{
			wlFinding("IW-SETUID-ESCALATION", "privilege-escalation", report.High, "/usr/bin/su"),
			wlFinding("IW-SA-TOKEN", "service-account-token", report.Low, ""),
			wlFinding("IW-SECCOMP-UNCONFINED", "seccomp", report.Medium, ""),
			{ID: "IW-ROOT-IMAGE", Category: "effective-root", Severity: report.High, Mitigated: true},
		}},
		{Name: "istio-proxy", Image: report.ImageRef{Reference: "istio/proxyv2:1.22", Digest: "sha256:bb"}, Findings: []report.Finding{
			wlFinding("IW-SA-TOKEN", "service-account-token", report.Low, ""),
		}},
	}}
	batch := report.Workload{Kind: "CronJob", Name: "report", Containers: []report.Container{
		{Name: "app", Image: report.ImageRef{Reference: "registry.example.com/shop/web:1", Digest: "sha256:aa"}, Findings: []report.Finding{
			wlFinding("IW-SETUID-ESCALATION", "privilege-escalation", report.High, "/usr/bin/su"),
			wlFinding("IW-SA-TOKEN", "service-account-token", report.Low, ""),
			wlFinding("IW-HOSTPATH", "host-access", report.High, ""),
		}},
	}}
	return &report.Report{Images: []report.Image{img}, Workloads: []report.Workload{web, batch}}
}

// wlSuppressed lists "workload/container/ID@path" of the suppressed findings,
// and of every finding of the image (prefixed "image/").
func wlSuppressed(r *report.Report) []string {
	var out []string
	for _, img := range r.Images {
		for _, f := range img.Findings {
			if f.Suppressed != nil {
				out = append(out, "image/"+f.ID)
			}
		}
	}
	for _, wl := range r.Workloads {
		for _, c := range wl.Containers {
			for _, f := range c.Findings {
				if f.Suppressed != nil {
					out = append(out, wl.Name+"/"+c.Name+"/"+f.ID+"@"+f.Path)
				}
			}
		}
	}
	return out
}

func TestWorkloadIgnores(t *testing.T) {
	tests := []struct {
		name, ignore string
		want         []string
	}{
		{"by check", "check: IW-SA-TOKEN", []string{"web/app/IW-SA-TOKEN@", "web/istio-proxy/IW-SA-TOKEN@", "report/app/IW-SA-TOKEN@"}},
		{"by category", "category: service-account-token", []string{"web/app/IW-SA-TOKEN@", "web/istio-proxy/IW-SA-TOKEN@", "report/app/IW-SA-TOKEN@"}},
		{"check ID case", "check: iw-sa-token\n    container: istio-*", []string{"web/istio-proxy/IW-SA-TOKEN@"}},
		{"namespace/name", "check: IW-SA-TOKEN\n    workload: shop/web", []string{"web/app/IW-SA-TOKEN@", "web/istio-proxy/IW-SA-TOKEN@"}},
		{"namespace glob", "check: IW-SA-TOKEN\n    workload: shop/*", []string{"web/app/IW-SA-TOKEN@", "web/istio-proxy/IW-SA-TOKEN@"}},
		{"name in any namespace", "check: IW-SA-TOKEN\n    workload: report", []string{"report/app/IW-SA-TOKEN@"}},
		{"other namespace", "check: IW-SA-TOKEN\n    workload: prod/web", nil},
		{"workload and container", "check: IW-SA-TOKEN\n    workload: web\n    container: app", []string{"web/app/IW-SA-TOKEN@"}},
		{"path", "check: IW-SETUID-ESCALATION\n    path: /usr/bin/*", []string{"web/app/IW-SETUID-ESCALATION@/usr/bin/su", "report/app/IW-SETUID-ESCALATION@/usr/bin/su"}},
		{"path never matches a finding without one", "check: IW-SA-TOKEN\n    path: /**", nil},
		{"image of the container", "check: IW-SA-TOKEN\n    image: istio/proxyv2", []string{"web/istio-proxy/IW-SA-TOKEN@"}},
		// the image check's own finding is suppressed, the cross-check's is not
		{"image check", "check: IA-SETUID", []string{"image/IA-SETUID"}},
		{"expired", "check: IW-SA-TOKEN\n    expires: 2025-06-14", nil},
		{"last day", "check: IW-HOSTPATH\n    expires: 2025-06-15", []string{"report/app/IW-HOSTPATH@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "ignore:\n  - "+tt.ignore+"\n    reason: accepted\n")
			ids, cats := workloadCatalogue()
			if err := p.Validate(ids, cats); err != nil {
				t.Fatal(err)
			}
			r := workloadReport()
			p.Apply(r, now)
			if d := cmp.Diff(tt.want, wlSuppressed(r)); d != "" {
				t.Errorf("suppressed (-want +got):\n%s", d)
			}
		})
	}
}

func TestWorkloadSuppressedRecord(t *testing.T) {
	p := parse(t, "ignore:\n  - check: IW-HOSTPATH\n    workload: report\n    reason: reads the node's logs\n    expires: 2026-01-31\n")
	r := workloadReport()
	p.Apply(r, now)
	got := r.Workloads[1].Containers[0].Findings[2].Suppressed
	want := &report.Suppression{Reason: "reads the node's logs", Expires: "2026-01-31", Policy: "p.yaml:2"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestWorkloadDisable(t *testing.T) {
	p := parse(t, "disable:\n  checks: [IW-SA-TOKEN]\n  categories: [host-access]\n")
	ids, cats := workloadCatalogue()
	if err := p.Validate(ids, cats); err != nil {
		t.Fatal(err)
	}
	r := workloadReport()
	p.Apply(r, now)
	var left []string
	for _, wl := range r.Workloads {
		for _, c := range wl.Containers {
			for _, f := range c.Findings {
				left = append(left, wl.Name+"/"+c.Name+"/"+f.ID)
			}
		}
	}
	want := []string{"web/app/IW-SETUID-ESCALATION", "web/app/IW-SECCOMP-UNCONFINED", "web/app/IW-ROOT-IMAGE", "report/app/IW-SETUID-ESCALATION"}
	if d := cmp.Diff(want, left); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestWorkloadValidate(t *testing.T) {
	ids, cats := workloadCatalogue()
	for _, tt := range []struct{ body, err string }{
		{"disable:\n  checks: [IW-PRIVILEGED, iw-hostpath]\n", ""},
		{"disable:\n  categories: [start-failure]\n", ""},
		{"disable:\n  checks: [IW-NOPE]\n", `disable.checks: unknown check "IW-NOPE"`},
		{"ignore:\n  - check: IW-SA-TOKN\n    reason: r\n", `ignore[0].check: unknown check "IW-SA-TOKN"`},
		{"ignore:\n  - category: host-acess\n    reason: r\n", `ignore[0].category: unknown category "host-acess"`},
		{"ignore:\n  - check: IA-SHELL\n    workload: web\n    reason: r\n", "p.yaml:2: ignore[0].workload: IA-SHELL is an image check"},
		{"ignore:\n  - check: IA-SHELL\n    container: app\n    reason: r\n", "ignore[0].container: IA-SHELL is an image check"},
		{"ignore:\n  - category: host-access\n    container: app\n    reason: r\n", ""},
	} {
		err := parse(t, tt.body).Validate(ids, cats)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.body, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want %q", tt.body, err, tt.err)
		}
	}
	if _, err := policy.Parse("p.yaml", []byte("ignore:\n  - check: IW-SA-TOKEN\n    workload: \"[a\"\n    reason: r\n")); err == nil ||
		!strings.Contains(err.Error(), "p.yaml:3: ignore[0].workload") {
		t.Errorf("bad workload glob: %v", err)
	}
}

// TestWorkloadGateSuppressed: a suppressed workload finding never fails
// the gate, and the summary counts the workload findings, mitigated and
// suppressed ones apart.
func TestWorkloadGateSuppressed(t *testing.T) {
	r := workloadReport()
	policy.EvaluateGate(r, nil, policy.Gate{FailOn: policy.FailOnHigh, FailOnNew: policy.FailNever}, now)
	if r.Gate.Verdict != report.Fail || r.Gate.Failing != 3 {
		t.Fatalf("without policy: %+v", r.Gate)
	}
	p := parse(t, `ignore:
  - check: IW-SETUID-ESCALATION
    reason: su is needed by the entrypoint
  - check: IW-HOSTPATH
    workload: report
    reason: reads the node's logs
`)
	r = workloadReport()
	policy.EvaluateGate(r, p, policy.Gate{FailOn: policy.FailOnHigh, FailOnNew: policy.FailNever}, now)
	if r.Gate.Verdict != report.Pass || r.Gate.Failing != 0 {
		t.Fatalf("with policy: %+v", r.Gate)
	}
	for _, wl := range r.Workloads {
		if wl.Gate.Verdict != report.Pass {
			t.Errorf("%s: %+v", wl.Name, wl.Gate)
		}
	}
	// The image keeps its own verdict: its IA-SETUID is not ignored.
	if r.Images[0].Gate.Verdict != report.Fail {
		t.Errorf("image: %+v", r.Images[0].Gate)
	}
	want := &report.WorkloadSummary{Workloads: 2, Containers: 3, Findings: 4,
		BySeverity: map[report.Severity]int{report.Low: 3, report.Medium: 1},
		ByCategory: map[string]int{"service-account-token": 3, "seccomp": 1},
		Mitigated:  1, Suppressed: 3}
	if d := cmp.Diff(want, r.Summary.Workloads); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	if r.Summary.Findings != 1 || r.Summary.Suppressed != 0 {
		t.Errorf("image summary: %+v", r.Summary)
	}
}
