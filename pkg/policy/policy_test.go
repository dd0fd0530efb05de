package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

var now = time.Date(2025, 6, 15, 23, 30, 0, 0, time.UTC)

func parse(t *testing.T, body string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("p.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParse(t *testing.T) {
	p := parse(t, `# a policy
version: 1
fail-on: Critical
disable:
  checks: [IA-HEALTHCHECK, IA-BASE]
  categories: setgid
ignore:
  - check: IA-SETUID
    path: /usr/bin/passwd
    image: registry.example.com/team/*
    reason: login needs it
    expires: 2026-06-30
  - category: shell
    reason: "the entrypoint is a script"
`)
	crit := policy.FailOnCritical
	want := &policy.Policy{
		File:               "p.yaml",
		FailOn:             &crit,
		DisabledChecks:     []string{"IA-HEALTHCHECK", "IA-BASE"},
		DisabledCategories: []string{"setgid"},
		Ignores: []policy.Ignore{
			{Check: "IA-SETUID", Path: "/usr/bin/passwd", Image: "registry.example.com/team/*", Reason: "login needs it", Expires: "2026-06-30", Line: 8},
			{Category: "shell", Reason: "the entrypoint is a script", Line: 13},
		},
	}
	if d := cmp.Diff(want, p, cmp.Comparer(func(a, b policy.Ignore) bool {
		return a.Check == b.Check && a.Category == b.Category && a.Path == b.Path && a.Image == b.Image &&
			a.Reason == b.Reason && a.Expires == b.Expires && a.Line == b.Line
	})); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, empty := range []string{"", "# nothing\n", "---\n"} {
		p := parse(t, empty)
		if p.FailOn != nil || len(p.Ignores) != 0 {
			t.Errorf("%q: %+v", empty, p)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown top-level key", "fail-on: high\nignores: []\n", "policy p.yaml:2: ignores: unknown field (want one of disable, fail-on, ignore, profile, version)"},
		{"unknown ignore key", "ignore:\n  - check: IA-SHELL\n    reason: r\n    paths: /x\n", "policy p.yaml:4: ignore[0].paths: unknown field (want one of category, check, container, expires, image, path, reason, workload)"},
		{"unknown disable key", "disable:\n  check: [IA-SHELL]\n", "policy p.yaml:2: disable.check: unknown field (want one of categories, checks)"},
		{"repeated key", "fail-on: high\nfail-on: low\n", "policy p.yaml:2: fail-on: repeated field"},
		{"version", "version: 2\n", `policy p.yaml:1: version: unsupported version "2"`},
		{"fail-on", "fail-on: severe\n", `policy p.yaml:1: fail-on: unknown threshold "severe" (want one of info, low, medium, high, critical, none)`},
		{"fail-on list", "fail-on: [high]\n", `policy p.yaml:1: fail-on: want a single value, got a list`},
		{"not a mapping", "- a\n- b\n", "policy p.yaml:1: want a mapping for the policy, got a list"},
		{"ignore not a list", "ignore:\n  check: IA-SHELL\n", "policy p.yaml:2: ignore: want a list of ignores, got a mapping"},
		{"no reason", "ignore:\n  - check: IA-SHELL\n", "policy p.yaml:2: ignore[0].reason: required: say why the finding is accepted"},
		{"empty reason", "ignore:\n  - check: IA-SHELL\n    reason: \"  \"\n", "policy p.yaml:3: ignore[0].reason: must not be empty"},
		{"no check", "ignore:\n  - path: /bin/sh\n    reason: r\n", "policy p.yaml:2: ignore[0]: an ignore needs a check or a category"},
		{"both", "ignore:\n  - check: IA-SHELL\n    category: shell\n    reason: r\n", "policy p.yaml:2: ignore[0]: an ignore names a check or a category, not both"},
		{"relative path", "ignore:\n  - check: IA-SHELL\n    path: bin/sh\n    reason: r\n", `policy p.yaml:3: ignore[0].path: "bin/sh" is not absolute`},
		{"bad glob", "ignore:\n  - check: IA-SHELL\n    path: /bin/[a\n    reason: r\n", "policy p.yaml:3: ignore[0].path: pattern \"/bin/[a\": unterminated character class"},
		{"bad image glob", "ignore:\n  - check: IA-SHELL\n    image: 'a\\'\n    reason: r\n", "policy p.yaml:3: ignore[0].image: pattern \"a\\\\\": trailing backslash"},
		{"bad date", "ignore:\n  - check: IA-SHELL\n    reason: r\n    expires: 31/12/2025\n", `policy p.yaml:4: ignore[0].expires: "31/12/2025" is not a date: want YYYY-MM-DD`},
		{"second ignore", "ignore:\n  - check: IA-SHELL\n    reason: r\n  - check: IA-SETUID\n", "policy p.yaml:4: ignore[1].reason: required"},
		{"checks not strings", "disable:\n  checks: [[a]]\n", "policy p.yaml:2: disable.checks[0]: want a single value, got a list"},
		{"yaml", "fail-on: high\n  bad: indent\n", "policy p.yaml: line 2: mapping values are not allowed in this context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse("p.yaml", []byte(tc.body))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\nwant prefix %q", err, tc.want)
			}
			var pe *policy.Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *policy.Error", err)
			}
		})
	}
}

