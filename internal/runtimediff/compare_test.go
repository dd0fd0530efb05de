package runtimediff_test

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"

	rd "github.com/imgaudit/imgaudit/internal/runtimediff"
)

func file(mode fs.FileMode) rd.File { return rd.File{Type: "file", Mode: mode} }

func kinds(ds []rd.Diff) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Path+" "+d.Kind)
	}
	return out
}

// Compare's union semantics, on trees built by hand (no root needed).
func TestCompareUnion(t *testing.T) {
	suid := file(0o755 | fs.ModeSetuid)
	plain := file(0o755)
	cases := []struct {
		name     string
		native   rd.Tree // nil: the runtime refused the stack
		overlay  rd.Tree
		audit    rd.Tree
		strict   bool
		want     []string
		wantNone bool
	}{
		{name: "agree, audit matches", native: rd.Tree{"/a": suid}, overlay: rd.Tree{"/a": suid}, audit: rd.Tree{"/a": suid}, wantNone: true},
		{name: "agree, audit lacks", native: rd.Tree{"/a": suid}, overlay: rd.Tree{"/a": suid}, audit: rd.Tree{}, want: []string{"/a missing"}},
		{name: "agree, audit differs", native: rd.Tree{"/a": suid}, overlay: rd.Tree{"/a": suid}, audit: rd.Tree{"/a": plain}, want: []string{"/a mismatch"}},
		{name: "only overlay ships it", native: rd.Tree{}, overlay: rd.Tree{"/a": suid}, audit: rd.Tree{}, want: []string{"/a missing"}},
		{name: "disagree, audit is one", native: rd.Tree{"/a": plain}, overlay: rd.Tree{"/a": suid}, audit: rd.Tree{"/a": plain}, wantNone: true},
		{name: "disagree, audit is neither", native: rd.Tree{"/a": plain}, overlay: rd.Tree{"/a": suid}, audit: rd.Tree{"/a": file(0o700)}, want: []string{"/a mismatch"}},
		{name: "refused runtime ships nothing", overlay: rd.Tree{"/a": suid}, audit: rd.Tree{"/a": suid}, wantNone: true},
		{name: "no runtime: nothing to compare", audit: rd.Tree{"/a": suid}, strict: true, wantNone: true},
		{name: "extra only when strict", native: rd.Tree{}, overlay: rd.Tree{}, audit: rd.Tree{"/a": suid}, wantNone: true},
		{name: "extra when strict", native: rd.Tree{}, overlay: rd.Tree{}, audit: rd.Tree{"/a": suid}, strict: true, want: []string{"/a extra"}},
		{
			name:   "a link group counts the names the runtime ships",
			native: rd.Tree{"/a": {Type: "file", Mode: 0o755}},
			audit:  rd.Tree{"/a": {Type: "file", Mode: 0o755, Links: []string{"/a", "/gone"}}, "/gone": {Type: "file", Mode: 0o755, Links: []string{"/a", "/gone"}}},
			strict: true,
			want:   []string{"/gone extra"},
		},
		{
			name:   "a link group the runtime does not have",
			native: rd.Tree{"/a": {Type: "file", Mode: 0o755}, "/b": {Type: "file", Mode: 0o755}},
			audit:  rd.Tree{"/a": {Type: "file", Mode: 0o755, Links: []string{"/a", "/b"}}, "/b": {Type: "file", Mode: 0o755, Links: []string{"/a", "/b"}}},
			want:   []string{"/a mismatch", "/b mismatch"},
		},
		{
			name:   "xattrs and links count",
			native: rd.Tree{"/a": {Type: "file", Mode: 0o755, Xattrs: map[string]string{"security.capability": "c"}, Links: []string{"/a", "/b"}}},
			audit:  rd.Tree{"/a": {Type: "file", Mode: 0o755, Links: []string{"/a", "/b"}}},
			want:   []string{"/a mismatch"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rts := map[rd.Runtime]rd.Tree{}
			if c.native != nil {
				rts[rd.Native] = c.native
			}
			if c.overlay != nil {
				rts[rd.Overlay] = c.overlay
			}
			got := kinds(rd.Compare(rts, c.audit, c.strict))
			if c.wantNone {
				if len(got) > 0 {
					t.Errorf("diffs %v, want none", got)
				}
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("diffs %v, want %v", got, c.want)
			}
		})
	}
}

func TestDiffString(t *testing.T) {
	a := rd.File{Type: "symlink", Link: "/usr/bin"}
	d := rd.Diff{Path: "/x", Kind: rd.Mismatch, Audit: &a, Runtimes: map[rd.Runtime]rd.File{
		rd.Native:  {Type: "dir", Mode: 0o755},
		rd.Overlay: {Type: "file", Mode: 0o755 | fs.ModeSetuid, UID: 1000, GID: 1000},
	}}
	want := "/x: mismatch: audit symlink 0:0 -> /usr/bin; native dir 0755 0:0, overlay file 04755 1000:1000"
	if got := d.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	d = rd.Diff{Path: "/bin/sh", Kind: rd.Missing, Runtimes: map[rd.Runtime]rd.File{rd.Native: file(0o755), rd.Overlay: file(0o755)}}
	if got := d.String(); got != "/bin/sh: missing: audit -; native+overlay file 0755 0:0" {
		t.Errorf("got %s", got)
	}
	if r := rd.Report([]rd.Diff{d, d, d}, 2); !strings.HasSuffix(r, "… and 1 more\n") {
		t.Errorf("report %q", r)
	}
}

// The generator is deterministic: a seed (or a fuzzer's bytes) always
// gives the same stack, and its tars build.
func TestGenDeterministic(t *testing.T) {
	for seed := range uint64(50) {
		a, b := rd.Gen(rd.RandSource(seed)), rd.Gen(rd.RandSource(seed))
		if a.String() != b.String() {
			t.Fatalf("seed %d: two stacks:\n%s\n%s", seed, a, b)
		}
		if len(a) < 1 || len(a) > 4 {
			t.Fatalf("seed %d: %d layers", seed, len(a))
		}
		if _, err := a.Tars(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	data := []byte{3, 5, 2, 1, 4, 3, 0, 6, 2, 4, 1}
	if a, b := rd.Gen(rd.ByteSource(data)), rd.Gen(rd.ByteSource(data)); a.String() != b.String() {
		t.Fatalf("bytes: two stacks:\n%s\n%s", a, b)
	}
	if s := rd.Gen(rd.ByteSource(nil)); s.String() != "layer 0: {it.Dir(\"a/\", 0o755)}\n" {
		t.Fatalf("no bytes: %s", s)
	}
	// Choices(seed) drives ByteSource to the stack RandSource(seed) gives.
	for seed := range uint64(200) {
		want := rd.Gen(rd.RandSource(seed)).String()
		if got := rd.Gen(rd.ByteSource(rd.Choices(seed))).String(); got != want {
			t.Fatalf("seed %d: from its choices\n%s\nwant\n%s", seed, got, want)
		}
	}
}

// Minimize keeps the failure and drops everything else.
func TestMinimize(t *testing.T) {
	s := rd.Gen(rd.RandSource(7))
	s = append(s, []rd.Entry{{Kind: rd.KindFile, Path: "needle", Mode: 0o4755}})
	has := func(c rd.Stack) bool {
		for _, l := range c {
			for _, e := range l {
				if e.Path == "needle" {
					return true
				}
			}
		}
		return false
	}
	m := rd.Minimize(s, has)
	if got := m.String(); got != "layer 0: {it.File(\"needle\", 0o4755, []byte(\"x\"))}\n" {
		t.Errorf("minimized to\n%s", got)
	}
}
