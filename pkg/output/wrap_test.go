package output

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestWrapLongLineIsLinear(t *testing.T) {
	// One file with 100,000 hardlinks lists them all on one line: wrapping
	// it took minutes when each cut copied the rest of the line.
	var names []string
	for i := range 100_000 {
		names = append(names, fmt.Sprintf("/usr/bin/l%d", i))
	}
	line := "also " + strings.Join(names, ", ")
	start := time.Now()
	lines := wrap(line, 60)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("wrapping %d bytes took %s", len(line), d)
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 60 {
			t.Fatalf("line of %d runes: %q", utf8.RuneCountInString(l), l)
		}
	}
	if got := strings.Join(lines, " "); got != line {
		t.Errorf("wrapped lines do not join back into the line")
	}
	for _, c := range []struct {
		s    string
		want []string
	}{
		{"short", []string{"short"}},
		{"aaaa bbbb cccc", []string{"aaaa bbbb", "cccc"}},
		{"/usr/lib/x86_64/libfoo.so", []string{"/usr/lib/", "x86_64/", "libfoo.so"}},
		{"abcdefghijklmnop", []string{"abcdefghi", "jklmnop"}},
	} {
		if got := wrap(c.s, 9); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrap(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}
