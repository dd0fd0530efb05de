package layers

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// render lists the sealed tree in Walk order, with what ships there.
func render(f *FS) []string {
	var out []string
	_ = f.Walk(func(n *Node) error {
		out = append(out, fmt.Sprintf("%s %s L%d %o %s", n.Path, n.Type, n.Layer, n.Mode, n.Linkname))
		return nil
	})
	return out
}

// randomStack makes layers of entries under a few names, each layer
// adding, replacing (a file by a directory, a directory by a file or a
// symlink, a file by a setuid one), whiting out and making opaque what the
// ones below made; symlinked directories make the two appliers differ, and
// the union keeps the riskier of their files.
func randomStack(t *testing.T, rng *rand.Rand) []*LayerIndex {
	names := []string{"a", "b", "c", "a/x", "a/y", "b/x", "a/x/p", "a/x/q", "c/z", "c/z/w"}
	var out []*LayerIndex
	for range 2 + rng.IntN(5) {
		var items []it.Item
		seen := map[string]bool{}
		for range 1 + rng.IntN(8) {
			n := names[rng.IntN(len(names))]
			if seen[n] {
				continue
			}
			seen[n] = true
			switch rng.IntN(7) {
			case 0, 1:
				items = append(items, it.Dir(n, 0o755))
			case 2:
				items = append(items, it.Text(n, n))
			case 3:
				items = append(items, it.Whiteout(n))
			case 4:
				items = append(items, it.Opaque(n))
			case 5:
				items = append(items, it.Symlink(n, "/c"))
			case 6:
				items = append(items, it.Mode(it.Text(n, "s"), 0o4755))
			}
		}
		b, err := it.Tar(items...)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := IndexStream(context.Background(), bytes.NewReader(b), Options{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, idx)
	}
	return out
}

// TestPresortKeepsTheTree: a squash whose directories are presorted after
// every layer (as Scan does while a layer is read) seals the same tree, in
// the same order, as one sorted only at the end: every change of a
// presorted directory is seen by finish.
func TestPresortKeepsTheTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		stack := randomStack(t, rng)
		want, err := Squash(stack, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := newSquasher()
		for j, idx := range stack {
			if err := s.apply(j, idx); err != nil {
				t.Fatal(err)
			}
			presort(s.over.root)
			if s.native != nil {
				presort(s.native.root)
			}
		}
		info := make([]LayerInfo, len(stack))
		for j := range info {
			info[j] = LayerInfo{Index: j, HistoryIndex: -1}
		}
		got := s.finish(info)
		if w, g := render(want), render(got); !slices.Equal(w, g) {
			t.Fatalf("stack %d: presorted tree\n%s\nwant\n%s", i, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
		if w, g := len(want.Deleted()), len(got.Deleted()); w != g {
			t.Fatalf("stack %d: %d deleted, want %d", i, g, w)
		}
	}
}

// TestIdlePresortBound: however many layers a scan waits for, the
// presorts sort about three times the final entries at most.
func TestIdlePresortBound(t *testing.T) {
	s := newSquasher()
	presorts := 0
	for i := range 1000 {
		b, err := it.Tar(it.Text(fmt.Sprintf("d/f%d", i), "x"))
		if err != nil {
			t.Fatal(err)
		}
		idx, err := IndexStream(context.Background(), bytes.NewReader(b), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.apply(i, idx); err != nil {
			t.Fatal(err)
		}
		before := s.presorted
		s.idle()
		if s.presorted != before {
			presorts++
		}
	}
	if presorts > 20 {
		t.Errorf("%d presorts over 1,000 layers of one entry each", presorts)
	}
}
