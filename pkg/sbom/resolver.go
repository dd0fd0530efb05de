//go:build !nosbom

package sbom

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/gabriel-vasile/mimetype"

	stfile "github.com/anchore/stereoscope/pkg/file"
	"github.com/anchore/syft/syft/file"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// maxAliasDepth bounds how many symlinked directories an alias path may go
// through ("/bin" -> "usr/bin" is one), and maxAliases how many alias paths
// of one file are tried: a hostile image with thousands of links to one
// directory must not make every glob quadratic.
const (
	maxAliasDepth = 4
	maxAliases    = 32
)

// resolver is syft's file.Resolver over the squashed filesystem of one
// scan: every entry's metadata comes from the index, contents only from the
// files the scan captured. It never reads a layer.
//
// Its answers follow syft's squashed image resolver (stereoscope): paths
// resolve symlinks inside the image root, globs use doublestar syntax and
// match a file at its real path or, failing that, at the first path through
// a symlinked directory ("/bin/bash" for "/usr/bin/bash"), and only files
// (never directories) are returned, each once.
type resolver struct {
	fsys    *layers.FS
	diffIDs []string

	once    sync.Once
	all     []*layers.Node            // every entry, walk order
	bases   []string                  // the name of each entry of all
	byBase  map[string][]*layers.Node // basename -> entries
	byExt   map[string][]int32        // basename's extension (path.Ext) -> indexes into all
	byDir   map[string][]int32        // name of the entry's directory -> indexes into all
	linksTo map[string][]string       // real directory path -> symlinks resolving to it, sorted

	mu     sync.Mutex
	mimes  map[*layers.Node]string
	missed map[string]int64 // files whose contents syft asked for but the scan did not capture
}

var _ file.Resolver = (*resolver)(nil)

func newResolver(fsys *layers.FS) *resolver {
	r := &resolver{fsys: fsys, mimes: map[*layers.Node]string{}, missed: map[string]int64{}}
	for _, l := range fsys.Layers() {
		r.diffIDs = append(r.diffIDs, l.DiffID.String())
	}
	return r
}

// index builds the lookups globs need, once.
func (r *resolver) index() {
	r.once.Do(func() {
		r.byBase = map[string][]*layers.Node{}
		r.byExt = map[string][]int32{}
		r.byDir = map[string][]int32{}
		r.linksTo = map[string][]string{}
		_ = r.fsys.Walk(func(n *layers.Node) error {
			base := path.Base(n.Path)
			if ext := path.Ext(base); ext != "" {
				r.byExt[ext] = append(r.byExt[ext], int32(len(r.all)))
			}
			dir := path.Base(path.Dir(n.Path))
			r.byDir[dir] = append(r.byDir[dir], int32(len(r.all)))
			r.all = append(r.all, n)
			r.bases = append(r.bases, base)
			r.byBase[base] = append(r.byBase[base], n)
			if n.Type == layers.TypeSymlink {
				if t, err := r.fsys.Stat(n.Path); err == nil && t.Type == layers.TypeDir && t.Path != n.Path {
					r.linksTo[t.Path] = append(r.linksTo[t.Path], n.Path)
				}
			}
			return nil
		})
		for _, ls := range r.linksTo {
			slices.Sort(ls)
		}
	})
}

// missedFiles returns the files syft wanted to read whose contents were not
// captured, by path, with their sizes.
func (r *resolver) missedFiles() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.missed)
}

func (r *resolver) location(n *layers.Node, access string) file.Location {
	c := file.Coordinates{RealPath: n.Path}
	if n.Layer >= 0 && n.Layer < len(r.diffIDs) {
		c.FileSystemID = r.diffIDs[n.Layer]
	}
	return file.NewVirtualLocationFromCoordinates(c, access)
}

// isFile reports whether syft treats n as a file it may read.
func isFile(n *layers.Node) bool {
	return n.Type == layers.TypeRegular || n.Type == layers.TypeHardlink
}

// HasPath reports whether p exists (symlinks in its parents followed).
func (r *resolver) HasPath(p string) bool {
	_, err := r.fsys.Lstat(cleanAbs(p))
	return err == nil
}

// FilesByPath returns the files at the given paths, every symlink followed.
func (r *resolver) FilesByPath(paths ...string) ([]file.Location, error) {
	var out []file.Location
	seen := map[*layers.Node]bool{}
	for _, p := range paths {
		p = cleanAbs(p)
		n, err := r.fsys.Stat(p)
		if err != nil || !isFile(n) || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, r.location(n, p))
	}
	return out, nil
}

