package cli_test

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/imgaudit/imgaudit/internal/cli"
)

// TestGoldenTerminalWidths: on a terminal the table fits the terminal's
// width (never below 80 columns; $COLUMNS wins), and 100 columns elsewhere.
func TestGoldenTerminalWidths(t *testing.T) {
	for _, tc := range []struct {
		name          string
		width         int
		columns       string
		want, golden  int // widest line allowed, and the golden's width
		terminal      bool
		wantWiderThan int
	}{
		{name: "80", width: 80, want: 80, golden: 80, terminal: true, wantWiderThan: 70},
		{name: "120", width: 120, want: 120, golden: 120, terminal: true, wantWiderThan: 100},
		{name: "narrow terminal gets 80", width: 40, want: 80, terminal: true},
		{name: "COLUMNS wins", width: 120, columns: "90", want: 90, terminal: true, wantWiderThan: 80},
		{name: "not a terminal", width: 120, want: 100, wantWiderThan: 90},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := cli.Env{
				Now:           func() time.Time { return fixedNow },
				IsTerminal:    func(io.Writer) bool { return tc.terminal },
				TerminalWidth: func(io.Writer) int { return tc.width },
				Getenv: func(k string) string {
					switch k {
					case "NO_COLOR":
						return "1"
					case "COLUMNS":
						return tc.columns
					}
					return ""
				},
			}
			r := runEnv(t, env, "scan", "-q", "--no-policy", "--no-cache", filepath.Join(imagesDir, "demo"))
			if r.code != 1 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			widest := 0
			for _, l := range strings.Split(r.stdout, "\n") {
				widest = max(widest, utf8.RuneCountInString(l))
			}
			if widest > tc.want || widest <= tc.wantWiderThan {
				t.Errorf("widest line %d columns, want at most %d and more than %d", widest, tc.want, tc.wantWiderThan)
			}
			if tc.golden != 0 {
				checkGolden(t, "demo.w"+tc.name+".table", r.stdout)
			}
		})
	}
}