func TestLoadAndFind(t *testing.T) {
	dir := t.TempDir()
	p, err := policy.Find(dir)
	if p != nil || err != nil {
		t.Fatalf("Find in an empty dir = %v, %v", p, err)
	}
	path := filepath.Join(dir, policy.FileName)
	if err := os.WriteFile(path, []byte("fail-on: none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = policy.Find(dir)
	if err != nil || p == nil || p.File != path || *p.FailOn != policy.FailNever {
		t.Fatalf("Find = %+v, %v", p, err)
	}
	if p, err := policy.Load(path); err != nil || *p.FailOn != policy.FailNever {
		t.Fatalf("Load = %+v, %v", p, err)
	}
	if _, err := policy.Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "reading policy") {
		t.Errorf("Load of a missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("fail-on: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Find(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Find of a bad file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ids := []string{"IA-SHELL", "IA-SETUID"}
	cats := []string{"shell", "setuid"}
	ok := parse(t, "disable:\n  checks: [ia-shell]\nignore:\n  - category: SETUID\n    reason: r\n")
	if err := ok.Validate(ids, cats); err != nil {
		t.Errorf("valid policy: %v", err)
	}
	bad := parse(t, "ignore:\n  - check: IA-SHELL\n    reason: r\n  - check: IA-SETGID\n    reason: r\n")
	err := bad.Validate(ids, cats)
	if err == nil || !strings.HasPrefix(err.Error(), `policy p.yaml:4: ignore[1].check: unknown check "IA-SETGID" (see 'imgaudit checks'; known: IA-SHELL, IA-SETUID)`) {
		t.Errorf("Validate = %v", err)
	}
	if err := parse(t, "disable:\n  categories: [shells]\n").Validate(ids, cats); err == nil {
		t.Error("unknown category accepted")
	}
	var nilPolicy *policy.Policy
	if err := nilPolicy.Validate(ids, cats); err != nil {
		t.Error(err)
	}
}

func finding(id, cat string, sev report.Severity, path string, aliases ...string) report.Finding {
	return report.Finding{ID: id, Category: cat, Severity: sev, Title: id, Path: path, Aliases: aliases}
}

func testReport() *report.Report {
	r := &report.Report{
		SchemaVersion: 1,
		Images: []report.Image{
			{Reference: "registry.example.com/team/app:1.2", Findings: []report.Finding{
				finding("IA-SETUID", "setuid", report.High, "/usr/bin/passwd", "/bin/passwd"),
				finding("IA-SETUID", "setuid", report.High, "/usr/bin/su"),
				finding("IA-SHELL", "shell", report.Medium, "/usr/bin/dash", "/bin/sh"),
				finding("IA-ROOT-USER", "root-user", report.High, ""),
				finding("IA-HEALTHCHECK", "healthcheck", report.Low, ""),
			}},
			{Reference: "registry.example.com/team/app:1.2 (linux/arm64)", Findings: []report.Finding{
				finding("IA-SETUID", "setuid", report.High, "/usr/bin/passwd"),
			}},
			{Reference: "docker.io/library/debian:12", Findings: []report.Finding{
				finding("IA-SETUID", "setuid", report.High, "/usr/bin/passwd"),
				finding("IA-SHELL", "shell", report.Medium, "/opt/tools/bin/bash"),
			}},
		},
	}
	r.Summarize()
	return r
}

// suppressed lists "image#finding-index" of suppressed findings.
func suppressed(r *report.Report) map[string]string {
	out := map[string]string{}
	for i, img := range r.Images {
		for j, f := range img.Findings {
			if f.Suppressed != nil {
				out[strings.Join([]string{string(rune('A' + i)), f.ID, f.Path}, " ")] = f.Suppressed.Reason + "|" + f.Suppressed.Expires + "|" + f.Suppressed.Policy
				_ = j
			}
		}
	}
	return out
}

func TestApplyScopedIgnores(t *testing.T) {
	p := parse(t, `ignore:
  - check: IA-SETUID
    path: /usr/bin/passwd
    image: registry.example.com/team/app
    reason: login
    expires: 2025-06-15
  - category: shell
    path: /bin/sh
    reason: entrypoint script
  - category: shell
    path: /opt/**
    image: "*/library/*"
    reason: vendored tools
  - check: ia-root-user
    image: docker.io/*
    reason: not matching
`)
	r := testReport()
	// The ignore scoped to docker.io matches nothing here: a warning, so
	// that a typo or a stale ignore does not sit unseen.
	if warns := p.Apply(r, now); len(warns) != 1 || warns[0].Kind != "unused-ignore" ||
		warns[0].String() != "p.yaml:14: ignore of ia-root-user in docker.io/* matched no finding in this run" {
		t.Errorf("warnings %v", warns)
	}
	want := map[string]string{
		"A IA-SETUID /usr/bin/passwd":    "login|2025-06-15|p.yaml:2",   // repository glob, last day
		"B IA-SETUID /usr/bin/passwd":    "login|2025-06-15|p.yaml:2",   // the platform suffix is ignored
		"A IA-SHELL /usr/bin/dash":       "entrypoint script||p.yaml:7", // through an alias
		"C IA-SHELL /opt/tools/bin/bash": "vendored tools||p.yaml:10",
	}
	if d := cmp.Diff(want, suppressed(r)); d != "" {
		t.Errorf("suppressed (-want +got):\n%s", d)
	}
	if r.Summary.Suppressed != 4 || r.Summary.Findings != 4 {
		t.Errorf("summary %+v", r.Summary)
	}
	if r.Policy == nil || r.Policy.File != "p.yaml" {
		t.Errorf("policy ref %+v", r.Policy)
	}
	// Applying twice changes nothing, and an ignore that suppressed a
	// finding in the first Apply is still used in the second.
	before := suppressed(r)
	if warns := p.Apply(r, now); len(warns) != 1 || warns[0].Line != 14 {
		t.Errorf("second Apply warnings %v", warns)
	}
	if d := cmp.Diff(before, suppressed(r)); d != "" {
		t.Errorf("second Apply:\n%s", d)
	}
}

func TestApplyExpiredIgnore(t *testing.T) {
	p := parse(t, `ignore:
  - check: IA-SETUID
    reason: legacy login
    expires: 2025-06-14
  - check: IA-SHELL
    path: /usr/bin/dash
    reason: until tomorrow
    expires: 2025-06-16
`)
	r := testReport()
	warns := p.Apply(r, now)
	want := []policy.Warning{{Kind: "expired-ignore", File: "p.yaml", Line: 2,
		Message: "ignore of IA-SETUID expired on 2025-06-14 and no longer applies (reason was: legacy login)"}}
	if d := cmp.Diff(want, warns); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	if got := warns[0].String(); got != "p.yaml:2: ignore of IA-SETUID expired on 2025-06-14 and no longer applies (reason was: legacy login)" {
		t.Errorf("String() = %q", got)
	}
	if len(r.Warnings) != 1 || r.Warnings[0] != (report.Warning{Kind: "expired-ignore", Message: warns[0].String()}) {
		t.Errorf("report warnings %+v", r.Warnings)
	}
	if d := cmp.Diff(map[string]string{"A IA-SHELL /usr/bin/dash": "until tomorrow|2025-06-16|p.yaml:5"}, suppressed(r)); d != "" {
		t.Errorf("suppressed (-want +got):\n%s", d)
	}
	// The expired ignore no longer keeps the gate open.
	if len(policy.Failing(r, policy.FailOnHigh)) == 0 {
		t.Error("gate passes with the expired ignore's findings")
	}
	// An ignore applies through its last day, UTC.
	ig := policy.Ignore{Expires: "2025-06-15"}
	if ig.Expired(time.Date(2025, 6, 15, 23, 59, 59, 0, time.UTC)) || !ig.Expired(time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)) {
		t.Error("expiry is not end of day UTC")
	}
}

func TestApplyDisabled(t *testing.T) {
	p := parse(t, "disable:\n  checks: [IA-ROOT-USER]\n  categories: [Shell]\n")
	r := testReport()
	p.Apply(r, now)
	for _, img := range r.Images {
		for _, f := range img.Findings {
			if f.ID == "IA-ROOT-USER" || f.Category == "shell" {
				t.Errorf("disabled finding kept: %+v", f)
			}
		}
	}
	if r.Summary.Findings != 5 {
		t.Errorf("summary %+v", r.Summary)
	}
	if d := cmp.Diff(&report.PolicyRef{File: "p.yaml", DisabledChecks: []string{"IA-ROOT-USER"}, DisabledCategories: []string{"Shell"}}, r.Policy); d != "" {
		t.Error(d)
	}
	var nilPolicy *policy.Policy
	if nilPolicy.Apply(r, now) != nil {
		t.Error("a nil policy warned")
	}
}

func TestGate(t *testing.T) {
	r := testReport()
	for _, tc := range []struct {
		t    policy.Threshold
		want int
	}{
		{policy.FailOnInfo, 8},
		{policy.FailOnLow, 8},
		{policy.FailOnMedium, 7},
		{policy.FailOnHigh, 5},
		{policy.FailOnCritical, 0},
		{policy.FailNever, 0},
	} {
		if got := len(policy.Failing(r, tc.t)); got != tc.want {
			t.Errorf("%s: %d failing, want %d", tc.t, got, tc.want)
		}
		policy.Evaluate(r, nil, tc.t, now)
		if r.Gate.Failed != (tc.want > 0) || r.Gate.Failing != tc.want {
			t.Errorf("%s: Evaluate disagrees with Failing: %+v", tc.t, r.Gate)
		}
	}
	// Suppressed findings never fail.
	for i := range r.Images {
		for j := range r.Images[i].Findings {
			r.Images[i].Findings[j].Suppressed = &report.Suppression{Reason: "r"}
		}
	}
	if len(policy.Failing(r, policy.FailOnInfo)) > 0 {
		t.Error("suppressed findings fail the gate")
	}
	// A severity above critical (not a known one) fails closed.
	r.Images[0].Findings = append(r.Images[0].Findings, finding("X", "x", report.Critical+2, ""))
	if len(policy.Failing(r, policy.FailOnCritical)) == 0 {
		t.Error("an unknown severity passes the gate")
	}
}

func TestThreshold(t *testing.T) {
	for _, name := range policy.ThresholdNames() {
		th, err := policy.ParseThreshold(" " + strings.ToUpper(name) + " ")
		if err != nil || th.String() != name {
			t.Errorf("ParseThreshold(%q) = %v, %v", name, th, err)
		}
		b, _ := th.MarshalText()
		var back policy.Threshold
		if err := back.UnmarshalText(b); err != nil || back != th {
			t.Errorf("text round trip of %s: %v %v", name, back, err)
		}
	}
	if _, err := policy.ParseThreshold("severe"); err == nil {
		t.Error("severe parsed")
	}
	if policy.DefaultThreshold != policy.FailOnHigh {
		t.Error("the default threshold is not high")
	}
}
