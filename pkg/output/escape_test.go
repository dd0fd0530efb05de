package output_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// Attacks of a hostile image on whoever reads a report in a terminal or a
// CI log.
const (
	// Clears the screen, homes the cursor and prints a green verdict.
	attackClear = "\x1b[2J\x1b[H\x1b[1;32mVerdict: PASS — no findings\x1b[0m"
	// An OSC 8 hyperlink: the text shown is not where it goes.
	attackLink = "\x1b]8;;https://evil.example/\x1b\\docs\x1b]8;;\x1b\\"
	// Returns to the start of the line and overwrites it.
	attackCR = "\rVerdict: PASS"
	// Right-to-left override: "hs.exe" shows as "exe.sh".
	attackBidi = "\u202ehs.exe"
	// A GitHub Actions workflow command on a line of its own.
	attackGHA = "\n::error title=imgaudit::all clear\n"
	// The legacy workflow-command syntax, which the runner reads anywhere
	// in a line, and a modern one for a wrapped line to start with.
	attackLegacy = "##[error]all clear ::warning::x"
	// C1 CSI as a code point and as a raw byte, BEL, NUL, DEL, zero-width
	// space, BOM, isolate, line separator.
	attackMisc = "\u009b2J\x9b2J\a\x00\x7f\u200b\ufeff\u2066\u2028"
)

var attacks = []string{attackClear, attackLink, attackCR, attackBidi, attackGHA, attackLegacy, attackMisc}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/usr/bin/curl", "/usr/bin/curl"},
		{`C:\bin\.wh.sh "x" 'y'`, `C:\bin\.wh.sh "x" 'y'`},
		{"café/日本語/Ελληνικά/😀", "café/日本語/Ελληνικά/😀"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"a\r\n\tb", `a\r\n\tb`},
		{"\a\b\f\v\x00\x7f", `\a\b\f\v\x00\x7f`},
		{"\u0085\u009b", `\u0085\u009b`},
		{"\xff\xfe", `\xff\xfe`},
		{"é\xc3", `é\xc3`},
		{"\xed\xa0\x80", `\xed\xa0\x80`}, // a UTF-16 surrogate: invalid UTF-8
		{"\u202ehs.exe\u202c", `\u202ehs.exe\u202c`},
		{"\u2066\u2067\u2068\u2069\u200e\u200f\u061c", `\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		{"a\u200bb\u200dc\ufeffd\u2060e", `a\u200bb\u200dc\ufeffd\u2060e`},
		{"a\u00a0b\u2028c\u2029d", `a\u00a0b\u2028c\u2029d`},
		{"\U000e0041\U0010ffff", `\U000e0041\U0010ffff`},
		{"##[error]x", `#\x23[error]x`},
		{"a###[b ##[", `a##\x23[b #\x23[`},
		{"é##[", `é#\x23[`},
		{"##[é\n", `#\x23[é\n`},
		{"# [x] ## [y]", "# [x] ## [y]"},
	} {
		if got := output.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEscapeAgreesWithQuote checks every code point: printable ones pass,
// every other one is written as strconv.Quote writes it.
func TestEscapeAgreesWithQuote(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		want := s
		if !strconv.IsPrint(r) {
			q := strconv.Quote(s)
			want = q[1 : len(q)-1]
		}
		if got := output.Escape(s); got != want {
			t.Fatalf("Escape(%U) = %q, want %q", r, got, want)
		}
	}
}

func TestEscapeDoesNotAllocatePrintableASCII(t *testing.T) {
	s := "/usr/lib/x86_64-linux-gnu/libc.so.6 -> libc-2.36.so"
	if n := testing.AllocsPerRun(100, func() { _ = output.Escape(s) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// inert reports why s could drive a terminal or a CI log, or "" when it
// cannot: a line that starts (after spaces) with "::", or what unprintable
// finds in a line. colours lists escape sequences the renderer itself may
// write.
func inert(s string, colours ...string) string {
	for _, c := range colours {
		s = strings.ReplaceAll(s, c, "")
	}
	for i, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
			return "line " + strconv.Itoa(i+1) + " is a workflow command: " + strconv.Quote(line)
		}
		if why := unprintable(line); why != "" {
			return why + " on line " + strconv.Itoa(i+1) + ": " + strconv.Quote(line)
		}
	}
	return ""
}

// unprintable reports a rune of s that strconv.IsPrint refuses (control,
// format, bidi, separator characters), invalid UTF-8, or "##[".
func unprintable(s string) string {
	if strings.Contains(s, "##[") {
		return "a legacy workflow command (##[)"
	}
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return "rune " + strconv.QuoteRune(r)
		}
	}
	return ""
}

