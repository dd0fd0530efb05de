package checks

import (
	"path"
	"slices"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// toolRef is one entry of a PATH directory that resolves, inside the image,
// to an executable regular file.
type toolRef struct {
	name   string       // the entry's name: the command a user types
	dir    *pathDir     // the directory, with every PATH entry that names it
	file   *layers.Node // canonical node of the executable
	target *layers.Node // the node the entry resolves to (itself unless a symlink)
}

// pathDir is one directory of the search path with the PATH entries that
// reach it: "/bin" and "/usr/bin" in a merged-/usr image.
type pathDir struct {
	paths []string // cleaned, in PATH order
}

// paths returns the command's path through each PATH entry of its
// directory.
func (t toolRef) paths() []string {
	out := make([]string, len(t.dir.paths))
	for i, d := range t.dir.paths {
		out[i] = path.Join(d, t.name)
	}
	return out
}

// toolIndex is the PATH tools view: every tool entry of the PATH
// directories, indexed.
type toolIndex struct {
	refs    []toolRef                  // in PATH order, then name order
	byFile  map[*layers.Node][]toolRef // by canonical file
	byName  map[string][]toolRef       // in PATH order
	busybox map[*layers.Node]bool      // files that are busybox binaries
}

// toolsOf returns the PATH tools view: every entry of the PATH directories
// that is, or resolves through symlinks and hardlinks to, a regular file
// with an execute bit. Directories, dangling links, link loops and
// non-executable files are not tools. A directory that several PATH entries
// reach (through symlinks) is read once: the image's config chooses PATH,
// and a hostile one listing the same directory under thousands of names
// must cost thousands of lookups, not thousands of directory reads.
func toolsOf(img *Image) *toolIndex {
	return view(img, viewTools, buildToolIndex)
}

func buildToolIndex(img *Image) *toolIndex {
	ix := &toolIndex{
		byFile:  map[*layers.Node][]toolRef{},
		byName:  map[string][]toolRef{},
		busybox: map[*layers.Node]bool{},
	}
	f := filesOf(img)
	links := hardlinksOf(img)
	dirs := map[*layers.Node]*pathDir{}
	var order []*layers.Node
	for _, d := range pathDirsOf(img) {
		n, err := f.Stat(d)
		if err != nil || n.Type != layers.TypeDir {
			continue
		}
		if pd := dirs[n]; pd != nil {
			pd.paths = append(pd.paths, d)
			continue
		}
		dirs[n] = &pathDir{paths: []string{d}}
		order = append(order, n)
	}
	for _, dn := range order {
		pd := dirs[dn]
		for _, e := range dn.Children() {
			n := e
			if e.Type == layers.TypeSymlink {
				var err error
				if n, err = f.Stat(e.Path); err != nil {
					continue
				}
			}
			if n.Type != layers.TypeRegular || !n.IsExecutable() {
				continue
			}
			name := path.Base(e.Path)
			t := toolRef{name: name, dir: pd, file: links.canonical(n), target: n}
			ix.refs = append(ix.refs, t)
			ix.byFile[t.file] = append(ix.byFile[t.file], t)
			ix.byName[name] = append(ix.byName[name], t)
			if fi := links.file(t.file); name == "busybox" || (fi != nil && fi.busybox) {
				ix.busybox[t.file] = true
			}
		}
	}
	return ix
}

// lookPath returns the file a command name runs (the first PATH directory
// holding it), or nil.
func (ix *toolIndex) lookPath(name string) *layers.Node {
	if refs := ix.byName[name]; len(refs) > 0 {
		return refs[0].file
	}
	return nil
}

// isBusybox reports whether the executable is a busybox multi-call binary:
// one of its names, or the file it was hardlinked from, is "busybox", or a
// PATH entry named busybox reaches it.
func isBusybox(img *Image, n *layers.Node) bool {
	if fi := hardlinksOf(img).file(n); fi != nil && fi.busybox {
		return true
	}
	return toolsOf(img).busybox[n]
}

// hasBusybox reports whether a busybox binary is reachable from PATH or sits
// at /bin/busybox.
func hasBusybox(img *Image) bool {
	if len(toolsOf(img).busybox) > 0 {
		return true
	}
	n, err := filesOf(img).Stat("/bin/busybox")
	return err == nil && n.Type == layers.TypeRegular
}

// aliases returns the paths other than its canonical one that reach the
// file of n: its other hardlinks, and PATH entries accepted by keep (nil
// keeps all).
func aliases(img *Image, n *layers.Node, keep func(name string) bool) []string {
	links := hardlinksOf(img)
	canon := links.canonical(n)
	var out []string
	if fi := links.file(n); fi != nil {
		out = append(out, fi.paths...)
	}
	for _, t := range toolsOf(img).byFile[canon] {
		if keep == nil || keep(t.name) {
			out = append(out, t.paths()...)
		}
	}
	return cleanAliases(out, canon.Path)
}

// cleanAliases sorts paths, drops duplicates and the file's own path.
func cleanAliases(paths []string, self string) []string {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	paths = slices.DeleteFunc(paths, func(p string) bool { return p == self })
	if len(paths) == 0 {
		return nil
	}
	return paths
}
