package output_test

import (
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/internal/schematest"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/report"
)

func workloadFixture() *report.Report {
	r := &report.Report{SchemaVersion: 1, Tool: report.Tool{Name: "imgaudit", Version: "dev"},
		Images: []report.Image{{Reference: "app:1", Digest: "sha256:aa"}}}
	r.Workloads = []report.Workload{{Kind: "Deployment", Namespace: "shop", Name: "web", File: "k8s/web.yaml", Line: 3,
		Containers: []report.Container{
			{Name: "app", Line: 17, Image: report.ImageRef{Reference: "app:1", Digest: "sha256:aa"},
				PodSecurity: report.PodSecurity{Level: "baseline", Violations: []report.PSSViolation{{Level: "restricted", Reason: "allowPrivilegeEscalation != false"}}},
				Findings: []report.Finding{
					{ID: "IW-START-NONNUMERIC-USER", Category: "start-failure", Severity: report.High, Title: "never starts", Detail: "non-numeric user (app)"},
					{ID: "IW-ROOT-IMAGE", Category: "effective-root", Severity: report.High, Title: "root image", Mitigated: true},
				}},
			{Name: "init", Init: true, Image: report.ImageRef{Reference: "gone:1", Error: "gone:1: not found"}},
		}}}
	return r
}

// TestWorkloadRenderers: json with workloads validates against docs/schema
// (lists never null), SARIF against the OASIS schema with each workload
// finding in its manifest at its container's line, and the table groups
// by workload.
func TestWorkloadRenderers(t *testing.T) {
	js, err := schematest.Compile(reportSchema)
	if err != nil {
		t.Fatal(err)
	}
	doc := render(t, output.FormatJSON, workloadFixture(), output.Options{})
	if err := schematest.Validate(js, doc); err != nil {
		t.Errorf("json: %v", err)
	}
	if !strings.Contains(string(doc), `"findings": []`) || !strings.Contains(string(doc), `"violations": []`) {
		t.Errorf("json lists are null:\n%s", doc)
	}
	ss, err := schematest.Compile(sarifSchema)
	if err != nil {
		t.Fatal(err)
	}
	sarif := render(t, output.FormatSARIF, workloadFixture(), output.Options{Rules: rules()})
	if err := schematest.Validate(ss, sarif); err != nil {
		t.Errorf("sarif: %v", err)
	}
	checkGitHubSARIF(t, "workloads", sarif)
	for _, want := range []string{`"uri": "k8s/web.yaml"`, `"startLine": 17`, `"justification": "mitigated by the pod spec"`} {
		if !strings.Contains(string(sarif), want) {
			t.Errorf("sarif lacks %s", want)
		}
	}
	table := string(render(t, output.FormatTable, workloadFixture(), output.Options{}))
	for _, want := range []string{"Workload: Deployment shop/web (k8s/web.yaml:3)", "IW-START-NONNUMERIC-USER", "(mitigated)", "image not audited: gone:1: not found"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
