package runtimediff

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/imgaudit/imgaudit/internal/imagetest"
)

// Kinds of generated entries.
const (
	KindDir       = "dir"
	KindFile      = "file"
	KindSymlink   = "symlink"
	KindHardlink  = "hardlink"
	KindWhiteout  = "whiteout"
	KindOpaque    = "opaque"
	KindBackslash = "backslash" // a regular file whose name holds '\'
)

// Entry is one generated layer entry, kept in a form that renders back to
// imagetest calls (see [Stack.String]).
type Entry struct {
	Kind   string
	Path   string // for KindOpaque, the directory ("" for the root)
	Target string // symlink or hardlink target
	Mode   int64
	UID    int
	GID    int
	Xattrs [][2]string
}

// Stack is a stack of layers, base first.
type Stack [][]Entry

// Item returns the tar entry.
func (e Entry) Item() imagetest.Item {
	var it imagetest.Item
	switch e.Kind {
	case KindDir:
		it = imagetest.Dir(e.Path, e.Mode)
	case KindFile, KindBackslash:
		it = imagetest.File(e.Path, e.Mode, []byte("x"))
	case KindSymlink:
		it = imagetest.Symlink(e.Path, e.Target)
	case KindHardlink:
		it = imagetest.Mode(imagetest.Hardlink(e.Path, e.Target), e.Mode)
	case KindWhiteout:
		it = imagetest.Whiteout(e.Path)
	case KindOpaque:
		if e.Path == "" {
			it = imagetest.File(".wh..wh..opq", 0o644, nil)
		} else {
			it = imagetest.Opaque(e.Path)
		}
	}
	if e.UID != 0 || e.GID != 0 {
		it = imagetest.Owned(it, e.UID, e.GID)
	}
	for _, x := range e.Xattrs {
		it = imagetest.Xattr(it, x[0], x[1])
	}
	return it
}

// String renders the entry as the imagetest call that builds it.
func (e Entry) String() string {
	var s string
	switch e.Kind {
	case KindDir:
		s = fmt.Sprintf("it.Dir(%q, 0o%o)", e.Path, e.Mode)
	case KindFile, KindBackslash:
		s = fmt.Sprintf("it.File(%q, 0o%o, []byte(\"x\"))", e.Path, e.Mode)
	case KindSymlink:
		s = fmt.Sprintf("it.Symlink(%q, %q)", e.Path, e.Target)
	case KindHardlink:
		s = fmt.Sprintf("it.Mode(it.Hardlink(%q, %q), 0o%o)", e.Path, e.Target, e.Mode)
	case KindWhiteout:
		s = fmt.Sprintf("it.Whiteout(%q)", e.Path)
	case KindOpaque:
		if e.Path == "" {
			s = `it.File(".wh..wh..opq", 0o644, nil)`
		} else {
			s = fmt.Sprintf("it.Opaque(%q)", e.Path)
		}
	}
	if e.UID != 0 || e.GID != 0 {
		s = fmt.Sprintf("it.Owned(%s, %d, %d)", s, e.UID, e.GID)
	}
	for _, x := range e.Xattrs {
		s = fmt.Sprintf("it.Xattr(%s, %q, %q)", s, x[0], x[1])
	}
	return s
}

