package output

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Escape makes text that comes from an image or a registry (a path, a link
// target, a USER, a history step, an error message) safe to print to a
// terminal or a CI log. Printable text (strconv.IsPrint: letters, marks,
// numbers, punctuation, symbols and the ASCII space, so "é" and CJK
// included) is returned unchanged. Every other rune is written the way %q
// writes it: C0 and C1 control characters (ESC, CR, LF, TAB, BEL, NUL, DEL,
// U+0080 to U+009F) as \x1b, \r, \n, \t, \u009b..., Unicode format
// characters (bidi overrides and isolates such as U+202E, zero-width
// characters, U+FEFF) as \u202e..., other spaces and the line and
// paragraph separators, unassigned and private-use code points; each byte
// of invalid UTF-8 as \xff. So an escaped value never starts a new line,
// moves the cursor, changes colours, opens a hyperlink or reorders what
// follows it.
//
// One printable sequence is escaped too: "##[", which the GitHub Actions
// runner reads as a workflow command ("##[error]...") anywhere in a line of
// a job's log, becomes "#\x23[".
//
// A backslash and a double quote stay as they are (only %q's quoting would
// need them escaped), so "\x1b" in the output may be a backslash in the
// data; JSON and SARIF reports carry the exact bytes.
func Escape(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if j := strings.Index(s[:i], legacyCommand); j >= 0 {
		i = j
	} else if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&0xf])
		case r == '#' && strings.HasPrefix(s[i:], legacyCommand):
			b.WriteString(`#\x23[`)
			size = len(legacyCommand)
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			writeEscaped(&b, r)
		}
		i += size
	}
	return b.String()
}

// legacyCommand starts a GitHub Actions workflow command in the legacy
// syntax, which the runner looks for anywhere in a line.
const legacyCommand = "##["

const hexDigits = "0123456789abcdef"

// writeEscaped writes r the way strconv.QuoteRune would inside its quotes.
func writeEscaped(b *strings.Builder, r rune) {
	switch r {
	case '\a':
		b.WriteString(`\a`)
		return
	case '\b':
		b.WriteString(`\b`)
		return
	case '\f':
		b.WriteString(`\f`)
		return
	case '\n':
		b.WriteString(`\n`)
		return
	case '\r':
		b.WriteString(`\r`)
		return
	case '\t':
		b.WriteString(`\t`)
		return
	case '\v':
		b.WriteString(`\v`)
		return
	}
	var digits int
	switch {
	case r < 0x80:
		b.WriteString(`\x`)
		digits = 2
	case r < 0x10000:
		b.WriteString(`\u`)
		digits = 4
	default:
		b.WriteString(`\U`)
		digits = 8
	}
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

// commandSafe wraps the writer of a JSON report (json, jsonl, sarif), which
// the GitHub Action prints in the job log: "##[", which can only occur
// inside a JSON string, is written "#\u0023[", the same string to any JSON
// reader but no workflow command to the runner. json.Encoder writes each
// value with one Write, so the sequence is never split between two.
type commandSafe struct{ w io.Writer }

func (c commandSafe) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte(legacyCommand)) {
		return c.w.Write(p)
	}
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte(legacyCommand), []byte(`#\u0023[`))); err != nil {
		return 0, err
	}
	return len(p), nil
}
