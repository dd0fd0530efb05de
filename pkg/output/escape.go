package output

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes text that comes from an image or a registry (a path, a link
// target, a USER, a history step, an error message) safe to print to a
// terminal or a CI log. Printable text, non-ASCII letters and symbols
// included, is returned unchanged. Everything a terminal or a log reader
// would interpret rather than show is written in Go's %q notation instead:
// C0 and C1 control characters (ESC, CR, LF, TAB, BEL, NUL, DEL, U+0080 to
// U+009F), Unicode format characters (the bidi overrides and isolates such
// as U+202E, zero-width characters, U+FEFF), line and paragraph separators,
// unassigned and private-use code points, and each byte of invalid UTF-8.
// So an escaped value never starts a new line, moves the cursor, changes
// colours, opens a hyperlink or reorders what follows it.
//
// A backslash is printable and stays as it is, so "\x1b" in the output may
// be a literal backslash in the data; JSON and SARIF reports carry the
// exact bytes.
func Escape(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
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
		case printable(r):
			b.WriteString(s[i : i+size])
		default:
			writeEscaped(&b, r)
		}
		i += size
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// printable reports whether r is shown as itself: letters, marks, numbers,
// punctuation, symbols and spaces (unicode.IsGraphic; format, control,
// separator-of-lines and unassigned code points are not).
func printable(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0x20 && r < 0x7f
	}
	return unicode.IsGraphic(r)
}

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