func FuzzEscape(f *testing.F) {
	for _, a := range attacks {
		f.Add(a)
	}
	for _, s := range []string{"", "/usr/bin/curl", "café 日本語", "##[", "#\x23[", `\x1b`, "\xff", "é\xc3\xa9\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := output.Escape(s)
		if why := unprintable(got); why != "" {
			t.Fatalf("Escape(%q) = %q: %s", s, got, why)
		}
		if again := output.Escape(got); again != got {
			t.Fatalf("Escape is not idempotent on %q: %q, then %q", s, got, again)
		}
		printable := utf8.ValidString(s) && !strings.Contains(s, "##[")
		for _, r := range s {
			printable = printable && strconv.IsPrint(r)
		}
		if printable != (got == s) {
			t.Fatalf("Escape(%q) = %q: printable input %v, unchanged %v", s, got, printable, got == s)
		}
	})
}

// hostile is a report whose every field that comes from an image, a
// registry or a policy file carries the attacks.
func hostile() *report.Report {
	a := strings.Join(attacks, " ")
	layer := &report.LayerRef{Index: 1, Digest: "sha256:1111", DiffID: "sha256:" + a, CreatedBy: "RUN " + a}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "imgaudit", Version: "test"},
		Images: []report.Image{
			{
				Reference: "registry.example.com/app:" + a, Digest: "sha256:" + attackClear, AlsoKnownAs: []string{"registry.example.com/app:" + attackGHA + a},
				Platform: "linux/amd64" + attackCR, PlatformNote: attackGHA,
				User: report.User{Configured: attackGHA + attackClear, Verifiable: false},
				Base: report.Base{Kind: "debian", OSRelease: &report.OSRelease{PrettyName: "Debian" + attackLink}},
				Layers: []report.Layer{
					{Index: 0, Size: 1 << 20, CreatedBy: "ADD " + attackClear},
					{Index: 1, Size: 1 << 20, CreatedBy: layer.CreatedBy},
				},
				Stats: report.Stats{Files: 2, Layers: 2},
				SBOM: &report.SBOM{Distro: "Debian" + attackBidi, Packages: 1, ByType: map[string]int{"deb" + attackCR: 1},
					Skipped: []string{"/opt/" + attackGHA}},
				Findings: []report.Finding{
					{ID: "IA-SETUID", Category: "setuid", Severity: report.High, Title: "Setuid file",
						Path: "/usr/bin/" + attackBidi + attackGHA, Aliases: []string{"/bin/" + attackClear}, Name: "x" + attackCR,
						Detail: "mode " + attackMisc, Layer: layer,
						Package:     &report.PackageRef{Name: "pkg" + attackLink, Version: attackClear, Type: "deb", Remove: "apt-get purge -y pkg" + attackLink},
						Remediation: "Remove it."},
					{ID: "IA-PATH-ESCAPE", Category: "layer", Severity: report.Critical, Title: "Layer entry escapes the image root",
						Path: "/app/link\\|" + attackLegacy, Name: "escaping-link",
						Detail: `escaping-link: "../../` + attackLink + `"`, Layer: layer, Remediation: "Rebuild."},
					{ID: "IA-SECRET-ENV", Category: "secret", Severity: report.Critical, Title: "Credential in ENV",
						Name: "API_TOKEN" + attackClear, Detail: "API_TOKEN=\x1bc…(24 chars) (credential name)",
						Layer: &report.LayerRef{Index: -1, CreatedBy: "ENV API_TOKEN=\x1bc…(24 chars)"}, Remediation: "Pass secrets at runtime."},
					{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Title: "Shell available", Path: "/bin/sh", Layer: layer,
						Suppressed: &report.Suppression{Reason: "accepted" + attackGHA, Policy: ".imgaudit.yaml" + attackCR, Expires: "2099-12-31"}},
				},
			},
			{Reference: "oci:/tmp/" + attackBidi, Error: "reading usr/bin/" + attackGHA + attackClear + ": unexpected EOF"},
		},
		Policy:   &report.PolicyRef{File: ".imgaudit.yaml" + attackClear, DisabledChecks: []string{"IA-BASE" + attackCR}},
		Warnings: []report.Warning{{Kind: "x", Message: attackLegacy + " " + attackGHA + " " + a}, {Kind: "y", Message: "::error::x " + strings.Repeat("y ", 60) + "::error::z"}},
	}
	policy.Evaluate(r, nil, policy.FailOnHigh, time.Time{})
	r.ComputeFleet(report.FleetTop)
	return r
}

