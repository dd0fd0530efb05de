package output_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/imgaudit/imgaudit/internal/schematest"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

func workloadFixture() *report.Report {
	uid := int64(10001)
	r := &report.Report{SchemaVersion: 1, Tool: report.Tool{Name: "imgaudit", Version: "dev"},
		Images: []report.Image{{Reference: "app:1", Digest: "sha256:aa", Findings: []report.Finding{
			{ID: "IA-SETUID", Category: "setuid", Severity: report.High, Title: "Setuid file", Path: "/usr/bin/su"}}},
			{Reference: "gone:1", Error: "gone:1: not found"}},
		Skipped: []report.SkippedKind{{Kind: "Service", Count: 3}, {Kind: "ConfigMap", Count: 1}}}
	r.Workloads = []report.Workload{{Kind: "Deployment", Namespace: "shop", Name: "web", File: "k8s/web.yaml", Line: 3,
		Containers: []report.Container{
			{Name: "app", Line: 17, Image: report.ImageRef{Reference: "app:1", Digest: "sha256:aa"},
				PodSecurity: report.PodSecurity{Level: "baseline", Violations: []report.PSSViolation{{Level: "restricted", Reason: "allowPrivilegeEscalation != false",
					Detail: `container "app" must set securityContext.allowPrivilegeEscalation=false`}}},
				SecurityContext: &report.SecurityContext{RunAsNonRoot: true, ProcMount: "Default",
					Capabilities:   report.Capabilities{Drop: []string{"ALL"}, Bounding: []string{}},
					SeccompProfile: report.Profile{Type: "RuntimeDefault"},
					From: report.SecurityContextSources{RunAsUser: "default", RunAsGroup: "default", RunAsNonRoot: "pod",
						AllowPrivilegeEscalation: "default", Privileged: "default", ReadOnlyRootFilesystem: "default", ProcMount: "default",
						Capabilities: "container", SeccompProfile: "pod", AppArmorProfile: "default"}},
				Findings: []report.Finding{
					{ID: "IW-START-NONNUMERIC-USER", Category: "start-failure", Severity: report.High, Title: "never starts", Detail: "non-numeric user (app)"},
					{ID: "IW-ROOT-IMAGE", Category: "effective-root", Severity: report.High, Title: "root image", Mitigated: true},
					{ID: "IW-SETUID-ESCALATION", Category: "privilege-escalation", Severity: report.High, Title: "setuid/setgid files with privilege escalation allowed",
						Path: "/usr/bin/su", Detail: "/usr/bin/su is setuid and allowPrivilegeEscalation is not false"},
					{ID: "IW-SA-TOKEN", Category: "service-account-token", Severity: report.Low, Title: "the service account token is mounted"},
				}},
			{Name: "init", Init: true, Image: report.ImageRef{Reference: "gone:1", Error: "gone:1: not found"}},
		}},
		{Kind: "CronJob", Name: "report", File: "k8s/report.yaml", Line: 1, Containers: []report.Container{
			{Name: "job", Line: 12, Image: report.ImageRef{Reference: "app:1@sha256:aa", Digest: "sha256:aa"},
				PodSecurity: report.PodSecurity{Level: "restricted"},
				SecurityContext: &report.SecurityContext{RunAsUser: &uid, RunAsNonRoot: true, AllowPrivilegeEscalation: new(bool), NoNewPrivs: true,
					ReadOnlyRootFilesystem: true, ProcMount: "Default", Capabilities: report.Capabilities{Drop: []string{"ALL"}, Bounding: []string{}},
					SeccompProfile: report.Profile{Type: "RuntimeDefault"},
					From: report.SecurityContextSources{RunAsUser: "pod", RunAsGroup: "default", RunAsNonRoot: "pod",
						AllowPrivilegeEscalation: "container", Privileged: "default", ReadOnlyRootFilesystem: "container", ProcMount: "default",
						Capabilities: "container", SeccompProfile: "pod", AppArmorProfile: "default"}},
				Findings: []report.Finding{
					{ID: "IW-SETUID-ESCALATION", Category: "privilege-escalation", Severity: report.High, Title: "setuid/setgid files with privilege escalation allowed",
						Path: "/usr/bin/su", Detail: "/usr/bin/su is setuid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", Mitigated: true},
					{ID: "IW-SA-TOKEN", Category: "service-account-token", Severity: report.Low, Title: "the service account token is mounted"},
				}},
		}},
	}
	return r
}

