package cli

// These tests drive the scan command with reports built in code (Env.RunAudit
// replaced), so the gate, the policy and the outputs are tested on findings
// of every kind whatever the check catalogue finds in the example images.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

func uid(i int) *int { return &i }

// fakeReport has two images: app (a critical deleted key, a high root user,
// two medium shells) and base (a low finding).
func fakeReport() *report.Report {
	layer := &report.LayerRef{Index: 1, Digest: "sha256:11", DiffID: "sha256:aa", CreatedBy: "RUN apt-get install -y bash"}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "imgaudit", Version: "test"},
		Images: []report.Image{
			{
				Reference: "registry.example.com/team/app:1.2", Source: "registry", Digest: "sha256:ab", Platform: "linux/amd64",
				User: report.User{UID: uid(0), Root: true, Verifiable: true},
				Base: report.Base{Kind: "debian"},
				Findings: []report.Finding{
					{ID: "IA-SECRET-FILE", Category: "secret", Severity: report.Critical, Title: "Credential file", Path: "/root/.ssh/id_ed25519", Deleted: true, Layer: layer, Remediation: "Rotate it."},
					{ID: "IA-ROOT-USER", Category: "root-user", Severity: report.High, Title: "Container runs as root", Remediation: "Add USER."},
					{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Title: "Shell available", Path: "/usr/bin/bash", Aliases: []string{"/bin/sh"}, Layer: layer, Remediation: "Drop it."},
					{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Title: "Shell available", Path: "/usr/bin/dash", Layer: layer, Remediation: "Drop it."},
				},
			},
			{
				Reference: "registry.example.com/team/base:3", Source: "registry", Digest: "sha256:cd", Platform: "linux/amd64",
				User: report.User{Configured: "65532", UID: uid(65532), Verifiable: true},
				Findings: []report.Finding{
					{ID: "IA-HEALTHCHECK", Category: "healthcheck", Severity: report.Low, Title: "No HEALTHCHECK", Remediation: "Add one."},
				},
			},
		},
	}
	r.Summarize()
	return r
}

// withAudit makes scan return a copy of r (and err), sending a progress
// event per image the way audit.Run does.
// fakeAudit, when set by withAudit, is the RunAudit of every execute.
var fakeAudit func(context.Context, []string, audit.Options, func(report.Image)) (*report.Report, error)

func withAudit(t *testing.T, r *report.Report, err error) {
	t.Helper()
	t.Cleanup(func() { fakeAudit = nil })
	fakeAudit = func(_ context.Context, refs []string, o audit.Options, _ func(report.Image)) (*report.Report, error) {
		if o.Progress != nil {
			for _, img := range r.Images {
				o.Progress(audit.Event{Reference: img.Reference, Layer: 0, Layers: 2, Bytes: 3 << 20})
				o.Progress(audit.Event{Reference: img.Reference, Layer: 1, Layers: 2, Bytes: 1 << 20, Cached: true})
				o.Progress(audit.Event{Reference: img.Reference, Layer: -1, Done: true})
			}
		}
		b, _ := json.Marshal(r)
		var c report.Report
		if err := json.Unmarshal(b, &c); err != nil {
			panic(err)
		}
		return &c, err
	}
}

type run struct {
	code           int
	stdout, stderr string
}

func execute(t *testing.T, env Env, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	env.Args, env.Stdout, env.Stderr = args, &out, &errb
	env.Version = VersionInfo{Version: "test"}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Now == nil {
		env.Now = func() time.Time { return testNow }
	}
	if env.RunAudit == nil {
		env.RunAudit = fakeAudit
	}
	if env.Dir == "" {
		env.Dir = t.TempDir() // no policy file unless the test writes one
	}
	code := Execute(context.Background(), env)
	return run{code, out.String(), errb.String()}
}

func decodeReport(t *testing.T, s string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("decoding report: %v\n%s", err, s)
	}
	return r
}