// FilesByGlob returns the files matching any of the doublestar patterns.
func (r *resolver) FilesByGlob(patterns ...string) ([]file.Location, error) {
	var out []file.Location
	seen := map[*layers.Node]bool{}
	for _, pattern := range patterns {
		for _, pat := range expandBraces(pattern) {
			if !doublestar.ValidatePattern(pat) {
				return nil, fmt.Errorf("bad glob %q", pattern)
			}
			if !strings.HasPrefix(pat, "/") && !strings.HasPrefix(pat, "**") {
				pat = "/" + pat
			}
			for _, m := range r.glob(pat) {
				t := m.node
				if t.Type == layers.TypeSymlink {
					var err error
					if t, err = r.fsys.Stat(m.node.Path); err != nil {
						continue
					}
				}
				if !isFile(t) || seen[t] {
					continue
				}
				seen[t] = true
				out = append(out, r.location(t, m.access))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b file.Location) int { return strings.Compare(a.AccessPath, b.AccessPath) })
	return out, nil
}

type globMatch struct {
	node   *layers.Node
	access string
}

// glob returns the entries matching one brace-free pattern, with the path
// that matched.
func (r *resolver) glob(pat string) []globMatch {
	var out []globMatch
	// A literal directory prefix is resolved and only its subtree walked;
	// the paths tried keep the prefix as written, so "/bin/*" matches the
	// files of /usr/bin when /bin links there.
	if prefix, rest := literalPrefix(pat); prefix != "" {
		dir, err := r.fsys.Stat(prefix)
		if err != nil || dir.Type != layers.TypeDir {
			if n, err := r.fsys.Lstat(prefix); err == nil && rest == "" {
				return []globMatch{{n, prefix}}
			}
			return nil
		}
		if rest == "" {
			return nil
		}
		depth := -1
		if !strings.Contains(rest, "**") {
			depth = strings.Count(rest, "/") + 1
		}
		walkUnder(dir, prefix, depth, func(n *layers.Node, p string) {
			if ok, _ := doublestar.Match(pat, p); ok {
				out = append(out, globMatch{n, p})
			}
		})
		return out
	}
	r.index()
	// Narrow the candidates by the pattern's last element, which every
	// path that matches (the real one or one through a symlinked
	// directory) ends with; the lists keep walk order, so the path a file
	// is reported by does not depend on the narrowing.
	candidates := r.all
	if base := path.Base(pat); !hasMeta(base) {
		candidates = r.byBase[base]
	} else {
		// The name starts and ends with the literal text around the glob
		// syntax ("libpython" and "" in "libpython*.so*", "" and ".jar"
		// in "*.jar"); a suffix with a dot also fixes the extension.
		pre, suf := layers.GlobAffixes(base)
		keep := func(i int) {
			if b := r.bases[i]; len(b) >= len(pre)+len(suf) && strings.HasPrefix(b, pre) && strings.HasSuffix(b, suf) {
				candidates = append(candidates, r.all[i])
			}
		}
		switch {
		case strings.Contains(suf, "."):
			candidates = nil
			for _, i := range r.byExt[path.Ext(suf)] {
				keep(int(i))
			}
		case pre != "" || suf != "":
			candidates = nil
			for i := range r.all {
				keep(i)
			}
		default:
			// A name without literal text ("**/go/pkg/mod/m@v1.2.3/*"):
			// narrow by the directory's name when the pattern spells it.
			if dir := parentName(pat); dir != "" {
				candidates = r.inDirNamed(dir)
			}
		}
	}
	for _, n := range candidates {
		if p, ok := r.matchAny(pat, n); ok {
			out = append(out, globMatch{n, p})
		}
	}
	return out
}

// parentName returns the next-to-last element of pat when it is literal,
// else "".
func parentName(pat string) string {
	d := path.Dir(pat)
	if d == "." || d == "/" {
		return ""
	}
	if b := path.Base(d); !hasMeta(b) {
		return b
	}
	return ""
}

// inDirNamed returns, in walk order, the entries whose path or an alias of
// it (through symlinked directories) has a directory named name as its
// last: the entries of the directories named so, and of the directories
// a symlink named so resolves to. Every path reaching an entry ends with
// its real name, and the directory element before it is either the real
// directory's name or the name of a symlink resolving to that directory.
func (r *resolver) inDirNamed(name string) []*layers.Node {
	idx := slices.Clone(r.byDir[name])
	for dir, links := range r.linksTo {
		if path.Base(dir) == name || !slices.ContainsFunc(links, func(l string) bool { return path.Base(l) == name }) {
			continue
		}
		for _, i := range r.byDir[path.Base(dir)] {
			if path.Dir(r.all[i].Path) == dir {
				idx = append(idx, i)
			}
		}
	}
	slices.Sort(idx)
	out := make([]*layers.Node, 0, len(idx))
	for _, i := range slices.Compact(idx) {
		out = append(out, r.all[i])
	}
	return out
}

// matchAny matches n's real path against pat, then the paths that reach n
// through symlinked directories, in order; it returns the first that
// matches.
func (r *resolver) matchAny(pat string, n *layers.Node) (string, bool) {
	if ok, _ := doublestar.Match(pat, n.Path); ok {
		return n.Path, true
	}
	if len(r.linksTo) == 0 {
		return "", false
	}
	for _, a := range r.aliases(n.Path, 0) {
		if ok, _ := doublestar.Match(pat, a); ok {
			return a, true
		}
	}
	return "", false
}

// aliases lists the other paths reaching p through symlinked directories,
// sorted.
func (r *resolver) aliases(p string, depth int) []string {
	if depth >= maxAliasDepth {
		return nil
	}
	var out []string
	for d := path.Dir(p); len(out) < maxAliases; d = path.Dir(d) {
		for _, l := range r.linksTo[d] {
			if len(out) >= maxAliases {
				break
			}
			a := l + strings.TrimPrefix(p, d)
			if d == "/" {
				a = l + p
			}
			out = append(out, a)
			out = append(out, r.aliases(a, depth+1)...)
		}
		if d == "/" {
			break
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// walkUnder calls fn for the entries below dir, named as below prefix, at
// most depth levels down (-1: any). Symlinked directories are not entered.
func walkUnder(dir *layers.Node, prefix string, depth int, fn func(n *layers.Node, p string)) {
	if depth == 0 {
		return
	}
	for _, c := range dir.Children() {
		p := path.Join(prefix, path.Base(c.Path))
		fn(c, p)
		if c.Type == layers.TypeDir {
			walkUnder(c, p, depth-1, fn)
		}
	}
}

// literalPrefix splits an absolute pattern into its longest directory
// prefix without glob syntax and the rest.
func literalPrefix(pat string) (prefix, rest string) {
	if !strings.HasPrefix(pat, "/") {
		return "", pat
	}
	parts := strings.Split(pat[1:], "/")
	i := 0
	for i < len(parts)-1 && !hasMeta(parts[i]) {
		i++
	}
	if i == len(parts)-1 && !hasMeta(parts[i]) {
		return pat, ""
	}
	if i == 0 {
		return "", pat
	}
	return "/" + strings.Join(parts[:i], "/"), strings.Join(parts[i:], "/")
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[{\`) }

// expandBraces expands "{a,b}" alternatives (nested ones too) into separate
// patterns.
func expandBraces(p string) []string {
	open := -1
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			if depth == 0 {
				open = i
			}
			depth++
		case '}':
			if depth == 0 {
				continue
			}
			depth--
			if depth > 0 {
				continue
			}
			var alts []string
			start, d := open+1, 0
			for j := open + 1; j < i; j++ {
				switch p[j] {
				case '\\':
					j++
				case '{':
					d++
				case '}':
					d--
				case ',':
					if d == 0 {
						alts = append(alts, p[start:j])
						start = j + 1
					}
				}
			}
			alts = append(alts, p[start:i])
			var out []string
			for _, a := range alts {
				out = append(out, expandBraces(p[:open]+a+p[i+1:])...)
			}
			return out
		}
	}
	return []string{p}
}

// FilesByMIMEType returns the captured files whose contents look like one
// of types.
func (r *resolver) FilesByMIMEType(types ...string) ([]file.Location, error) {
	r.index()
	var out []file.Location
	for _, n := range r.all {
		if !isFile(n) {
			continue
		}
		if slices.Contains(types, r.mimeType(n)) {
			out = append(out, r.location(n, n.Path))
		}
	}
	return out, nil
}

// mimeType sniffs a captured file's type from its contents as stereoscope
// does. Files that were not captured have no type: syft's binary
// catalogers, which ask for executables by type, see only the captured
// ones (see Needs), instead of failing to read every other binary.
func (r *resolver) mimeType(n *layers.Node) string {
	// Only captured contents can be sniffed: the others answer at once,
	// without a lock or an entry in the cache (a million-file image asks
	// about every file).
	if !isFile(n) || n.Size == 0 || (!n.Captured() && n.Partial() == nil) {
		return ""
	}
	r.mu.Lock()
	m, ok := r.mimes[n]
	r.mu.Unlock()
	if ok {
		return m
	}
	if b, err := r.fsys.ReadFile(n.Path); err == nil {
		m = strings.Split(mimetype.Detect(b).String(), ";")[0]
	} else if p := n.Partial(); p != nil {
		m = strings.Split(mimetype.Detect(p.Head()).String(), ";")[0]
	}
	r.mu.Lock()
	r.mimes[n] = m
	r.mu.Unlock()
	return m
}

// RelativeFileByPath returns the file at p; a squashed filesystem has one
// answer whatever the starting location.
func (r *resolver) RelativeFileByPath(_ file.Location, p string) *file.Location {
	ls, _ := r.FilesByPath(p)
	if len(ls) == 0 {
		return nil
	}
	return &ls[0]
}

// FileContentsByLocation returns the contents of a captured file. A file
// the scan did not capture is an error, and is remembered (see missedFiles).
func (r *resolver) FileContentsByLocation(l file.Location) (io.ReadCloser, error) {
	n, err := r.fsys.Stat(l.RealPath)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", l.RealPath, err)
	}
	if n.Type == layers.TypeDir {
		return nil, fmt.Errorf("opening %s: is a directory", l.RealPath)
	}
	b, err := r.fsys.ReadFile(n.Path)
	if err != nil {
		// A Go executable too large to capture: the scan kept its headers
		// and build information, which is all syft's Go cataloguer reads
		// (through io.ReaderAt, never the whole file); the bytes not kept
		// read as zeros. Other catalogers learn nothing from such a file,
		// so it still counts as skipped unless it is a Go executable.
		if p := n.Partial(); p != nil && (err == nil || errors.Is(err, layers.ErrNotCaptured)) {
			// Skipped unless the Go build information reads back from
			// what was kept (it may lie outside where debug/buildinfo
			// looks, with unusual linker layouts).
			if !p.GoBuildInfo() || !readsBuildInfo(p) {
				r.miss(n)
			}
			return p.Open(), nil
		}
		r.miss(n)
		return nil, fmt.Errorf("opening %s: %w", l.RealPath, err)
	}
	return bytesReadCloser{bytes.NewReader(b)}, nil
}

// bytesReadCloser reads captured contents in place. It is a ReaderAt and a
// Seeker as well, which syft's binary readers need: given a plain reader,
// they would copy the whole file first, for every pattern they try.
type bytesReadCloser struct{ *bytes.Reader }

func (bytesReadCloser) Close() error { return nil }

func (r *resolver) miss(n *layers.Node) {
	r.mu.Lock()
	r.missed[n.Path] = n.Size
	r.mu.Unlock()
}

// FileMetadataByLocation describes the entry at the location's real path.
func (r *resolver) FileMetadataByLocation(l file.Location) (file.Metadata, error) {
	n, err := r.fsys.Lstat(l.RealPath)
	if err != nil {
		return file.Metadata{}, fmt.Errorf("metadata of %s: %w", l.RealPath, err)
	}
	return r.metadata(n), nil
}

func (r *resolver) metadata(n *layers.Node) file.Metadata {
	mode := n.Mode
	var typ stfile.Type
	switch n.Type {
	case layers.TypeDir:
		mode |= fs.ModeDir
		typ = stfile.TypeDirectory
	case layers.TypeSymlink:
		mode |= fs.ModeSymlink
		typ = stfile.TypeSymLink
	case layers.TypeHardlink:
		typ = stfile.TypeHardLink
	case layers.TypeCharDevice:
		mode |= fs.ModeDevice | fs.ModeCharDevice
		typ = stfile.TypeCharacterDevice
	case layers.TypeBlockDevice:
		mode |= fs.ModeDevice
		typ = stfile.TypeBlockDevice
	case layers.TypeFIFO:
		mode |= fs.ModeNamedPipe
		typ = stfile.TypeFIFO
	default:
		typ = stfile.TypeRegular
	}
	name := path.Base(n.Path)
	return file.Metadata{
		FileInfo:        stfile.ManualInfo{NameValue: name, SizeValue: n.Size, ModeValue: mode, ModTimeValue: time.Time{}},
		Path:            n.Path,
		LinkDestination: n.Linkname,
		UserID:          n.UID,
		GroupID:         n.GID,
		Type:            typ,
		MIMEType:        r.mimeType(n),
	}
}

// AllLocations lists every entry at its real path, links not followed.
func (r *resolver) AllLocations(ctx context.Context) <-chan file.Location {
	r.index()
	ch := make(chan file.Location)
	go func() {
		defer close(ch)
		for _, n := range r.all {
			select {
			case <-ctx.Done():
				return
			case ch <- r.location(n, n.Path):
			}
		}
	}()
	return ch
}

// cleanAbs cleans p as an absolute path.
func cleanAbs(p string) string { return path.Clean("/" + p) }

// readsBuildInfo reports whether debug/buildinfo reads p's Go build
// information. The file is hostile: a parser panic is a "no".
func readsBuildInfo(p *layers.Partial) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := buildinfo.Read(p.Open())
	return err == nil
}
