package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Squash applies the layer indexes in order, base first, and returns the final
// filesystem. info describes the same layers (see [Attribute]); it may be nil,
// in which case layers are known only by their index.
//
// Semantics follow the OCI image spec and containerd's applier:
//   - a layer's whiteouts and opaque markers hide only lower layers, so they
//     are applied before the layer's own entries;
//   - a non-directory replaces whatever was at its path (a whole directory
//     tree included); a directory over a directory only updates its metadata;
//   - parent components that are symlinks are resolved inside the root (the
//     entry lands where the link points, and an anomaly is recorded);
//   - a hardlink shares the file it names, which must already exist.
//
// Squash is pure and cheap: it touches no blob.
func Squash(indexes []*LayerIndex, info []LayerInfo) (*FS, error) {
	if info != nil && len(info) != len(indexes) {
		return nil, fmt.Errorf("squash: %d layer indexes but %d layer descriptions", len(indexes), len(info))
	}
	s := newSquasher()
	sizes := make([]LayerInfo, len(indexes))
	for i, idx := range indexes {
		if idx == nil {
			return nil, fmt.Errorf("squash: layer %d has no index", i)
		}
		s.apply(i, idx)
		sizes[i] = LayerInfo{Index: i, Digest: idx.Digest, DiffID: idx.DiffID, Size: idx.CompressedSize, UncompressedSize: idx.UncompressedSize, HistoryIndex: -1}
	}
	if info == nil {
		info = sizes
	}
	for i := range info {
		info[i].UncompressedSize = sizes[i].UncompressedSize
	}
	return s.finish(info), nil
}

func newSquasher() *squasher {
	return &squasher{fs: &FS{root: newDir(Entry{Path: "/", Type: TypeDir, Mode: 0o755})}}
}

// apply puts layer i (the next one, in order) over the tree.
func (s *squasher) apply(i int, idx *LayerIndex) {
	s.layer = i
	s.files, s.partials = idx.Files, idx.Partials
	for _, a := range idx.Anomalies {
		a.Layer = i
		s.fs.anomalies = append(s.fs.anomalies, a)
	}
	for _, d := range idx.Opaques {
		s.opaque(d)
	}
	for _, w := range idx.Whiteouts {
		s.whiteout(w)
	}
	for j := range idx.Entries {
		s.add(&idx.Entries[j])
	}
	s.files, s.partials = nil, nil
}

// finish seals the tree: sorted children, counts, hardlink groups.
func (s *squasher) finish(info []LayerInfo) *FS {
	s.fs.layers = info
	s.fs.count = finish(s.fs.root)
	if len(s.linked) > 0 {
		s.fs.links = map[uint64][]*Node{}
		_ = s.fs.Walk(func(n *Node) error {
			if s.linked[n.Inode] && n.Type != TypeDir {
				s.fs.links[n.Inode] = append(s.fs.links[n.Inode], n)
			}
			return nil
		})
		for ino, ns := range s.fs.links {
			if len(ns) < 2 {
				delete(s.fs.links, ino)
			}
		}
	}
	return s.fs
}

type squasher struct {
	fs       *FS
	layer    int
	files    map[string][]byte
	partials map[string]*Partial
	inode    uint64
	linked   map[uint64]bool // inodes some hardlink shares
}

func (s *squasher) anomaly(kind AnomalyKind, p, detail string) {
	s.fs.anomalies = append(s.fs.anomalies, Anomaly{Kind: kind, Path: p, Detail: detail, Layer: s.layer})
}

