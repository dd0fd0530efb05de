package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// `imgaudit checks ID` explains one check in full, image or workload.
func TestChecksExplain(t *testing.T) {
	r := runEnv(t, cli.Env{}, "checks", "ia-shell")
	for _, id := range []string{"IW-START-FILE-CAPABILITY", "IA-SETUID"} {
		for _, l := range strings.Split(runEnv(t, cli.Env{}, "checks", id).stdout, "\n") {
			if n := len([]rune(l)); n > 80 {
				t.Errorf("%s: line of %d columns: %q", id, n, l)
			}
		}
	}
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var shell checks.Meta
	for _, m := range checks.Metas(checks.All()) {
		if m.ID == "IA-SHELL" {
			shell = m
		}
	}
	head := "IA-SHELL — " + shell.Title + "\n  severity " + shell.Severity.String() + " · category shell · image check\n"
	if !strings.HasPrefix(r.stdout, head) {
		t.Errorf("stdout starts %q, want %q", r.stdout, head)
	}
	for _, want := range []string{"\nWhy it matters\n", "\nHow to fix it\n", "\nNames it matches\n  ", "bash"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}

	// A workload cross-check quotes where its behaviour comes from.
	r = runEnv(t, cli.Env{}, "checks", "-f", "json", "IW-START-NONNUMERIC-USER", "IA-ROOT-USER")
	var got struct {
		Checks []struct{ ID, Scope, Source, Remediation string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v: %s", r.code, err, r.stdout)
	}
	var docs string
	for _, c := range workload.Checks() {
		if c.ID == "IW-START-NONNUMERIC-USER" {
			docs = c.Docs
		}
	}
	if len(got.Checks) != 2 || got.Checks[0].Scope != "workload" || got.Checks[0].Source != docs || docs == "" ||
		got.Checks[1].ID != "IA-ROOT-USER" || got.Checks[1].Scope != "image" || got.Checks[1].Remediation == "" {
		t.Errorf("json: %+v", got.Checks)
	}

	// An unknown ID is a usage error that suggests close ones.
	r = runEnv(t, cli.Env{}, "checks", "IA-SHEL")
	if want := "imgaudit: unknown check \"IA-SHEL\" (did you mean IA-SHELL?) ('imgaudit checks' lists them)\n"; r.code != 2 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", r.code, r.stderr, want)
	}
	r = runEnv(t, cli.Env{}, "checks", "-f", "markdown", "IA-SHELL")
	if r.code != 2 || !strings.Contains(r.stderr, "cannot explain") {
		t.Errorf("markdown: exit %d, %q", r.code, r.stderr)
	}
}
