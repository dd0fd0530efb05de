package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// glob is a compiled path or image pattern:
//
//	"*"      any run of characters except '/'
//	"?"      one character except '/'
//	"[abc]"  one character of a class; "[!abc]" or "[^abc]" negates; "a-z" ranges
//	"**"     any run of characters, '/' included; "/**/" also matches "/",
//	         a leading "**/" also matches nothing, a trailing "/**" also
//	         matches the directory itself
//	"\c"     the character c (a backslash escapes the next character)
type glob struct {
	pattern string
	re      *regexp.Regexp
}

func compileGlob(pattern string) (*glob, error) {
	if pattern == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			atStart := i == 0 || pattern[i-1] == '/'
			rest := pattern[i+2:]
			switch {
			case atStart && strings.HasPrefix(rest, "/"):
				// "**/" : zero or more directories.
				b.WriteString("(?:.*/)?")
				i += 3
			case atStart && rest == "" && i > 0:
				// ".../**" : the directory itself or anything under it.
				s := b.String()
				b.Reset()
				b.WriteString(strings.TrimSuffix(s, "/"))
				b.WriteString("(?:/.*)?")
				i += 2
			default:
				b.WriteString(".*")
				i += 2
			}
		case c == '*':
			b.WriteString("[^/]*")
			i++
		case c == '?':
			b.WriteString("[^/]")
			i++
		case c == '[':
			// The class runs to the next ']'; a ']' first in the class (after
			// an optional negation) is literal.
			j := i + 1
			neg := j < len(pattern) && (pattern[j] == '!' || pattern[j] == '^')
			if neg {
				j++
			}
			first := j
			if j < len(pattern) && pattern[j] == ']' {
				j++
			}
			k := strings.IndexByte(pattern[j:], ']')
			if k < 0 {
				return nil, fmt.Errorf("pattern %q: unterminated character class", pattern)
			}
			class := pattern[first : j+k]
			i = j + k + 1
			b.WriteString("[")
			if neg {
				b.WriteString("^/")
			}
			for _, r := range class {
				switch r {
				case '\\', '[', ']', '^':
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteString("]")
		case c == '\\':
			if i+1 >= len(pattern) {
				return nil, fmt.Errorf("pattern %q: trailing backslash", pattern)
			}
			b.WriteString(regexp.QuoteMeta(pattern[i+1 : i+2]))
			i += 2
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			i++
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return &glob{pattern: pattern, re: re}, nil
}

func (g *glob) match(s string) bool { return g.re.MatchString(s) }