// parentDir resolves the directory that will hold p, following symlinks
// inside the root and creating missing directories as implicit ones.
//
// Hostile layers make this walk costly in two ways, both bounded here: all
// the symlinks of p share one MaxSymlinkHops budget (a fresh budget per
// component let "s/s/s/…/x" follow thousands of links), one through-symlink
// anomaly is recorded per entry, and an implicit directory's path is a
// substring of p rather than a new string (a 2,000-deep entry would
// otherwise allocate 2,000 paths of up to 4 KiB each).
func (s *squasher) parentDir(p string, create bool) *Node {
	cur := s.fs.root
	hops := 0
	noted := false
	// literal: cur's path is p[:end], so a new child's path is a prefix of p.
	literal, end := true, 0
	for _, c := range splitPath(path.Dir(p)) {
		end += 1 + len(c)
		if literal && (end > len(p) || p[end-len(c)-1] != '/' || p[end-len(c):end] != c) {
			literal = false // p is not clean; build paths with path.Join
		}
		child := cur.child(c)
		if child != nil && child.Type == TypeSymlink {
			target, err := resolveFrom(s.fs.root, cur, c, true, &hops)
			if err == nil && target.Type == TypeDir {
				if !noted {
					s.anomaly(AnomalyThroughSymlink, p, child.Path+" -> "+child.Linkname)
					noted = true
				}
				cur = target
				literal = false
				continue
			}
			if !create {
				return nil
			}
			s.anomaly(AnomalyParentNotDir, p, child.Path+" is a symlink to no directory")
			child = nil // replaced by an implicit directory below
			s.remove(cur, c, false)
		}
		if child != nil && child.Type != TypeDir {
			if !create {
				return nil
			}
			s.anomaly(AnomalyParentNotDir, p, child.Path+" is a "+child.Type.String())
			s.remove(cur, c, true)
			child = nil
		}
		if child == nil {
			if !create {
				return nil
			}
			dirPath := p[:min(end, len(p))]
			if !literal {
				dirPath = path.Join(pathOf(cur), c)
			}
			child = newDir(Entry{Path: dirPath, Type: TypeDir, Mode: 0o755})
			child.Layer, child.Implicit, child.parent = s.layer, true, cur
			cur.dir.children[c] = child
		}
		cur = child
	}
	return cur
}

func (s *squasher) opaque(dir string) {
	n, err := resolveFrom(s.fs.root, s.fs.root, dir, true, nil)
	if err != nil || n.Type != TypeDir {
		return
	}
	for name := range n.dir.children {
		s.remove(n, name, false)
	}
}

func (s *squasher) whiteout(p string) {
	parent := s.parentDir(p, false)
	if parent == nil {
		return
	}
	name := path.Base(p)
	if parent.child(name) != nil {
		s.remove(parent, name, false)
	}
}

// remove detaches parent's child name and records every non-directory in it
// as deleted by the current layer.
func (s *squasher) remove(parent *Node, name string, replaced bool) {
	n := parent.child(name)
	if n == nil {
		return
	}
	delete(parent.dir.children, name)
	var rec func(n *Node)
	rec = func(n *Node) {
		if n.Type == TypeDir {
			for _, c := range n.dir.children {
				rec(c)
			}
			return
		}
		s.fs.deleted = append(s.fs.deleted, DeletedEntry{
			Entry: n.Entry, Layer: n.Layer, RemovedBy: s.layer, Replaced: replaced,
			data: n.contents(), captured: n.Captured(),
		})
	}
	rec(n)
}

