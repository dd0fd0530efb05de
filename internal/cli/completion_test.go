package cli_test

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/internal/cli"
)

// TestCompletion: each shell gets its script, with and without descriptions.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		shell, marker string
	}{
		{"bash", "__start_imgaudit"},
		{"zsh", "#compdef imgaudit"},
		{"fish", "complete -c imgaudit"},
		{"powershell", "Register-ArgumentCompleter"},
	} {
		for _, args := range [][]string{{"completion", tc.shell}, {"completion", tc.shell, "--no-descriptions"}} {
			t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
				r := runEnv(t, cli.Env{}, args...)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				if !strings.Contains(r.stdout, tc.marker) {
					t.Errorf("the %s script lacks %q:\n%.300s", tc.shell, tc.marker, r.stdout)
				}
			})
		}
	}
}

// TestCompletionCandidates drives cobra's hidden __complete command the way
// the shell scripts do: subcommands, flags and flag values are offered.
func TestCompletionCandidates(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, []string{"scan", "registry", "checks", "cache", "version", "completion"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
		{[]string{"__complete", "scan", "--fail"}, []string{"--fail-on"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runEnv(t, cli.Env{}, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("candidates lack %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestEveryCommandHasExamples: --help shows examples on every command.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		if c.Short == "" {
			t.Errorf("%q has no Short", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cli.NewRoot(cli.Env{}))
}

// TestUsageErrorsSayWhatToDo: argument mistakes exit 2 with one line that
// names the help to read or the command meant.
func TestUsageErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"registry"}, "(see 'imgaudit registry --help')"},
		{[]string{"scan"}, "(see 'imgaudit scan --help')"},
		{[]string{"version", "extra"}, "(see 'imgaudit version --help')"},
		{[]string{"cache", "purge"}, "(see 'imgaudit cache --help')"},
		{[]string{"completion", "tcsh"}, "(see 'imgaudit completion --help')"},
		{[]string{"scna"}, `unknown command "scna" for "imgaudit" (did you mean scan? see 'imgaudit --help')`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "imgaudit" (see 'imgaudit --help')`},
		{[]string{"version", "--format", "yaml"}, `unknown format "yaml" (want text or json)`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runEnv(t, cli.Env{}, tc.args...)
			if r.code != cli.ExitError {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("stderr is %d lines, want one: %q", n+1, r.stderr)
			}
		})
	}
}

// TestGroupCommandsPrintHelp: a command that only groups others prints its
// help when run alone.
func TestGroupCommandsPrintHelp(t *testing.T) {
	for _, cmd := range []string{"cache", "completion"} {
		r := runEnv(t, cli.Env{}, cmd)
		if r.code != 0 || !strings.Contains(r.stdout, "Available Commands:") {
			t.Errorf("%s: exit %d, stdout %q", cmd, r.code, r.stdout)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	r := runEnv(t, cli.Env{}, "version", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct{ Version, Commit, Date, Go, Platform string }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	if got.Version != "test" || got.Go != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version JSON %+v", got)
	}
}
