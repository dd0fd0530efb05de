package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/internal/cli"
)

// Profiles gate on what an image guarantees. A busybox or Debian image
// fails hardened; an image of one static binary with a numeric non-root
// user passes it. Without --fail-on or --profile the gate is baseline;
// --fail-on alone is the severity gate it always was.
func TestProfiles(t *testing.T) {
	img := func(name string) string { return filepath.Join(imagesDir, name) }
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"busybox fails hardened", []string{"--profile", "hardened", img("busybox")}, 1, "failing the hardened profile (--profile) in " + img("busybox")},
		{"demo fails hardened", []string{"--profile", "hardened", img("demo")}, 1, "failing the hardened profile"},
		{"static non-root passes hardened", []string{"--profile", "hardened", img("hardened")}, 0, ""},
		{"default is baseline", []string{img("demo")}, 1, "findings failing the baseline profile (--profile)"},
		// busybox's user is a name (IA-USER-NAME, medium): baseline fails
		// it where --fail-on high did not.
		{"busybox fails baseline", []string{img("busybox")}, 1, "failing the baseline profile"},
		{"--fail-on alone is a severity gate", []string{"--fail-on", "high", img("busybox")}, 0, ""},
		{"--fail-on none never fails", []string{"--fail-on", "none", img("demo")}, 0, ""},
		{"--profile none is the default severity gate", []string{"--profile", "none", img("busybox")}, 0, ""},
		{"both", []string{"--profile", "hardened", "--fail-on", "info", img("distroless")}, 1, "failing the hardened profile or at or above info (--profile, --fail-on)"},
		{"unknown profile", []string{"--profile", "strict", img("demo")}, 2, `--profile: unknown profile "strict" (want baseline, hardened or none)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runEnv(t, cli.Env{}, append([]string{"scan", "-q", "--no-cache", "--no-sbom", "--no-policy", "-f", "json"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
			if tc.code == 2 {
				return
			}
			rep := decode(t, r.stdout)
			if want := profileOf(tc.args); rep.Gate == nil || rep.Gate.Profile != want {
				t.Errorf("gate %+v, want profile %q", rep.Gate, want)
			}
		})
	}

	// A policy file picks a profile; the command line wins over it.
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(pol, []byte("version: 1\nprofile: hardened\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runEnv(t, cli.Env{}, "scan", "-q", "--no-cache", "--no-sbom", "--policy", pol, img("busybox")); r.code != 1 || !strings.Contains(r.stderr, "hardened profile") {
		t.Errorf("policy profile: exit %d, %q", r.code, r.stderr)
	}
	if r := runEnv(t, cli.Env{}, "scan", "-q", "--no-cache", "--no-sbom", "--policy", pol, "--profile", "none", img("busybox")); r.code != 0 {
		t.Errorf("--profile none over the policy's: exit %d, %q", r.code, r.stderr)
	}
	if err := os.WriteFile(pol, []byte("version: 1\nprofile: strict\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runEnv(t, cli.Env{}, "scan", "-q", "--no-cache", "--no-sbom", "--policy", pol, img("busybox")); r.code != 2 ||
		!strings.Contains(r.stderr, `p.yaml:2: profile: unknown profile "strict" (known: baseline, hardened, none)`) {
		t.Errorf("unknown profile in the file: exit %d, %q", r.code, r.stderr)
	}
	// Workloads gate on their cross-checks: --profile is refused there.
	if r := runEnv(t, cli.Env{}, "workload", "--profile", "hardened", "../../testdata/workloads/shop.yaml"); r.code != 2 || !strings.Contains(r.stderr, "--profile gates image audits") {
		t.Errorf("workload --profile: exit %d, %q", r.code, r.stderr)
	}
}

// profileOf is the profile the gate records for args.
func profileOf(args []string) string {
	for i, a := range args {
		if a == "--profile" {
			if args[i+1] == "none" {
				return ""
			}
			return args[i+1]
		}
		if a == "--fail-on" {
			return ""
		}
	}
	return "baseline"
}
