package cli_test

// Terminal and CI-log injection (issue 14, item 6): a hostile image puts
// escape sequences, carriage returns, bidi overrides and workflow commands
// in every string it controls. None may reach standard output or standard
// error as anything but escaped, printable text.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgaudit/imgaudit/internal/cli"
	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/report"
)

const (
	// Clears the screen and prints a green verdict.
	fakePass = "\x1b[2J\x1b[H\x1b[1;32mVerdict: PASS — no findings\x1b[0m"
	// An OSC 8 hyperlink.
	osc8 = "\x1b]8;;https://evil.example/\x07docs\x1b]8;;\x07"
	// A GitHub Actions workflow command on a line of its own.
	ghaCommand = "\n::error title=imgaudit::all clear\n"
)

// hostileImage carries the attacks in its USER, ENV names and values (whose
// first two characters the secret check shows), history, file names and
// symlink targets.
func hostileImage(t *testing.T) v1.Image {
	t.Helper()
	elf := it.ELF("", 64)
	img, err := it.Image(v1.Config{
		User: ghaCommand + fakePass,
		Env: []string{
			"PATH=/usr/local/bin:/usr/bin:/bin",
			"API_TOKEN=\x1bcQ7vP2mZ7xL4wR8tK9",           // shown as its first two characters: ESC c resets the terminal
			"\x1b[2J\x1b[32mPASS\x1b[0m_PASSWORD=Zq8vX2", // the name is shown whole
		},
	},
		it.Step("RUN echo "+fakePass+" "+osc8+" \rVerdict: PASS \u202ehs.exe"+ghaCommand,
			it.Dir("usr/local/bin", 0o755),
			it.File("usr/local/bin/\u202ehs.exe"+ghaCommand, 0o4755, elf),
			it.File("usr/local/bin/su\rVerdict: PASS"+fakePass, 0o4755, elf),
			it.Dir("app", 0o755),
			it.Symlink("app/docs", "../../../../"+osc8),
		),
		it.Meta("USER "+ghaCommand),
	)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// inert reports why s could drive a terminal or a CI log, "" when it cannot:
// a control character other than the line breaks (and colours, the escape
// sequences the renderer itself writes), any other rune strconv.IsPrint
// refuses (bidi and zero-width characters), invalid UTF-8, a line that
// starts with a workflow command, or the legacy "##[" form anywhere.
func inert(s string, colours ...string) string {
	for _, c := range colours {
		s = strings.ReplaceAll(s, c, "")
	}
	if strings.Contains(s, "##[") {
		return "a legacy workflow command (##[)"
	}
	for i, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
			return fmt.Sprintf("line %d is a workflow command: %q", i+1, line)
		}
		if !utf8.ValidString(line) {
			return fmt.Sprintf("invalid UTF-8 on line %d: %q", i+1, line)
		}
		for _, r := range line {
			if !strconv.IsPrint(r) {
				return fmt.Sprintf("rune %q on line %d: %q", r, i+1, line)
			}
		}
	}
	return ""
}

// tableColours are the escape sequences the table writes with colour.
var tableColours = []string{"\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[2m"}

func TestHostileImageTable(t *testing.T) {
	dir := it.WriteLayout(t, hostileImage(t))
	for _, format := range []string{"table", "markdown"} {
		t.Run(format, func(t *testing.T) {
			r := runEnv(t, cli.Env{Dir: t.TempDir()}, "scan", "--details", "--format", format, dir)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (setuid files); stderr %q", r.code, r.stderr)
			}
			if why := inert(r.stdout); why != "" {
				t.Errorf("stdout: %s\n%s", why, r.stdout)
			}
			if why := inert(r.stderr); why != "" {
				t.Errorf("stderr: %s\n%s", why, r.stderr)
			}
			// Each attack is there, escaped: the user line, file names, a
			// link target, a history step, a redacted ENV prefix and an ENV
			// name. (Table cells wrap at spaces: fragments have none.)
			user := `\n::error title=imgaudit::all clear\n\x1b[2J`
			if format == "markdown" {
				user = `clear \x1b[2J` // a table cell: oneLine made the newline a space
			}
			for _, want := range []string{
				user,
				`\u202ehs.exe\n::error`,
				`su\rVerdict:`,
				`escaping-link:`,
				`"../../../../\x1b]8;;https:`,
				`RUN echo \x1b[2J`,
				`API_TOKEN=\x1bc…`,
				`\x1b[2J\x1b[32mPASS\x1b[0m_PASSWORD`,
			} {
				if format == "markdown" {
					if !strings.Contains(r.stdout, want) && !strings.Contains(r.stdout, strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "_", `\_`).Replace(want)) {
						t.Errorf("%q missing", want)
					}
					continue
				}
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%q missing", want)
				}
			}
			if t.Failed() {
				t.Logf("stdout:\n%s", r.stdout)
			}
		})
	}
	t.Run("grouped table", func(t *testing.T) {
		// Without --details, rows are grouped: what they show is escaped
		// the same way.
		r := runEnv(t, cli.Env{Dir: t.TempDir()}, "scan", "--format", "table", dir)
		if strings.ContainsAny(r.stdout, "\x1b\r\u202e") || strings.Contains(r.stdout, "\n::error") {
			t.Errorf("raw control characters in the grouped table:\n%q", r.stdout)
		}
	})
	t.Run("colour and progress", func(t *testing.T) {
		env := cli.Env{Dir: t.TempDir(), IsTerminal: func(io.Writer) bool { return true }}
		r := runEnv(t, env, "scan", dir)
		if r.code != 1 {
			t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
		}
		if why := inert(r.stdout, tableColours...); why != "" {
			t.Errorf("stdout: %s\n%s", why, r.stdout)
		}
		if !strings.Contains(r.stdout, "\x1b[1m") {
			t.Error("no colour on a terminal")
		}
	})
}

