package cli_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/e2e"
)

// Every decompressor gives the same report of the same image; an unknown
// one is a usage error before anything is read.
func TestDecompressorFlag(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	// Timings are the one part of a report that differs between runs.
	timing := regexp.MustCompile(`"(durationMs|duration|elapsedMs|startedAt|finishedAt)":\s*[^,}]+`)
	report := func(d string) string {
		t.Helper()
		r := runEnv(t, cli.Env{Now: now}, "scan", "--no-cache", "--fail-on", "none", "--decompressor", d, "-f", "json", "../../testdata/images/demo")
		if r.code != 0 {
			t.Fatalf("--decompressor %s: exit %d: %s", d, r.code, r.stderr)
		}
		return timing.ReplaceAllString(r.stdout, "")
	}
	want := report("go")
	for d := range e2e.Inflaters(t) {
		if got := report(d); got != want {
			t.Errorf("--decompressor %s: the report differs from Go's inflater's", d)
		}
	}

	r := runEnv(t, cli.Env{}, "scan", "--no-cache", "--decompressor", "gunzip", "../../testdata/images/demo")
	if r.code != 2 || !strings.Contains(r.stderr, `imgaudit: decompressor "gunzip": want one of go, igzip, pigz, auto`) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("--decompressor gunzip: exit %d, stderr %q; want 2 and one line naming the choices", r.code, r.stderr)
	}
}