func writePolicy(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, ".imgaudit.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGateExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"default baseline profile fails on the secret and the root user", nil, 1, "2 findings failing the baseline profile (--profile) in registry.example.com/team/app:1.2\n"},
		{"--fail-on high", []string{"--fail-on", "high"}, 1, "2 findings at or above high (--fail-on) in registry.example.com/team/app:1.2\n"},
		{"critical", []string{"--fail-on", "critical"}, 1, "1 finding at or above critical"},
		{"info counts everything", []string{"--fail-on", "info"}, 1, "5 findings at or above info (--fail-on) in registry.example.com/team/app:1.2, registry.example.com/team/base:3\n"},
		{"none never fails", []string{"--fail-on", "none"}, 0, ""},
		{"case does not matter", []string{"--fail-on", "NONE"}, 0, ""},
		{"bad threshold", []string{"--fail-on", "severe"}, 2, `--fail-on: unknown threshold "severe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withAudit(t, fakeReport(), nil)
			r := execute(t, Env{}, append(append([]string{"scan", "-f", "json"}, tc.args...), "x")...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			if tc.msg != "" && !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.msg)
			}
			if tc.code == 0 && r.stderr != "" {
				t.Errorf("stderr on success: %q", r.stderr)
			}
			if tc.code != 2 {
				rep := decodeReport(t, r.stdout)
				want := map[int]report.Verdict{0: report.Pass, 1: report.Fail}[tc.code]
				if rep.Gate == nil || rep.Gate.Failed != (tc.code == 1) || rep.Gate.Verdict != want {
					t.Errorf("gate = %+v for exit %d", rep.Gate, tc.code)
				}
				if g := rep.Images[0].Gate; g == nil || g.Verdict != want {
					t.Errorf("image verdict %+v for exit %d", g, tc.code)
				}
			}
		})
	}
}

// TestIncompleteNeverPasses: an image that could not be scanned makes the
// run exit 2 whatever the findings and the threshold, and the report says
// so in every format.
func TestIncompleteNeverPasses(t *testing.T) {
	rep := fakeReport()
	rep.Images = append(rep.Images, report.Image{Reference: "registry.example.com/team/broken:1", Error: "registry.example.com/team/broken:1: reading layer 2: unexpected EOF"})
	rep.Summarize()
	incomplete := fmt.Errorf("%w: %w", audit.ErrIncomplete, fmt.Errorf("registry.example.com/team/broken:1: reading layer 2: unexpected EOF"))
	for _, failOn := range []string{"none", "critical", "high"} {
		t.Run(failOn, func(t *testing.T) {
			withAudit(t, rep, incomplete)
			dir := t.TempDir()
			r := execute(t, Env{}, "scan", "--fail-on", failOn, "-o", "json="+filepath.Join(dir, "r.json"),
				"-o", "sarif="+filepath.Join(dir, "r.sarif"), "-o", "markdown="+filepath.Join(dir, "r.md"), "x")
			if r.code != ExitError {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if strings.TrimSpace(r.stderr) != "imgaudit: registry.example.com/team/broken:1: reading layer 2: unexpected EOF" {
				t.Errorf("stderr %q", r.stderr)
			}
			if !strings.Contains(r.stdout, "Verdict: ERROR — scan incomplete, image not assessed") {
				t.Errorf("table does not say the image was not assessed:\n%s", r.stdout)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "r.json"))
			if got := decodeReport(t, string(b)); got.Summary.Errors != 1 || got.Images[2].Error == "" ||
				got.Gate.Verdict != report.Incomplete || got.Images[2].Gate.Verdict != report.Incomplete {
				t.Errorf("json report: errors %d, gate %+v, image %+v", got.Summary.Errors, got.Gate, got.Images[2])
			}
			b, _ = os.ReadFile(filepath.Join(dir, "r.sarif"))
			if !strings.Contains(string(b), `"executionSuccessful": false`) {
				t.Error("sarif invocation is successful")
			}
			b, _ = os.ReadFile(filepath.Join(dir, "r.md"))
			if !strings.Contains(string(b), "**ERROR**") {
				t.Error("markdown does not say ERROR")
			}
		})
	}
}

func TestPolicyScopedIgnore(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, `
ignore:
  - check: IA-SECRET-FILE
    path: /root/.ssh/*
    image: registry.example.com/team/app
    reason: rotated; the layer is rebuilt in SEC-42
    expires: 2025-12-31
  - check: IA-ROOT-USER
    image: registry.example.com/other/*
    reason: not this image
  - category: shell
    path: /bin/sh
    reason: the entrypoint script needs sh
`)
	withAudit(t, fakeReport(), nil)
	r := execute(t, Env{Dir: dir}, "scan", "-f", "json", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "1 finding failing the baseline profile") {
		t.Fatalf("exit %d stderr %q: want 1 for the root user only", r.code, r.stderr)
	}
	rep := decodeReport(t, r.stdout)
	got := map[string]*report.Suppression{}
	for _, f := range rep.Images[0].Findings {
		got[f.ID+" "+f.Path] = f.Suppressed
	}
	want := map[string]*report.Suppression{
		"IA-SECRET-FILE /root/.ssh/id_ed25519": {Reason: "rotated; the layer is rebuilt in SEC-42", Expires: "2025-12-31", Policy: ".imgaudit.yaml:3"},
		"IA-ROOT-USER ":                        nil,                                                                     // the image glob does not match
		"IA-SHELL /usr/bin/bash":               {Reason: "the entrypoint script needs sh", Policy: ".imgaudit.yaml:11"}, // through its alias
		"IA-SHELL /usr/bin/dash":               nil,                                                                     // the path glob does not match
	}
	for k, w := range want {
		g := got[k]
		if (g == nil) != (w == nil) || (g != nil && *g != *w) {
			t.Errorf("%s: suppressed %+v, want %+v", k, g, w)
		}
	}
	if rep.Summary.Suppressed != 2 || rep.Summary.Findings != 3 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if rep.Policy == nil || rep.Policy.File != ".imgaudit.yaml" {
		t.Errorf("policy %+v", rep.Policy)
	}

	// The table hides suppressed findings unless asked, and then says why.
	withAudit(t, fakeReport(), nil)
	r = execute(t, Env{Dir: dir}, "scan", "x")
	if strings.Contains(r.stdout, "id_ed25519") || !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "2 suppressed by policy") {
		t.Errorf("table without --show-suppressed:\n%s", r.stdout)
	}
	withAudit(t, fakeReport(), nil)
	r = execute(t, Env{Dir: dir}, "scan", "--show-suppressed", "x")
	for _, want := range []string{"Suppressed by policy (2):", "/root/.ssh/id_ed25519", "ignored: rotated; the layer is rebuilt in", "by .imgaudit.yaml:3, until 2025-12-31"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--show-suppressed table lacks %q:\n%s", want, r.stdout)
		}
	}

	// Suppressed findings never fail the gate.
	withAudit(t, fakeReport(), nil)
	r = execute(t, Env{Dir: dir}, "scan", "-q", "--fail-on", "critical", "x")
	if r.code != 0 {
		t.Errorf("the only critical finding is suppressed, yet exit %d: %s", r.code, r.stderr)
	}

	// --no-policy ignores the file; --policy names another.
	withAudit(t, fakeReport(), nil)
	if r := execute(t, Env{Dir: dir}, "scan", "--no-policy", "--fail-on", "critical", "x"); r.code != 1 {
		t.Errorf("--no-policy: exit %d", r.code)
	}
}

func TestPolicyExpiredIgnore(t *testing.T) {
	dir := t.TempDir()
	path := writePolicy(t, dir, `fail-on: critical
ignore:
  - check: IA-SECRET-FILE
    reason: accepted until the key is rotated
    expires: 2025-06-14
  - check: IA-ROOT-USER
    reason: last day today
    expires: 2025-06-15
`)
	withAudit(t, fakeReport(), nil)
	r := execute(t, Env{Dir: t.TempDir()}, "scan", "--policy", path, "-f", "json", "x")
	if r.code != 1 {
		t.Fatalf("the expired ignore still applies: exit %d, stderr %q", r.code, r.stderr)
	}
	wantWarn := path + ":3: ignore of IA-SECRET-FILE expired on 2025-06-14 and no longer applies (reason was: accepted until the key is rotated)"
	if !strings.Contains(r.stderr, "imgaudit: warning: "+wantWarn+"\n") {
		t.Errorf("stderr %q lacks the warning", r.stderr)
	}
	if strings.Count(r.stderr, "warning") != 1 {
		t.Errorf("an ignore on its last day is not expired: %q", r.stderr)
	}
	rep := decodeReport(t, r.stdout)
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != "expired-ignore" || rep.Warnings[0].Message != wantWarn {
		t.Errorf("report warnings %+v", rep.Warnings)
	}
	for _, f := range rep.Images[0].Findings {
		if (f.ID == "IA-ROOT-USER") != (f.Suppressed != nil) {
			t.Errorf("%s suppressed: %+v", f.ID, f.Suppressed)
		}
	}
	// The policy's fail-on applies; the flag overrides it.
	if rep.Gate.FailOn != policy.FailOnCritical.String() {
		t.Errorf("gate %+v, want the policy's critical", rep.Gate)
	}
	withAudit(t, fakeReport(), nil)
	r = execute(t, Env{}, "scan", "--policy", path, "--fail-on", "none", "-f", "json", "x")
	if r.code != 0 || decodeReport(t, r.stdout).Gate.FailOn != "none" {
		t.Errorf("--fail-on none over the policy: exit %d", r.code)
	}
}

func TestPolicyDisable(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "disable:\n  checks: [ia-secret-file]\n  categories: [root-user]\n")
	withAudit(t, fakeReport(), nil)
	r := execute(t, Env{Dir: dir}, "scan", "-f", "json", "x")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := decodeReport(t, r.stdout)
	for _, f := range rep.Images[0].Findings {
		if f.ID == "IA-SECRET-FILE" || f.Category == "root-user" {
			t.Errorf("disabled finding reported: %+v", f)
		}
	}
	if rep.Summary.Findings != 3 {
		t.Errorf("summary %+v", rep.Summary)
	}
}

func TestPolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, msg string
	}{
		{"unknown key", "fail-on: high\nfail_on: low\n", `.imgaudit.yaml:2: fail_on: unknown field (want one of disable, fail-on, ignore, profile, version)`},
		{"no reason", "ignore:\n  - check: IA-SHELL\n    path: /bin/sh\n", `.imgaudit.yaml:2: ignore[0].reason: required`},
		{"bad date", "ignore:\n  - check: IA-SHELL\n    reason: x\n    expires: next year\n", `.imgaudit.yaml:4: ignore[0].expires: "next year" is not a date`},
		{"bad threshold", "fail-on: severe\n", `.imgaudit.yaml:1: fail-on: unknown threshold "severe"`},
		{"unknown check", "ignore:\n  - check: IA-SHEL\n    reason: typo\n", `.imgaudit.yaml:2: ignore[0].check: unknown check "IA-SHEL"`},
		{"unknown category", "disable:\n  categories: [shells]\n", `disable.categories: unknown category "shells"`},
		{"yaml syntax", "ignore:\n  - check: IA-SHELL\n   reason: x\n", `.imgaudit.yaml: line `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writePolicy(t, dir, tc.body)
			withAudit(t, fakeReport(), nil)
			r := execute(t, Env{Dir: dir}, "scan", "x")
			if r.code != 2 || !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("exit %d stderr %q; want 2 containing %q", r.code, r.stderr, tc.msg)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("error is %d lines: %q", n+1, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("a report was written despite the bad policy: %q", r.stdout)
			}
		})
	}
	withAudit(t, fakeReport(), nil)
	if r := execute(t, Env{}, "scan", "--policy", "/nonexistent/policy.yaml", "x"); r.code != 2 || !strings.Contains(r.stderr, "reading policy") {
		t.Errorf("missing --policy file: exit %d stderr %q", r.code, r.stderr)
	}
	withAudit(t, fakeReport(), nil)
	if r := execute(t, Env{}, "scan", "--policy", "p.yaml", "--no-policy", "x"); r.code != 2 {
		t.Errorf("--policy with --no-policy: exit %d", r.code)
	}
}

func TestOutputs(t *testing.T) {
	dir := t.TempDir()
	file := func(n string) string { return filepath.Join(dir, n) }
	read := func(n string) string {
		b, err := os.ReadFile(file(n))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// The table on stdout while CI archives JSON, SARIF and Markdown.
	withAudit(t, fakeReport(), nil)
	r := execute(t, Env{}, "scan", "--fail-on", "none", "-o", "json="+file("r.json"), "-o", "sarif="+file("r.sarif"), "-o", "md="+file("r.md"), "x")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Verdict: PASS") {
		t.Errorf("no table on stdout: %q", r.stdout)
	}
	if decodeReport(t, read("r.json")).Summary.Findings != 5 {
		t.Error("json file")
	}
	if !strings.Contains(read("r.sarif"), `"version": "2.1.0"`) || !strings.HasPrefix(read("r.md"), "## imgaudit report") {
		t.Error("sarif or markdown file")
	}
	if m, _ := filepath.Glob(file(".*.tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}

	// A plain -o FILE takes the --format report instead of stdout.
	withAudit(t, fakeReport(), nil)
	r = execute(t, Env{}, "scan", "--fail-on", "none", "-f", "json", "-o", file("plain.json"), "-o", "sarif="+file("p.sarif"), "x")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q: want the report in the file only", r.code, r.stdout)
	}
	decodeReport(t, read("plain.json"))

	// FORMAT=- puts that format on stdout instead of --format.
	withAudit(t, fakeReport(), nil)
	r = execute(t, Env{}, "scan", "--fail-on", "none", "-o", "json=-", "x")
	decodeReport(t, r.stdout)

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-o", "xml=r.xml"}, `-o xml=r.xml: unknown format "xml"`},
		{[]string{"-o", "json="}, "no file name"},
		{[]string{"-o", "json=a", "-o", "sarif=a"}, "a is named twice"},
		{[]string{"-o", "json=-", "-o", "sarif=-"}, "only one report can go to standard output"},
		{[]string{"-o", "json=" + filepath.Join(dir, "missing", "r.json")}, "writing " + filepath.Join(dir, "missing", "r.json")},
	} {
		withAudit(t, fakeReport(), nil)
		r := execute(t, Env{}, append(append([]string{"scan"}, tc.args...), "x")...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%v: exit %d stderr %q; want 2 containing %q", tc.args, r.code, r.stderr, tc.msg)
		}
	}
}

func TestColorAndProgressOnlyOnATerminal(t *testing.T) {
	tty := func(io.Writer) bool { return true }
	for _, tc := range []struct {
		name          string
		env           Env
		args          []string
		color, progrs bool
	}{
		{"pipe", Env{}, nil, false, false},
		{"terminal", Env{IsTerminal: tty}, nil, true, true},
		{"NO_COLOR", Env{IsTerminal: tty, Getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return ""
		}}, nil, false, true},
		{"quiet", Env{IsTerminal: tty}, []string{"--quiet"}, true, false},
		{"json on a terminal", Env{IsTerminal: tty}, []string{"-f", "json"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withAudit(t, fakeReport(), nil)
			r := execute(t, tc.env, append(append([]string{"scan", "--fail-on", "none"}, tc.args...), "x")...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if got := strings.Contains(r.stdout, "\x1b["); got != tc.color {
				t.Errorf("colour %v, want %v", got, tc.color)
			}
			if got := strings.Contains(r.stderr, "scanning registry.example.com/team/app:1.2: 2/2 layers, 4.0 MiB (1 cached)"); got != tc.progrs {
				t.Errorf("progress %v, want %v: %q", got, tc.progrs, r.stderr)
			}
			if tc.progrs && !strings.HasSuffix(r.stderr, "\r\x1b[K") {
				t.Errorf("the progress line is not cleared: %q", r.stderr)
			}
		})
	}
}

// TestOutputToSpecialFile writes a report to /dev/null and through a
// symlink: the device and the link must survive (an atomic rename would
// replace them).
func TestOutputToSpecialFile(t *testing.T) {
	before, err := os.Stat("/dev/null")
	if err != nil {
		t.Skip("no /dev/null")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: dir}
	r := execute(t, env, "scan", "--no-cache", "--no-sbom", "-f", "json", "-o", "/dev/null", "-o", "json="+link, filepath.Join("..", "..", "testdata", "images", "hardened"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	after, err := os.Stat("/dev/null")
	if err != nil || after.Mode() != before.Mode() || after.Mode().IsRegular() {
		t.Fatalf("/dev/null was replaced: %v %v", after.Mode(), err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v", err)
	}
	if b, err := os.ReadFile(target); err != nil || len(b) == 0 {
		t.Fatalf("report not written through the link: %v", err)
	}
}

// TestAuditDefaults: without the flags, the CLI leaves the audit's
// defaults to pkg/audit (one place): images and layers at once are the
// library's zero values, which mean DefaultConcurrency and the number of
// CPUs shared among the images, as the help says.
func TestAuditDefaults(t *testing.T) {
	var got []audit.Options
	capture := func(_ context.Context, _ []string, o audit.Options, _ func(report.Image)) (*report.Report, error) {
		got = append(got, o)
		return fakeReport(), nil
	}
	execute(t, Env{RunAudit: capture}, "scan", "--fail-on", "none", "--no-cache", "x")
	execute(t, Env{RunAudit: capture}, "scan", "--fail-on", "none", "--no-cache", "--concurrency", "3", "--layer-concurrency", "5", "x")
	if len(got) != 2 {
		t.Fatalf("%d audits", len(got))
	}
	if got[0].Concurrency != audit.DefaultConcurrency || got[0].LayerConcurrency != 0 || got[0].Cache != nil {
		t.Errorf("defaults: concurrency %d, layer concurrency %d, cache %v", got[0].Concurrency, got[0].LayerConcurrency, got[0].Cache)
	}
	if got[1].Concurrency != 3 || got[1].LayerConcurrency != 5 {
		t.Errorf("flags: concurrency %d, layer concurrency %d", got[1].Concurrency, got[1].LayerConcurrency)
	}
	root := NewRoot(Env{})
	scan, _, err := root.Find([]string{"scan"})
	if err != nil {
		t.Fatal(err)
	}
	if help := scan.Flags().Lookup("layer-concurrency").Usage; !strings.Contains(help, "0: the number of CPUs, for all the images audited at once together") {
		t.Errorf("--layer-concurrency help %q does not say what 0 means in pkg/audit", help)
	}
}
