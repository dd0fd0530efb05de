// Package e2e decides what an end-to-end test does when a real part it
// needs is missing from the machine (the CNCF distribution registry,
// htpasswd, kubectl, cosign, a root overlay mount): outside CI it skips,
// and the test binary says once, on standard error, which part is missing
// and how to install it; in CI (CI=true, as .ci/run sets it) or with
// IMGAUDIT_E2E=1 it fails, so that a CI machine without the part can never
// pass by skipping.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Required reports whether missing parts fail tests instead of skipping
// them: CI=true or IMGAUDIT_E2E=1.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("IMGAUDIT_E2E") == "1"
}

// announced remembers the parts whose absence this test binary already
// reported, so that twelve tests needing the registry print one line.
var announced sync.Map

// Missing ends t because part is not available (why says what is wrong,
// install how to get it): a failure when [Required], else a skip, with a
// one-line notice on standard error the first time part is missing in this
// test binary.
func Missing(t testing.TB, part, why, install string) {
	t.Helper()
	msg := fmt.Sprintf("%s: %s (install: %s)", part, why, install)
	if Required() {
		t.Fatalf("e2e: %s; CI=true or IMGAUDIT_E2E=1 requires it", msg)
	}
	if _, seen := announced.LoadOrStore(part, true); !seen {
		fmt.Fprintf(os.Stderr, "e2e: %s; its end-to-end tests skip (CI=true or IMGAUDIT_E2E=1 make that a failure)\n", msg)
	}
	t.Skipf("e2e: %s", msg)
}

// Tool returns the absolute path of the command name, from the environment
// variable env when it is set (and not empty), else from PATH; when there
// is none it calls [Missing] with install.
func Tool(t testing.TB, name, env, install string) string {
	t.Helper()
	if env != "" {
		if p := os.Getenv(env); p != "" {
			if abs, err := filepath.Abs(p); err == nil && executable(abs) {
				return abs
			}
			Missing(t, name, fmt.Sprintf("$%s=%s is not an executable file", env, p), install)
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, "not found on PATH", install)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		Missing(t, name, err.Error(), install)
	}
	return abs
}

// Lookup is [Tool] for a test that can run without the command, doing
// less: it returns "" when the command is missing (after the one-line
// notice), and fails t instead when [Required].
func Lookup(t testing.TB, name, env, install string) string {
	t.Helper()
	if env != "" {
		if p := os.Getenv(env); p != "" {
			return Tool(t, name, env, install)
		}
	}
	if _, err := exec.LookPath(name); err == nil {
		return Tool(t, name, env, install)
	}
	msg := fmt.Sprintf("%s: not found on PATH (install: %s)", name, install)
	if Required() {
		t.Fatalf("e2e: %s; CI=true or IMGAUDIT_E2E=1 requires it", msg)
	}
	if _, seen := announced.LoadOrStore(name, true); !seen {
		fmt.Fprintf(os.Stderr, "e2e: %s; the tests that use it run without it (CI=true or IMGAUDIT_E2E=1 make that a failure)\n", msg)
	}
	return ""
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Inflaters returns, by name, the paths of the child inflaters
// (--decompressor) found on this machine: igzip (Debian's isal) and pigz.
// A missing one is left out after Lookup's one-line notice (CI requires
// both).
func Inflaters(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range []struct{ name, pkg string }{{"igzip", "isal"}, {"pigz", "pigz"}} {
		if p := Lookup(t, c.name, "", "apt-get install -y "+c.pkg); p != "" {
			out[c.name] = p
		}
	}
	return out
}