// String renders the stack as Go: one imagetest item list per layer.
func (s Stack) String() string {
	var b strings.Builder
	for i, l := range s {
		fmt.Fprintf(&b, "layer %d: {", i)
		for j, e := range l {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.String())
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// Tars returns the stack's layers as uncompressed tar streams.
func (s Stack) Tars() ([][]byte, error) {
	out := make([][]byte, len(s))
	for i, l := range s {
		items := make([]imagetest.Item, len(l))
		for j, e := range l {
			items[j] = e.Item()
		}
		var err error
		if out[i], err = imagetest.Tar(items...); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return out, nil
}

// Source supplies the generator's choices.
type Source interface {
	// Intn returns a choice in [0, n), n ≥ 1.
	Intn(n int) int
}

type randSource struct{ r *rand.Rand }

func (s randSource) Intn(n int) int { return s.r.IntN(n) }

// RandSource is a deterministic pseudo-random source: the same seed gives
// the same stacks on every machine and Go release (PCG).
func RandSource(seed uint64) Source {
	return randSource{rand.New(rand.NewPCG(seed, 0x696d6761756469))}
}

type byteSource struct{ b []byte }

func (s *byteSource) Intn(n int) int {
	if len(s.b) == 0 || n <= 1 {
		return 0
	}
	c := int(s.b[0])
	s.b = s.b[1:]
	return c % n
}

func (s *byteSource) exhausted() bool { return len(s.b) == 0 }

// ByteSource draws each choice from the next byte of b (modulo the number
// of choices), then 0 once b is used up; the stack ends with the bytes (one
// entry at least): a fuzzer's bytes drive the same generator.
func ByteSource(b []byte) Source { return &byteSource{b: b} }

type recorder struct {
	src Source
	b   []byte
}

func (r *recorder) Intn(n int) int {
	c := r.src.Intn(n)
	if n > 1 {
		r.b = append(r.b, byte(c))
	}
	return c
}

// Choices returns the bytes from which ByteSource makes the stack that
// RandSource(seed) makes: seeds for a fuzz corpus. Every choice of the
// generator is among fewer than 256.
func Choices(seed uint64) []byte {
	r := &recorder{src: RandSource(seed)}
	Gen(r)
	return r.b
}

// exhausted reports whether src has no more choices to give.
func exhausted(src Source) bool {
	e, ok := src.(interface{ exhausted() bool })
	return ok && e.exhausted()
}

// CapNetRaw is a security.capability value for cap_net_raw=ep: vfs_cap_data
// revision 2, little endian, magic 0x02000001 (revision 2, effective),
// permitted 1<<13, the rest 0 (imagetest.CapSetuidDacOverride has the
// same form).
const CapNetRaw = "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// alphabet is the generator's vocabulary: a few names, most of which meet.
type alphabet struct {
	dirs, bases, targets []string
	fileModes, dirModes  []int64
	owners               []int
	xattrs               [][2]string
}

func newAlphabet() *alphabet {
	return &alphabet{
		dirs:      []string{"", "a/", "b/", "bin/", "usr/bin/", "a/b/", "x/"},
		bases:     []string{"a", "b", "c", "sh", "bin", "usr", "x"},
		targets:   []string{"a", "b", "../a", "usr/bin", "/usr/bin", "/a", "bin", "a/b", "c", ".", "..", "/", "x/sh", "/bin/sh"},
		fileModes: []int64{0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o600, 0o6755},
		dirModes:  []int64{0o755, 0o700, 0o1777, 0o2775, 0o4755},
		owners:    []int{0, 0, 0, 1000},
		xattrs: [][2]string{
			{"security.capability", imagetest.CapSetuidDacOverride},
			{"security.capability", CapNetRaw},
			{"user.x", "1"},
			{"user.x", "2"},
			{"trusted.x", "1"},
		},
	}
}

// Gen builds a stack of 1–4 layers of 1–6 entries each from src: dirs,
// files (setuid, setgid and sticky modes among others), symlinks (relative,
// absolute, to directories), hardlinks (with their own header mode, mostly
// to files the stack already has), whiteouts, opaque markers (at the root
// too), names holding '\' that look like whiteouts, and extended attributes.
func Gen(src Source) Stack {
	n := 1 + src.Intn(4)
	s := make(Stack, n)
	a := newAlphabet()
	var files []string // regular files of earlier layers
	var seen []string  // every name so far
	for i := range s {
		if i > 0 && exhausted(src) {
			return s[:i]
		}
		var mine []string // and of this one
		m := 1 + src.Intn(6)
		for j := range m {
			if j > 0 && exhausted(src) {
				break
			}
			e := a.entry(src, mine, files, seen)
			if e.Kind == KindFile || e.Kind == KindBackslash {
				mine = append(mine, e.Path)
			}
			if e.Kind != KindWhiteout && e.Kind != KindOpaque {
				seen = append(seen, strings.TrimSuffix(e.Path, "/"))
			}
			s[i] = append(s[i], e)
		}
		files = append(files, mine...)
	}
	return s
}

func pick[T any](src Source, xs []T) T { return xs[src.Intn(len(xs))] }

func (a *alphabet) path(src Source) string { return pick(src, a.dirs) + pick(src, a.bases) }

// entry draws one entry. A hardlink mostly names a file of the same layer
// (containerd's overlay applier links inside the layer's own directory and
// refuses any other target), sometimes one of a lower layer. A whiteout names, half the time, something the stack has made.
func (a *alphabet) entry(src Source, mine, lower, seen []string) Entry {
	var e Entry
	switch src.Intn(10) {
	case 0, 1:
		e = Entry{Kind: KindDir, Path: a.path(src) + "/", Mode: pick(src, a.dirModes)}
	case 2, 3:
		e = Entry{Kind: KindFile, Path: a.path(src), Mode: pick(src, a.fileModes)}
	case 4:
		e = Entry{Kind: KindSymlink, Path: a.path(src), Target: pick(src, a.targets)}
	case 5:
		// A hardlink to a name that does not exist makes every runtime
		// refuse the stack, which then tests nothing: with no file to
		// link to yet, the entry is a file.
		var target string
		switch {
		case len(mine)+len(lower) == 0:
			return a.decorate(src, Entry{Kind: KindFile, Path: a.path(src), Mode: pick(src, a.fileModes)})
		case len(mine) > 0 && (len(lower) == 0 || src.Intn(4) != 0):
			target = pick(src, mine)
		default:
			target = pick(src, lower)
		}
		e = Entry{Kind: KindHardlink, Path: a.path(src), Target: target, Mode: pick(src, a.fileModes)}
	case 6, 7:
		p := a.path(src)
		if len(seen) > 0 && src.Intn(2) == 0 {
			p = pick(src, seen)
		}
		e = Entry{Kind: KindWhiteout, Path: p}
	case 8:
		e = Entry{Kind: KindOpaque, Path: strings.TrimSuffix(pick(src, a.dirs), "/")}
	case 9:
		dir, base := pick(src, a.dirs), pick(src, a.bases)
		name := [...]string{
			dir + base + `\` + pick(src, a.bases),
			dir + `bin\.wh.` + base,
			dir + `\.wh..wh..opq`,
			dir + `usr\bin\.wh.` + base,
		}[src.Intn(4)]
		e = Entry{Kind: KindBackslash, Path: name, Mode: pick(src, a.fileModes)}
	}
	return a.decorate(src, e)
}

// decorate gives some entries an owner and an extended attribute.
func (a *alphabet) decorate(src Source, e Entry) Entry {
	// Choice 0 is always the plain one: a fuzzer's exhausted bytes give
	// plain entries.
	if e.Kind != KindWhiteout && e.Kind != KindOpaque {
		if src.Intn(3) == 2 {
			e.UID, e.GID = pick(src, a.owners), pick(src, a.owners)
		}
		if e.Kind != KindSymlink && src.Intn(4) == 3 {
			e.Xattrs = append(e.Xattrs, pick(src, a.xattrs))
		}
	}
	return e
}

// Minimize shrinks a stack while fails still holds: it drops whole layers,
// then single entries, then extended attributes and owners, until no step
// keeps the failure. fails must be deterministic.
func Minimize(s Stack, fails func(Stack) bool) Stack {
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(s) && len(s) > 1; {
			c := clone(s)
			c = append(c[:i], c[i+1:]...)
			if fails(c) {
				s, changed = c, true
				continue
			}
			i++
		}
		for i := range s {
			for j := 0; j < len(s[i]); {
				c := clone(s)
				c[i] = append(c[i][:j], c[i][j+1:]...)
				if fails(c) {
					s, changed = c, true
					continue
				}
				j++
			}
		}
		for i := range s {
			for j, e := range s[i] {
				if len(e.Xattrs) == 0 && e.UID == 0 && e.GID == 0 {
					continue
				}
				c := clone(s)
				c[i][j].Xattrs, c[i][j].UID, c[i][j].GID = nil, 0, 0
				if fails(c) {
					s, changed = c, true
				}
			}
		}
	}
	return s
}

func clone(s Stack) Stack {
	c := make(Stack, len(s))
	for i, l := range s {
		c[i] = append([]Entry(nil), l...)
	}
	return c
}