// truncatedNameImage has a layer cut off inside a file whose name carries
// a workflow command and an escape sequence, so the error that ends the
// scan names it.
func truncatedNameImage(t *testing.T) v1.Image {
	t.Helper()
	body := make([]byte, 4096)
	b, err := it.Tar(it.File("usr/bin/x"+ghaCommand+fakePass, 0o755, body))
	if err != nil {
		t.Fatal(err)
	}
	// Two zero blocks end the stream; the body, a multiple of 512 bytes,
	// comes just before them. Keep its first 100 bytes.
	b = b[:len(b)-1024-len(body)+100]
	l, err := it.LayerFromTar(b)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{Layer: l, MediaType: types.OCILayer})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestHostileNameInError(t *testing.T) {
	dir := it.WriteLayout(t, truncatedNameImage(t))
	for _, format := range []string{"table", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			r := runEnv(t, cli.Env{Dir: t.TempDir()}, "scan", "--format", format, dir)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "imgaudit: ") {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
			if why := inert(r.stderr); why != "" {
				t.Errorf("stderr: %s: %q", why, r.stderr)
			}
			if !strings.Contains(r.stderr, `x\n::error title=imgaudit::all clear\n\x1b[2J`) {
				t.Errorf("stderr does not name the file, escaped: %q", r.stderr)
			}
			if format != "json" {
				if why := inert(r.stdout); why != "" {
					t.Errorf("stdout: %s\n%s", why, r.stdout)
				}
			}
		})
	}
}

// TestErrorLines: an audit of several images that fail prints one escaped
// line per failure; progress on a terminal escapes the references a
// registry lists.
func TestErrorLines(t *testing.T) {
	refs := []string{"reg.example/a:" + fakePass, "reg.example/b" + ghaCommand}
	env := cli.Env{Dir: t.TempDir(), IsTerminal: func(io.Writer) bool { return true }}
	env.RunAudit = func(_ context.Context, _ []string, o audit.Options, _ func(report.Image)) (*report.Report, error) {
		rep := &report.Report{SchemaVersion: report.SchemaVersion}
		var errs []error
		for _, ref := range refs {
			o.Progress(audit.Event{Reference: ref, Layer: 0, Layers: 2, Bytes: 1 << 20})
			err := fmt.Errorf("%s: reading layer 0: %s: unexpected EOF", ref, osc8)
			errs = append(errs, err)
			rep.Images = append(rep.Images, report.Image{Reference: ref, Error: err.Error(), Findings: []report.Finding{}})
		}
		rep.Summarize()
		return rep, fmt.Errorf("%w: %w", audit.ErrIncomplete, errors.Join(errs...))
	}
	r := runEnv(t, env, "scan", "--format", "json", "a", "b")
	if r.code != 2 {
		t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
	}
	// Progress draws its line after "\r" and ends it with "\x1b[K" (clear
	// to the end of the line); the last one clears it for the errors.
	const redraw, clear = "\r", "\x1b[K"
	end := strings.LastIndex(r.stderr, redraw+clear)
	if end < 0 {
		t.Fatalf("no progress: %q", r.stderr)
	}
	progress, errLines := r.stderr[:end], r.stderr[end+len(redraw+clear):]
	if why := inert(strings.ReplaceAll(strings.ReplaceAll(progress, redraw, "\n"), clear, "")); why != "" {
		t.Errorf("progress: %s: %q", why, progress)
	}
	if !strings.Contains(progress, `::error title=imgaudit::all clear\n: 1/2 layers`) {
		t.Errorf("progress does not show the reference escaped: %q", progress)
	}
	if why := inert(errLines); why != "" {
		t.Errorf("errors: %s: %q", why, errLines)
	}
	lines := strings.Split(strings.TrimSuffix(errLines, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "imgaudit: reg.example/a:\\x1b[2J") || !strings.HasPrefix(lines[1], `imgaudit: reg.example/b\n::error`) {
		t.Errorf("want one line per failed image: %q", errLines)
	}
}
