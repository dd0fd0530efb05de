package layers

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMatcherRandom compares the compiled matcher with Match, pattern by
// pattern, on random patterns of every shape the matcher compiles
// differently and random paths over a small alphabet (so that they match).
func TestMatcherRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const alphabet = "ab.-_"
		for {
			b := make([]byte, 1+rng.IntN(5))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			if s := string(b); s != "." && s != ".." { // paths are clean
				return s
			}
		}
	}
	pattern := func() string {
		switch rng.IntN(12) {
		case 9:
			return "**/" + word() + "[ab]" + word()
		case 10:
			return "/" + word() + "/?" + word() + "*"
		case 11:
			return "/" + word() + "/*/" + word() + "[.-]"
		case 0:
			return "/" + word() + "/" + word()
		case 1:
			return "/" + word() + "/**"
		case 2:
			return "**/" + word()
		case 3:
			return "**/*" + word()
		case 4:
			return "**/" + word() + "*"
		case 5:
			return "**/" + word() + "*" + word()
		case 6:
			return "/" + word() + "/*" + word()
		case 7:
			return "**/" + word() + "/" + word()
		default:
			return "/*/" + word()
		}
	}
	for range 2000 {
		pats := make([]string, 1+rng.IntN(4))
		for i := range pats {
			pats[i] = pattern()
		}
		m := newMatcher(pats)
		for range 50 {
			parts := make([]string, 1+rng.IntN(3))
			for i := range parts {
				parts[i] = word()
			}
			p := "/" + strings.Join(parts, "/")
			want := false
			for _, pat := range pats {
				want = want || Match(pat, p)
			}
			if got := m.match(p); got != want {
				t.Fatalf("patterns %q, path %q: matcher %v, Match %v", pats, p, got, want)
			}
		}
	}
}