// workloadPolicy suppresses the token findings of the CronJob.
func workloadPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(".imgaudit.yaml", []byte(`ignore:
  - check: IW-SA-TOKEN
    workload: report
    reason: the job reads its own ConfigMap
    expires: 2030-01-31
`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// evaluatedWorkloads is the fixture as the CLI hands it to the renderers:
// the policy applied and the gate decided (fail-on high).
func evaluatedWorkloads(t *testing.T) *report.Report {
	r := workloadFixture()
	policy.EvaluateGate(r, workloadPolicy(t), policy.Gate{FailOn: policy.FailOnHigh, FailOnNew: policy.FailNever}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return r
}

func workloadRules() []output.Rule {
	return []output.Rule{
		{ID: "IW-START-NONNUMERIC-USER", Title: "never starts", Category: "start-failure", Severity: report.High,
			Remediation: "set runAsUser to the image user's uid, or make the image's USER numeric (USER 10001)"},
		{ID: "IW-SETUID-ESCALATION", Title: "setuid", Category: "privilege-escalation", Severity: report.High,
			Remediation: "set allowPrivilegeEscalation: false, or remove the setuid/setgid bits in the image"},
	}
}

// TestGoldenWorkloadRenderers: every format renders a workload run, with
// and without the suppressed findings listed.
func TestGoldenWorkloadRenderers(t *testing.T) {
	all := append(formats, struct {
		format output.Format
		ext    string
	}{output.FormatJSONL, "jsonl"})
	for _, show := range []bool{false, true} {
		for _, f := range all {
			name := "workload." + f.ext
			if show {
				if f.format != output.FormatTable && f.format != output.FormatMarkdown {
					continue // always carry suppressed findings
				}
				name = "workload.show-suppressed." + f.ext
			}
			t.Run(name, func(t *testing.T) {
				o := output.Options{Rules: workloadRules(), ShowSuppressed: show}
				got := render(t, f.format, evaluatedWorkloads(t), o)
				golden(t, name, got)
				if again := render(t, f.format, evaluatedWorkloads(t), o); !bytes.Equal(got, again) {
					t.Error("two renderings of the same report differ")
				}
			})
		}
	}
}

// TestWorkloadTableAndMarkdown asserts what the goldens show: the table
// fits its width, hides suppressed findings unless asked, and ends with
// the run's counts and the skipped kinds; the markdown leads with what
// fails.
func TestWorkloadTableAndMarkdown(t *testing.T) {
	table := string(render(t, output.FormatTable, evaluatedWorkloads(t), output.Options{}))
	for i, line := range strings.Split(table, "\n") {
		if n := utf8.RuneCountInString(line); n > output.TableWidth {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
	}
	for _, want := range []string{
		"Run: INCOMPLETE, 2 findings failing, 1 workload incomplete (fail-on high)",
		"Findings: 2 high, 1 low in 3 containers of 2 workloads; 2 mitigated by the pod spec; 1 suppressed by",
		"Skipped: 3 Service, 1 ConfigMap",
		"(1 finding suppressed by policy; --show-suppressed lists them)",
		"Policy: .imgaudit.yaml",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "the job reads its own ConfigMap") {
		t.Error("table lists a suppressed finding without ShowSuppressed")
	}
	shown := string(render(t, output.FormatTable, evaluatedWorkloads(t), output.Options{ShowSuppressed: true}))
	if !strings.Contains(shown, "(suppressed: the\n"+strings.Repeat(" ", 44)+"job reads its own ConfigMap)") {
		t.Errorf("ShowSuppressed table lacks the suppressed finding:\n%s", shown)
	}
	md := string(render(t, output.FormatMarkdown, evaluatedWorkloads(t), output.Options{Rules: workloadRules()}))
	for _, want := range []string{
		"## imgaudit workload report",
		"❌ **INCOMPLETE**: 1 of 2 workloads could not be audited completely.",
		"- Deployment `shop/web`: incomplete; container init: image not audited: gone:1: not found; IW-SETUID-ESCALATION: 1 high finding; IW-START-NONNUMERIC-USER: 1 high finding",
		"Workload findings: 2 high, 1 low in 3 containers of 2 workloads; 2 mitigated by the pod spec; 1 suppressed by policy.",
		"Skipped (not workloads): 3 Service, 1 ConfigMap.",
		"### ✅ CronJob `report`",
		"Image `app:1` `sha256:aa`; Pod Security: **baseline** (1 violation).",
		"| high | `IW-ROOT-IMAGE` | root image | mitigated |",
		"1 finding suppressed by policy.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestWorkloadJSONL: one line per image, one per workload, then the
// summary, each with the schema version; the workload line carries its
// containers, verdict and effective security contexts, and the summary the
// workload counts and the skipped kinds. A stream (what the CLI uses on
// standard output) writes the same workload and summary lines on Close.
func TestWorkloadJSONL(t *testing.T) {
	r := evaluatedWorkloads(t)
	out := render(t, output.FormatJSONL, r, output.Options{})
	var keys []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var line map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		if string(line["schemaVersion"]) != "1" {
			t.Errorf("line without schemaVersion 1: %s", sc.Bytes())
		}
		for _, k := range []string{"image", "workload", "summary"} {
			if _, ok := line[k]; ok {
				keys = append(keys, k)
			}
		}
		if raw, ok := line["workload"]; ok {
			var wl report.Workload
			if err := json.Unmarshal(raw, &wl); err != nil {
				t.Fatal(err)
			}
			if wl.Gate == nil || wl.Containers[0].Findings == nil {
				t.Errorf("workload line without verdict or findings: %s", raw)
			}
			if wl.Name == "report" && (wl.Containers[0].SecurityContext == nil || *wl.Containers[0].SecurityContext.RunAsUser != 10001) {
				t.Errorf("workload line without security context: %s", raw)
			}
		}
		if raw, ok := line["summary"]; ok {
			var s report.Summary
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			if s.Workloads == nil || s.Workloads.Suppressed != 1 || s.Workloads.Mitigated != 2 || s.Workloads.Findings != 3 {
				t.Errorf("summary %s", raw)
			}
			if !strings.Contains(string(line["skipped"]), `{"kind":"Service","count":3}`) {
				t.Errorf("summary line without skipped kinds: %s", sc.Bytes())
			}
		}
	}
	if strings.Join(keys, " ") != "image image workload workload summary" {
		t.Errorf("lines %v", keys)
	}
	var streamed bytes.Buffer
	s := output.NewJSONLStream(&streamed, nil)
	for _, img := range r.Images {
		s.Emit(img)
	}
	if err := s.Close(r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(streamed.Bytes(), out) {
		t.Errorf("stream differs from the report:\n%s\n---\n%s", streamed.Bytes(), out)
	}
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
	// With the policy applied and the gate decided: suppressions, verdicts,
	// the workload summary.
	doc = render(t, output.FormatJSON, evaluatedWorkloads(t), output.Options{})
	if err := schematest.Validate(js, doc); err != nil {
		t.Errorf("evaluated json: %v", err)
	}
	for _, want := range []string{`"effectiveSecurityContext": {`, `"skipped": [`, `"mitigated": 2,`, `"policy": ".imgaudit.yaml:2"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("evaluated json lacks %s", want)
		}
	}
	if s := string(render(t, output.FormatSARIF, evaluatedWorkloads(t), output.Options{})); !strings.Contains(s, `"justification": "the job reads its own ConfigMap (until 2030-01-31)"`) {
		t.Errorf("sarif lacks the policy suppression:\n%s", s)
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
