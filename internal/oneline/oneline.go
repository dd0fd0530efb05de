// Package oneline makes text from untrusted sources (a registry's error
// body, a file name in a hostile layer) safe to print as one line of an error
// message or a report field.
package oneline

import (
	"strings"
	"unicode"
)

// Fold folds every whitespace run (newlines included) into one space, trims
// the ends, and replaces other non-printable characters (a terminal escape
// sequence, say) by U+FFFD.
func Fold(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return unicode.ReplacementChar
		}
		return r
	}, strings.Join(strings.Fields(s), " "))
}
