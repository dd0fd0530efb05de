package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MaxSymlinkHops bounds symlink resolution, as Linux's MAXSYMLINKS does.
const MaxSymlinkHops = 40

// Errors returned by path resolution.
var (
	ErrNotCaptured = errors.New("file contents were not captured")
	ErrLinkLoop    = errors.New("too many levels of symbolic links")
	ErrNotDir      = errors.New("not a directory")
)

// LayerInfo describes one layer of an image and the history step that made it.
type LayerInfo struct {
	Index  int     // position in the manifest, from 0 (the base)
	Digest v1.Hash // blob digest
	DiffID v1.Hash
	Size   int64 // compressed size in bytes
	// UncompressedSize is the size of the layer's tar stream in bytes.
	UncompressedSize int64
	// CreatedBy is the history step's created_by (the Dockerfile line), ""
	// when the image carries no history for this layer.
	CreatedBy string
	// HistoryIndex is the position of that step in the config's history, -1
	// when unknown.
	HistoryIndex int
}

// Node is one entry of the final filesystem. An image can hold millions, so
// what only some nodes need (a directory's children, a hardlink's origin, a
// captured file's contents) hangs off pointers.
type Node struct {
	Entry
	// Layer is the index of the layer that put this entry (or, for a
	// directory, its final metadata) there.
	Layer int
	// Inode identifies the underlying file: hardlinks share it.
	Inode uint64

	parent *Node
	dir    *dirNode // directories only
	ext    *nodeExt // hardlinks and captured files only
	// Implicit marks a directory that no layer declared: it exists because a
	// layer holds an entry below it.
	Implicit bool
}

type dirNode struct {
	children map[string]*Node
	// sorted holds the children sorted by path: set when the tree is
	// sealed, or earlier by presort, and nil again whenever a child is
	// put or removed (setChild, delChild).
	sorted []*Node
	opaque bool // an upper layer's directory that hides lower ones (squash only)
	// clean says that sorted is set here and in every directory below
	// (presort need not come down here). A change clears it here and in
	// every directory above.
	clean bool
}

// setChild puts c in directory n as name. Every change of a directory's
// children goes through setChild or delChild.
func (n *Node) setChild(name string, c *Node) {
	n.dir.children[name] = c
	n.changed()
}

// delChild removes name from directory n.
func (n *Node) delChild(name string) {
	delete(n.dir.children, name)
	n.changed()
}

func (n *Node) changed() {
	n.dir.sorted = nil
	for x := n; x != nil && x.dir != nil && x.dir.clean; x = x.parent {
		x.dir.clean = false
	}
}

// sortChildren returns directory n's children sorted by path, sorting
// them when they are not already.
func (n *Node) sortChildren() []*Node {
	if n.dir.sorted != nil && len(n.dir.sorted) == len(n.dir.children) {
		return n.dir.sorted
	}
	sorted := make([]*Node, 0, len(n.dir.children))
	for _, c := range n.dir.children {
		sorted = append(sorted, c)
	}
	slices.SortFunc(sorted, func(a, b *Node) int { return strings.Compare(a.Path, b.Path) })
	n.dir.sorted = sorted
	return sorted
}

// presort sorts the children of every directory below n changed since the
// last presort, while the tree is still being built: Scan does it while
// it waits for a layer being read, so that finish, once every layer is
// in, sorts only what the last layers changed.
func presort(n *Node) {
	if n.dir.clean {
		return
	}
	for _, c := range n.sortChildren() {
		if c.Type == TypeDir && c.dir != nil {
			presort(c)
		}
	}
	n.dir.clean = true
}

type nodeExt struct {
	hardlinkOf string
	data       []byte
	captured   bool
	partial    *Partial
}

func newDir(e Entry) *Node {
	return &Node{Entry: e, dir: &dirNode{children: map[string]*Node{}}}
}

// child returns the entry name of directory n, nil when there is none.
func (n *Node) child(name string) *Node {
	if n.dir == nil {
		return nil
	}
	return n.dir.children[name]
}

// Children returns the entries of a directory, sorted by name.
func (n *Node) Children() []*Node {
	if n.dir == nil {
		return nil
	}
	return n.dir.sorted
}

// HardlinkOf is the path of the file this entry was hardlinked to, as
// written in the layer, "" for other entries.
func (n *Node) HardlinkOf() string {
	if n.ext == nil {
		return ""
	}
	return n.ext.hardlinkOf
}

// Partial returns what the scan kept of a declared file too large to
// capture whole, nil when it kept nothing or captured the whole file.
func (n *Node) Partial() *Partial {
	if n.ext == nil {
		return nil
	}
	return n.ext.partial
}

// Captured reports whether the file's full contents were captured.
func (n *Node) Captured() bool { return n.ext != nil && n.ext.captured }

func (n *Node) contents() []byte {
	if n.ext == nil {
		return nil
	}
	return n.ext.data
}

// DeletedEntry is a file that a layer ships but a later layer deleted or
// replaced: it is not in the final filesystem, yet anyone with the image can
// read it from the lower layer's blob.
type DeletedEntry struct {
	Entry
	Layer     int  // the layer that added it
	RemovedBy int  // the layer that deleted or replaced it
	Replaced  bool // replaced by a new entry at the same path (not a whiteout)
	data      []byte
	captured  bool
}

// Data returns the captured contents of a deleted file, if they were captured.
func (d *DeletedEntry) Data() ([]byte, bool) { return d.data, d.captured }