// ownColours are the escape sequences the table writes with Color.
var ownColours = []string{"\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[2m"}

func TestHumanFormatsEscapeImageData(t *testing.T) {
	for _, tc := range []struct {
		format output.Format
		o      output.Options
	}{
		{output.FormatTable, output.Options{ShowSuppressed: true}},
		{output.FormatTable, output.Options{ShowSuppressed: true, Color: true}},
		{output.FormatMarkdown, output.Options{ShowSuppressed: true}},
	} {
		out := string(render(t, tc.format, hostile(), tc.o))
		var colours []string
		if tc.o.Color {
			colours = ownColours
		}
		if why := inert(out, colours...); why != "" {
			t.Errorf("%s (colour %v): %s\n%s", tc.format, tc.o.Color, why, out)
		}
		// What was escaped is still there to read.
		for _, want := range []string{`\x1b[2J`, `\u202ehs.exe`, `\n::error title=imgaudit::all clear\n`, `\rVerdict: PASS`, `#\x23[error]`} {
			if tc.format == output.FormatMarkdown {
				want = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`).Replace(want)
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q missing", tc.format, want)
			}
		}
	}
}

// TestTableWrapsNoWorkflowCommand: a long value wrapped at a space must not
// put "::" at the start of a line of the table.
func TestTableWrapsNoWorkflowCommand(t *testing.T) {
	r := hostile()
	r.Images[0].User.Configured = strings.Repeat("u", 80) + " ::error::wrapped"
	out := string(render(t, output.FormatTable, r, output.Options{}))
	if why := inert(out); why != "" {
		t.Fatalf("%s\n%s", why, out)
	}
	if !strings.Contains(out, `\x3a:error::wrapped`) {
		t.Errorf("the wrapped command is not shown escaped:\n%s", out)
	}
}

// TestMarkdownTableCells: a pipe, a backslash before a pipe and a newline in
// a path or a history step stay inside their cell of a GitHub table.
func TestMarkdownTableCells(t *testing.T) {
	r := hostile()
	r.Images[0].Findings[0].Path = "/a|b\\|c\nd|"
	r.Images[0].Layers[0].CreatedBy = "RUN x \\| y | z\\"
	out := string(render(t, output.FormatMarkdown, r, output.Options{ShowSuppressed: true}))
	want := 0
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "| Severity "):
			want = 4
		case strings.HasPrefix(line, "| Layer "):
			want = 3
		case strings.HasPrefix(line, "| | |"):
			want = 2
		case !strings.HasPrefix(line, "|"):
			want = 0
		}
		if want > 0 {
			if n := gfmCells(line); n != want {
				t.Errorf("%d cells, want %d: %s", n, want, line)
			}
		}
	}
	if !strings.Contains(out, `a\|b`) || !strings.Contains(out, `\n`) {
		t.Errorf("the path is not shown:\n%s", out)
	}
}

// gfmCells counts the cells of a GitHub table row the way cmark-gfm splits
// it: a backslash escapes the ASCII punctuation character after it, and
// every other pipe separates cells.
func gfmCells(row string) int {
	row = strings.TrimSpace(row)
	n := 0
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", rune(row[i+1])):
			i++
		case row[i] == '|':
			n++
		}
	}
	return n - 1 // a leading and a trailing pipe
}

// TestJSONFormatsHideLegacyCommands: json, jsonl and sarif, which the
// GitHub Action may print in the job log, carry the data exactly but never
// the three bytes "##[" the runner reads as a workflow command.
func TestJSONFormatsHideLegacyCommands(t *testing.T) {
	want := hostile()
	for _, f := range []output.Format{output.FormatJSON, output.FormatJSONL, output.FormatSARIF} {
		out := render(t, f, hostile(), output.Options{Rules: rules()})
		if bytes.Contains(out, []byte("##[")) {
			t.Errorf("%s holds ##[", f)
		}
		if i := bytes.IndexAny(out, "\x1b\r\x00\x07"); i >= 0 {
			t.Errorf("%s: control byte at %d", f, i)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
				t.Errorf("%s: workflow command %q", f, line)
			}
		}
		if f != output.FormatJSON {
			continue
		}
		var got report.Report
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		// (JSON has no invalid UTF-8: encoding/json writes U+FFFD.)
		if got.Warnings[0].Message != strings.ToValidUTF8(want.Warnings[0].Message, "\uFFFD") || got.Images[0].Findings[1].Path != want.Images[0].Findings[1].Path {
			t.Errorf("json does not carry the exact strings: %q, %q", got.Warnings[0].Message, got.Images[0].Findings[1].Path)
		}
	}
}