func (s *squasher) add(e *Entry) {
	if e.Path == "/" {
		if e.Type == TypeDir {
			r := s.fs.root
			r.Mode, r.UID, r.GID, r.Layer = e.Mode, e.UID, e.GID, s.layer
		}
		return
	}
	parent := s.parentDir(e.Path, true)
	name := path.Base(e.Path)
	n := &Node{Entry: *e, Layer: s.layer, parent: parent}
	n.Path = joinPath(pathOf(parent), name, e.Path)

	if old := parent.child(name); old != nil {
		if old.Layer == s.layer && !old.Implicit {
			// Found here rather than while indexing: the tree already
			// holds every path, a per-layer set would cost a map entry
			// per file.
			s.anomaly(AnomalyDuplicate, n.Path, e.Path)
		}
		if old.Type == TypeDir && e.Type == TypeDir {
			old.Mode, old.UID, old.GID, old.Layer, old.Implicit = e.Mode, e.UID, e.GID, s.layer, false
			return
		}
		s.remove(parent, name, true)
	}
	switch e.Type {
	case TypeDir:
		n.dir = &dirNode{children: map[string]*Node{}}
	case TypeHardlink:
		target, err := resolveFrom(s.fs.root, s.fs.root, e.Linkname, false, nil)
		if err != nil || target.Type == TypeDir || target == s.fs.root {
			s.anomaly(AnomalyHardlinkMissing, n.Path, e.Linkname)
			break
		}
		n.Entry = target.Entry
		n.Path = joinPath(pathOf(parent), name, e.Path)
		n.ext = &nodeExt{hardlinkOf: e.Linkname}
		n.Inode = target.Inode
		if n.Inode == 0 {
			// A hardlink to a symlink or a special file: give the pair an
			// identity of its own.
			s.inode++
			target.Inode, n.Inode = s.inode, s.inode
		}
		if s.linked == nil {
			s.linked = map[uint64]bool{}
		}
		s.linked[n.Inode] = true
		if target.ext != nil {
			n.ext.data, n.ext.captured, n.ext.partial = target.ext.data, target.ext.captured, target.ext.partial
		}
	case TypeRegular:
		s.inode++
		n.Inode = s.inode
		if b, ok := s.files[e.Path]; ok {
			n.ext = &nodeExt{data: b, captured: true}
		} else if p := s.partials[e.Path]; p != nil {
			n.ext = &nodeExt{partial: p}
		}
	}
	parent.dir.children[name] = n
}

// finish sorts every directory's children and counts the entries.
func finish(n *Node) int {
	count := 0
	sorted := make([]*Node, 0, len(n.dir.children))
	for _, c := range n.dir.children {
		sorted = append(sorted, c)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	n.dir.sorted = sorted
	for _, c := range sorted {
		count++
		if c.Type == TypeDir {
			count += finish(c)
		}
	}
	return count
}

// Attribute maps an image's layers to the history steps that made them.
// History entries marked empty_layer made no layer; the k-th other entry made
// layer k. Layers beyond the history get HistoryIndex -1.
func Attribute(cfg *v1.ConfigFile, layers []v1.Descriptor) []LayerInfo {
	info := make([]LayerInfo, len(layers))
	var hist []int
	if cfg != nil {
		for i, h := range cfg.History {
			if !h.EmptyLayer {
				hist = append(hist, i)
			}
		}
	}
	for i, d := range layers {
		li := LayerInfo{Index: i, Digest: d.Digest, Size: d.Size, HistoryIndex: -1}
		if cfg != nil && i < len(cfg.RootFS.DiffIDs) {
			li.DiffID = cfg.RootFS.DiffIDs[i]
		}
		// When history and layers disagree in number, the mapping is a guess
		// no one can check; leave it unknown rather than lie.
		if len(hist) == len(layers) {
			li.HistoryIndex = hist[i]
			li.CreatedBy = cfg.History[hist[i]].CreatedBy
		}
		info[i] = li
	}
	return info
}

var _ = errors.Is
var _ = fs.ErrNotExist

// joinPath joins dir and name, returning orig, the same path as the layer
// wrote it, when it is that path (the parent was not reached through a
// symlink): a million entries need not cost a million more strings.
func joinPath(dir, name, orig string) string {
	if dir == "/" {
		if len(orig) == 1+len(name) && orig[0] == '/' && orig[1:] == name {
			return orig
		}
	} else if len(orig) == len(dir)+1+len(name) && orig[len(dir)] == '/' && orig[:len(dir)] == dir && orig[len(dir)+1:] == name {
		return orig
	}
	return path.Join(dir, name)
}