// FS is the squashed, final filesystem of an image. It is immutable and safe
// for concurrent use.
type FS struct {
	root      *Node
	layers    []LayerInfo
	deleted   []DeletedEntry
	anomalies []Anomaly
	count     int
	links     map[uint64][]*Node // inode -> its paths, for inodes with several
}

// Links returns every entry that shares n's inode (hardlinks), n included,
// in walk order; nil when n is the only name of its file.
func (f *FS) Links(n *Node) []*Node {
	if n == nil || n.Inode == 0 || f.links == nil {
		return nil
	}
	return f.links[n.Inode]
}

// Layers returns the image's layers, base first.
func (f *FS) Layers() []LayerInfo { return f.layers }

// Deleted returns the files shipped in a lower layer but deleted or replaced
// by a later one, in the order they were removed.
func (f *FS) Deleted() []DeletedEntry { return f.deleted }

// Anomalies returns the suspicious constructs found in layers and while
// squashing them.
func (f *FS) Anomalies() []Anomaly { return f.anomalies }

// Len returns the number of entries in the final filesystem, the root excluded.
func (f *FS) Len() int { return f.count }

// Root returns the root directory.
func (f *FS) Root() *Node { return f.root }

// Walk calls fn for every entry in depth-first order, children sorted by
// name, the root excluded. Symlinks are not followed. If fn returns
// fs.SkipDir for a directory its children are skipped; any other error stops
// the walk and is returned.
func (f *FS) Walk(fn func(n *Node) error) error {
	err := walkNode(f.root, fn)
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func walkNode(n *Node, fn func(n *Node) error) error {
	for _, c := range n.Children() {
		err := fn(c)
		if errors.Is(err, fs.SkipDir) {
			continue
		}
		if err != nil {
			return err
		}
		if c.Type == TypeDir {
			if err := walkNode(c, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// Lstat returns the entry at p without following a final symlink. Symlinks in
// parent components are followed, inside the image root.
func (f *FS) Lstat(p string) (*Node, error) {
	n, err := f.resolve(p, false)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	return n, nil
}

// Stat returns the entry at p, following every symlink inside the image root:
// absolute targets start at the image root and ".." never climbs above it.
func (f *FS) Stat(p string) (*Node, error) {
	n, err := f.resolve(p, true)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	return n, nil
}

// ReadLink returns the target of the symlink at p, as stored.
func (f *FS) ReadLink(p string) (string, error) {
	n, err := f.Lstat(p)
	if err != nil {
		return "", err
	}
	if n.Type != TypeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: p, Err: fs.ErrInvalid}
	}
	return n.Linkname, nil
}

// ReadFile returns the contents of the file at p (symlinks followed), if the
// scan captured them; otherwise an error wrapping [ErrNotCaptured].
func (f *FS) ReadFile(p string) ([]byte, error) {
	n, err := f.Stat(p)
	if err != nil {
		return nil, err
	}
	if n.Type != TypeRegular {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrInvalid}
	}
	if !n.Captured() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: ErrNotCaptured}
	}
	return n.contents(), nil
}

// ReadDir returns the entries of the directory at p (symlinks followed),
// sorted by name.
func (f *FS) ReadDir(p string) ([]*Node, error) {
	n, err := f.Stat(p)
	if err != nil {
		return nil, err
	}
	if n.Type != TypeDir {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: ErrNotDir}
	}
	return n.Children(), nil
}

// resolve walks p from the root. Symlinks in intermediate components are
// always followed; the final one only when followLast is set.
func (f *FS) resolve(p string, followLast bool) (*Node, error) {
	return resolveFrom(f.root, f.root, p, followLast, nil)
}

// resolveFrom walks p starting at start (or at root when p is absolute),
// never leaving root. It returns the node reached, or the deepest existing
// directory and fs.ErrNotExist when a component is missing.
//
// hops counts the symlinks followed; a caller resolving several parts of one
// path passes the same counter to each call, so that the whole path follows
// at most MaxSymlinkHops links, as Linux's namei does. nil starts a fresh
// count.
func resolveFrom(root, start *Node, p string, followLast bool, hops *int) (*Node, error) {
	if hops == nil {
		hops = new(int)
	}
	cur := start
	if strings.HasPrefix(p, "/") {
		cur = root
	}
	comps := splitPath(p)
	for len(comps) > 0 {
		c := comps[0]
		comps = comps[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if cur.parent != nil {
				cur = cur.parent
			}
			continue
		}
		if cur.Type != TypeDir {
			return cur, ErrNotDir
		}
		child := cur.child(c)
		if child == nil {
			return cur, fs.ErrNotExist
		}
		if child.Type == TypeSymlink && (len(comps) > 0 || followLast) {
			*hops++
			if *hops > MaxSymlinkHops {
				return nil, ErrLinkLoop
			}
			if strings.HasPrefix(child.Linkname, "/") {
				cur = root
			}
			comps = append(splitPath(child.Linkname), comps...)
			continue
		}
		cur = child
	}
	return cur, nil
}

func splitPath(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
}

// String describes a node for debugging: "file /bin/sh (layer 0)".
func (n *Node) String() string {
	return fmt.Sprintf("%s %s (layer %d)", n.Type, n.Path, n.Layer)
}

func pathOf(n *Node) string {
	if n.parent == nil {
		return "/"
	}
	return n.Path
}
