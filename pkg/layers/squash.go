package layers

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Squash applies the layer indexes in order, base first, and returns the final
// filesystem. info describes the same layers (see [Attribute]); it may be nil,
// in which case layers are known only by their index.
//
// A container's root filesystem is made by a runtime, and runtimes do not
// agree on crafted layers. Squash computes the filesystem the way containerd
// makes it in both of its modes and returns their union, so that no file any
// of them ships is missing from the audit (docs/checks.md, "How the final
// filesystem is computed"):
//
//   - overlay (containerd's overlayfs snapshotter, Docker's overlay2): each
//     layer is unpacked alone into an empty directory, where whiteouts become
//     whiteout devices and opaque markers an attribute of the directory,
//     resolving symlinks only among the layer's own entries; the kernel then
//     merges the layers (a directory over a directory merges, anything else
//     hides what is below, the root directory is never opaque);
//   - native (containerd's applier on a plain directory): each layer is
//     unpacked over the merged tree in tar order, resolving parent symlinks
//     through lower layers too; a whiteout removes what is there at that
//     moment and an opaque marker everything this layer has not unpacked yet.
//
// Both follow the same rules for each entry: a non-directory replaces
// whatever is at its path, a directory over a directory updates its metadata,
// a hardlink's own header sets the mode, owner and extended attributes of
// the file it shares (a chown clears file capabilities first), trusted.*
// attributes are never restored. The overlay result is the base of the union
// (the native one when only the native applier accepts the stack); what
// only the other ships is added to it, and a path both ship
// differently keeps the riskier file (setuid, setgid, capabilities). Every
// such difference is recorded as an [AnomalyRuntimeDivergence].
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
		if err := s.apply(i, idx); err != nil {
			return nil, err
		}
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

// squasher applies layers one at a time, base first. The native model is
// only made once the two appliers can differ in what they ship: until an
// upper layer puts a directory where the lower ones hold a symlink (so that
// the native applier writes through the link and overlayfs does not), or a
// layer that containerd refuses in overlay mode, the native applier ships
// nothing the overlay one does not, and the union is the overlay tree alone.
// From that layer on, the native model starts as a copy of the tree below
// it and both are kept. (A copy, not a replay: where the native applier had
// deleted more in earlier layers, its model keeps that superset.)
type squasher struct {
	over, native *model
	anomalies    []Anomaly // the layers' own
	// entries counts the entries applied, presorted those applied at the
	// last presort.
	entries, presorted int
}

func newSquasher() *squasher {
	return &squasher{over: newModel(false)}
}

// apply puts layer i (the next one, in order) over the trees. Its error
// wraps ErrLimit.
func (s *squasher) apply(i int, idx *LayerIndex) error {
	for _, a := range idx.Anomalies {
		a.Layer = i
		s.anomalies = append(s.anomalies, a)
	}
	for j := range idx.Entries {
		if e := &idx.Entries[j]; e.Path == "/" && e.Type == TypeDir {
			// containerd ignores an entry for the root itself; other
			// unpackers apply it, so the audit keeps its mode.
			r := s.over.root
			r.Mode, r.UID, r.GID, r.Layer = e.Mode, e.UID, e.GID, i
		}
	}
	if i == 0 {
		// The base layer has no parent to merge with: containerd's
		// snapshotter hands the applier a plain directory, unpacked the
		// native way in both modes.
		s.over.applyNative(i, idx)
	} else {
		upper, diverges := s.over.unpackUpper(i, idx)
		if diverges && s.native == nil {
			s.native = s.over.clone()
		}
		s.over.merge(s.over.root, upper)
		s.over.files, s.over.partials = nil, nil
		if s.native != nil {
			s.native.applyNative(i, idx)
		}
	}
	s.entries += len(idx.Entries)
	if s.over.pathBytes+s.nativeBytes() > maxLinkedPathBytes {
		return fmt.Errorf("layer %d: %w", i, limitErr("paths of entries placed through symlinks: bytes in all", maxLinkedPathBytes))
	}
	return nil
}

// idle is called when the next layer is not indexed yet (being read):
// the overlay tree's directories changed since the last presort are
// sorted then, rather than all in finish, after the last layer. It
// presorts only once the entries applied have grown by half since the
// last time, so that, however many layers wait, all presorts together
// sort at most about three times the entries of the final tree.
func (s *squasher) idle() {
	if s.entries == 0 || s.entries < s.presorted+s.presorted/2 {
		return
	}
	presort(s.over.root)
	s.presorted = s.entries
}

func (s *squasher) nativeBytes() int64 {
	if s.native == nil {
		return 0
	}
	return s.native.pathBytes
}

// finish returns the union of the models, sealed.
func (s *squasher) finish(info []LayerInfo) *FS {
	return union(s.over, s.native, s.anomalies, info)
}

// maxApplyHops is the number of symlinks containerd follows while resolving
// one path (continuity's fs.RootPath) before it gives up.
const maxApplyHops = 255

// maxResolvedPath is the longest path a runtime can create: PATH_MAX.
const maxResolvedPath = 4096

// maxLinkedPathBytes bounds the bytes of the paths of entries placed through
// symlinks. Such a path cannot be a substring of the entry's own name, so it
// costs a string of its own: a small layer of deep entries below a chain of
// links to deep directories would otherwise allocate gigabytes of paths.
const maxLinkedPathBytes = 64 << 20

// inodeOf numbers the file that entry j of layer i makes. Both models give
// the same entry the same number, so that a name only one of them ships
// joins its hardlink group in the union.
func inodeOf(layer, j int) uint64 { return uint64(layer)<<32 | uint64(j+1) }

// linkInode numbers a symlink or special file once a hardlink names it.
const linkInode = 1 << 63

// model is the filesystem as one of containerd's two appliers makes it.
type model struct {
	native    bool
	root      *Node
	layer     int
	entry     int                // index of the entry being unpacked in its layer
	names     map[uint64][]*Node // every name of an inode some hardlink shares
	deleted   []DeletedEntry
	anomalies []Anomaly
	files     map[string][]byte
	partials  map[string]*Partial
	targets   map[*Node]string     // symlink -> cleaned absolute target
	lowers    map[*Node]*Node      // upper directory -> lower entry at its path (overlay, per layer)
	pathBytes int64                // bytes of paths not shared with an entry's name
	refusedAt int                  // the first layer containerd refuses in this mode, -1 when none
	pending   map[uint64]*linkMeta // hardlinked inodes whose names await new metadata (per layer)
}

func newModel(native bool) *model {
	m := &model{native: native, root: newDir(Entry{Path: "/", Type: TypeDir, Mode: 0o755}), refusedAt: -1}
	return m
}

// refuse records that containerd's applier of this model fails on the
// current layer, so that the runtime using it ships nothing.
func (m *model) refuse() {
	if m.refusedAt < 0 {
		m.refusedAt = m.layer
	}
}

func (m *model) anomaly(kind AnomalyKind, p, detail string) {
	m.anomalies = append(m.anomalies, Anomaly{Kind: kind, Path: p, Detail: detail, Layer: m.layer})
}

// applyNative unpacks layer i over the merged tree, in tar order.
func (m *model) applyNative(i int, idx *LayerIndex) {
	m.layer, m.files, m.partials = i, idx.Files, idx.Partials
	unpacked := map[*Node]struct{}{}
	var opaqued map[*Node]struct{}
	for j := range idx.Entries {
		e := &idx.Entries[j]
		m.entry = j
		switch e.Type {
		case TypeOpaque:
			dir := m.resolveDir(m.root, e.Path, e.Path+"/"+opaqueMarker, m.nativeDir)
			if dir == nil {
				continue
			}
			if _, done := opaqued[dir]; done {
				continue
			}
			if opaqued == nil {
				opaqued = map[*Node]struct{}{}
			}
			opaqued[dir] = struct{}{}
			m.clearExcept(dir, unpacked)
		case TypeWhiteout:
			parent := m.resolveDir(m.root, path.Dir(e.Path), e.Path, m.nativeDir)
			if parent != nil {
				m.remove(parent, path.Base(e.Path), false)
			}
		default:
			if e.Path == "/" {
				continue // containerd ignores an entry that resolves to the root
			}
			parent := m.resolveDir(m.root, path.Dir(e.Path), e.Path, m.nativeDir)
			if parent == nil {
				continue
			}
			if n := m.put(parent, e, m.root); n != nil {
				unpacked[n] = struct{}{}
			}
		}
	}
	m.flushLinks()
	m.files, m.partials = nil, nil
}

// nativeDir makes a missing parent directory as containerd's mkparent does
// with no parent layers to copy from: 0755, owned by root.
func (m *model) nativeDir(parent *Node, name string, p string) *Node {
	d := newDir(Entry{Path: p, Type: TypeDir, Mode: 0o755})
	d.Layer, d.Implicit, d.parent = m.layer, true, parent
	parent.setChild(name, d)
	return d
}

// clearExcept removes every entry below dir that this layer has not unpacked,
// keeping (and descending into) the directories it has.
func (m *model) clearExcept(dir *Node, keep map[*Node]struct{}) {
	for _, name := range sortedNames(dir) {
		c := dir.child(name)
		if _, ok := keep[c]; !ok {
			m.remove(dir, name, false)
			continue
		}
		if c.Type == TypeDir {
			m.clearExcept(c, keep)
		}
	}
}

func sortedNames(dir *Node) []string {
	names := make([]string, 0, len(dir.dir.children))
	for name := range dir.dir.children {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// unpackUpper unpacks layer i alone into an empty upper tree, which merge
// then lays over the lower layers as overlayfs does. diverges reports that
// the upper tree puts a directory where the lower tree holds a symlink: the
// one construct where the native applier ships what overlayfs does not.
func (m *model) unpackUpper(i int, idx *LayerIndex) (upper *Node, diverges bool) {
	m.layer, m.files, m.partials = i, idx.Files, idx.Partials
	upper = newDir(Entry{Path: "/", Type: TypeDir, Mode: 0o755})
	upper.Implicit = true
	m.lowers = map[*Node]*Node{}
	defer func() { m.lowers = nil }()
	var e *Entry
	mk := func(parent *Node, name, p string) *Node {
		d := newDir(Entry{Path: p, Type: TypeDir, Mode: 0o755})
		d.Layer, d.Implicit, d.parent = m.layer, true, parent
		parent.setChild(name, d)
		lower := m.lowerOf(d)
		if lower != nil && lower.Type == TypeSymlink {
			diverges = true
			if t, err := resolveFrom(m.root, m.root, p, true, nil); err == nil {
				lower = t
			}
		}
		switch {
		case lower == nil:
		case lower.Type == TypeDir:
			// mkparent copies the lower directory's metadata.
			d.Mode, d.UID, d.GID, d.Xattrs = lower.Mode, lower.UID, lower.GID, lower.Xattrs
		case lower.Type != TypeSymlink:
			m.anomaly(AnomalyParentNotDir, e.Path, lower.Path+" is a "+lower.Type.String())
		}
		return d
	}
	for j := range idx.Entries {
		e = &idx.Entries[j]
		m.entry = j
		switch e.Type {
		case TypeOpaque:
			if dir := m.resolveDir(upper, e.Path, e.Path+"/"+opaqueMarker, mk); dir != nil {
				dir.dir.opaque = true
			}
		case TypeWhiteout:
			parent := m.resolveDir(upper, path.Dir(e.Path), e.Path, mk)
			if parent == nil {
				continue
			}
			name := path.Base(e.Path)
			if old := parent.child(name); old != nil {
				// containerd's mknod fails on a path the layer already
				// wrote, and the layer with it. Only the native applier
				// ships the stack; it deletes the entry: do the same.
				m.refuse()
				if old.Type != TypeWhiteout {
					m.remove(parent, name, false)
				}
			}
			w := &Node{Entry: Entry{Path: joinPath(pathOf(parent), name, e.Path), Type: TypeWhiteout}, Layer: i, parent: parent}
			parent.setChild(name, w)
		default:
			if e.Path == "/" {
				continue
			}
			parent := m.resolveDir(upper, path.Dir(e.Path), e.Path, mk)
			if parent == nil {
				continue
			}
			if n := m.put(parent, e, upper); n.Type == TypeDir {
				if lower := m.lowerOf(n); lower != nil && lower.Type == TypeSymlink {
					diverges = true
				}
			}
		}
	}
	m.flushLinks()
	return upper, diverges || m.refusedAt == i
}

// lowerOf returns the entry the merged lower tree holds at upper node u's
// own path (no symlink followed to reach it), nil when none. Directories
// are looked up once each per layer.
func (m *model) lowerOf(u *Node) *Node {
	if u.parent == nil {
		return m.root
	}
	l, ok := m.lowers[u]
	if !ok {
		if lp := m.lowerOf(u.parent); lp != nil {
			l = lp.child(u.Path[strings.LastIndexByte(u.Path, '/')+1:])
		}
		if u.Type == TypeDir {
			m.lowers[u] = l
		}
	}
	return l
}

// clone returns a deep copy of the model's tree, as the native model's
// starting point.
func (m *model) clone() *model {
	c := newModel(true)
	seen := map[*Node]*Node{}
	var cp func(n, parent *Node) *Node
	cp = func(n, parent *Node) *Node {
		d := *n
		d.parent = parent
		if n.dir != nil {
			d.dir = &dirNode{children: make(map[string]*Node, len(n.dir.children))}
			for name, ch := range n.dir.children {
				d.dir.children[name] = cp(ch, &d)
			}
		}
		seen[n] = &d
		return &d
	}
	c.root = cp(m.root, nil)
	for ino, ns := range m.names {
		for _, n := range ns {
			if d := seen[n]; d != nil {
				if c.names == nil {
					c.names = map[uint64][]*Node{}
				}
				c.names[ino] = append(c.names[ino], d)
			}
		}
	}
	return c
}

// merge lays the upper directory u over the lower directory l, as overlayfs
// shows them: u's whiteouts hide, its non-directories replace, its
// directories merge with l's unless opaque.
func (m *model) merge(l, u *Node) {
	if u.dir.opaque && l != m.root {
		for _, name := range sortedNames(l) {
			m.remove(l, name, false)
		}
	}
	for _, name := range sortedNames(u) {
		c := u.child(name)
		lc := l.child(name)
		switch {
		case c.Type == TypeWhiteout:
			if lc != nil {
				m.remove(l, name, false)
			}
		case c.Type == TypeDir && lc != nil && lc.Type == TypeDir:
			if !c.Implicit {
				lc.Mode, lc.UID, lc.GID, lc.Xattrs, lc.Layer, lc.Implicit = c.Mode, c.UID, c.GID, c.Xattrs, c.Layer, false
			}
			m.merge(lc, c)
		default:
			if lc != nil {
				m.remove(l, name, true)
			}
			c.parent = l
			l.setChild(name, c)
			dropWhiteouts(c)
		}
	}
}

// dropWhiteouts removes the whiteout devices of an upper tree that hides
// nothing below it (it replaced a lower non-directory or filled a new path).
func dropWhiteouts(n *Node) {
	if n.dir == nil {
		return
	}
	n.dir.opaque = false
	for name, c := range n.dir.children {
		if c.Type == TypeWhiteout {
			n.delChild(name)
		} else {
			dropWhiteouts(c)
		}
	}
}

// resolveDir walks the directory dir from root as containerd's fs.RootPath
// and mkparent do: symlinks are followed inside root (absolute targets from
// root, relative ones joined lexically to the link's directory, ".." never
// above root), and missing directories are made by mk. It returns nil, with
// an anomaly, where no runtime could go on: more than 255 links, or a path
// longer than PATH_MAX made through a link. A non-directory in the way is
// replaced by a directory, as overlayfs shows an upper directory over a
// lower file.
func (m *model) resolveDir(root *Node, dir, entry string, mk func(parent *Node, name, p string) *Node) *Node {
	cur := root
	hops := 0
	noted := false
	// literal: cur's path is dir[:end], so a new child's path is a prefix of dir.
	literal, end := true, 0
	// todo holds what is left to walk, the last element first: a symlink's
	// target is pushed over the rest of the path.
	todo := []string{dir}
	for len(todo) > 0 {
		rest := strings.TrimLeft(todo[len(todo)-1], "/")
		if rest == "" {
			todo = todo[:len(todo)-1]
			continue
		}
		c := rest
		if k := strings.IndexByte(rest, '/'); k >= 0 {
			c, rest = rest[:k], rest[k:]
		} else {
			rest = ""
		}
		todo[len(todo)-1] = rest
		if literal {
			end += 1 + len(c)
		}
		child := cur.child(c)
		switch {
		case child == nil:
			p := dir[:min(end, len(dir))]
			if !literal {
				if m.pathBytes > maxLinkedPathBytes {
					return nil // apply reports the limit
				}
				p = path.Join(pathOf(cur), c)
				m.pathBytes += int64(len(p))
				if len(p) > maxResolvedPath {
					m.anomaly(AnomalyParentNotDir, entry, "resolved path longer than 4096 bytes")
					m.refuse()
					return nil
				}
			}
			child = mk(cur, c, p)
		case child.Type == TypeSymlink:
			hops++
			if hops > maxApplyHops {
				m.anomaly(AnomalyParentNotDir, entry, "too many levels of symbolic links")
				m.refuse()
				return nil
			}
			if !noted {
				m.anomaly(AnomalyThroughSymlink, entry, child.Path+" -> "+child.Linkname)
				noted = true
			}
			cur, literal = root, false
			todo = append(todo, m.linkTarget(child))
			continue
		case child.Type == TypeWhiteout:
			// An upper layer's whiteout: mkparent's mkdir replaces nothing
			// (it fails). Keep going in a fresh directory, as a runtime
			// that accepted the layer would.
			m.refuse() // mkparent: ENOTDIR
			cur.delChild(c)
			child = mk(cur, c, child.Path)
		case child.Type != TypeDir:
			m.anomaly(AnomalyParentNotDir, entry, child.Path+" is a "+child.Type.String())
			m.refuse() // RootPath or mkparent: ENOTDIR
			m.remove(cur, c, true)
			child = mk(cur, c, child.Path)
		}
		cur = child
	}
	return cur
}

// linkTarget returns the absolute, lexically cleaned path symlink l points
// to, as RootPath joins it, computed once per link.
func (m *model) linkTarget(l *Node) string {
	if t, ok := m.targets[l]; ok {
		return t
	}
	t := l.Linkname
	if !strings.HasPrefix(t, "/") {
		t = path.Join(pathOf(l.parent), t)
	}
	t = path.Join("/", t)
	if m.targets == nil {
		m.targets = map[*Node]string{}
	}
	m.targets[l] = t
	return t
}

// put unpacks entry e into directory parent: whatever is at its name is
// removed unless both are directories. hardlinks are resolved from linkRoot
// (the layer's own tree in overlay mode), then from the merged tree. It
// returns the node unpacked.
func (m *model) put(parent *Node, e *Entry, linkRoot *Node) *Node {
	name := path.Base(e.Path)
	p := joinPath(pathOf(parent), name, e.Path)
	if len(p) != len(e.Path) {
		m.pathBytes += int64(len(p))
	}
	if old := parent.child(name); old != nil {
		if old.Layer == m.layer && !old.Implicit && old.Type != TypeWhiteout && !m.native {
			// Found here rather than while indexing: the tree already
			// holds every path, a per-layer set would cost a map entry
			// per file.
			m.anomaly(AnomalyDuplicate, p, e.Path)
		}
		if old.Type == TypeDir && e.Type == TypeDir {
			old.Mode, old.UID, old.GID, old.Layer, old.Implicit = e.Mode, e.UID, e.GID, m.layer, false
			old.Xattrs = mergeXattrs(old.Xattrs, runtimeXattrs(e))
			return old
		}
		if old.Type == TypeWhiteout {
			parent.delChild(name)
		} else {
			m.remove(parent, name, true)
		}
	}
	n := &Node{Entry: *e, Layer: m.layer, parent: parent}
	n.Path = p
	n.Xattrs = runtimeXattrs(e)
	switch e.Type {
	case TypeDir:
		n.dir = &dirNode{children: map[string]*Node{}}
	case TypeHardlink:
		target := m.hardlinkTarget(e, linkRoot)
		if target == nil {
			if !m.native {
				m.anomaly(AnomalyHardlinkMissing, p, e.Linkname)
			}
			break
		}
		n.Entry = target.Entry
		n.Path = p
		n.ext = &nodeExt{hardlinkOf: e.Linkname}
		n.Inode = target.Inode
		if n.Inode == 0 {
			// A hardlink to a symlink or a special file: give the pair an
			// identity of its own.
			target.Inode = linkInode | inodeOf(m.layer, m.entry)
			n.Inode = target.Inode
		}
		if m.names == nil {
			m.names = map[uint64][]*Node{}
		}
		if len(m.names[n.Inode]) == 0 {
			m.names[n.Inode] = []*Node{target}
		}
		m.names[n.Inode] = append(m.names[n.Inode], n)
		if target.ext != nil {
			n.ext.data, n.ext.captured, n.ext.partial = target.ext.data, target.ext.captured, target.ext.partial
		}
		m.relink(n.Inode, e, target.Type == TypeSymlink)
	case TypeRegular:
		n.Inode = inodeOf(m.layer, m.entry)
		if b, ok := m.files[e.Path]; ok {
			n.ext = &nodeExt{data: b, captured: true}
		} else if pt := m.partials[e.Path]; pt != nil {
			n.ext = &nodeExt{partial: pt}
		}
	}
	parent.setChild(name, n)
	return n
}

// hardlinkTarget finds the file a hardlink entry names, as containerd's
// hardlinkRootPath does: parent symlinks followed, the last component not.
//
// In overlay mode the file must be in the layer's own tree; containerd
// refuses the layer otherwise, and the link is then made to the lower file
// as the native applier would.
func (m *model) hardlinkTarget(e *Entry, linkRoot *Node) *Node {
	for _, root := range []*Node{linkRoot, m.root} {
		dir, err := resolveFrom(root, root, path.Dir(e.Linkname), true, nil)
		if err != nil || dir.Type != TypeDir {
			continue
		}
		if t := dir.child(path.Base(e.Linkname)); t != nil && t.Type != TypeDir && t.Type != TypeWhiteout {
			if root != linkRoot {
				m.refuse()
			}
			return t
		}
	}
	m.refuse()
	return nil
}

// relink applies a hardlink entry's own header to the file it shares, as
// containerd's createTarFile does on the new name: chown (which clears file
// capabilities), the header's extended attributes, then chmod (skipped for a
// symlink).
//
// Every name of a file has the same metadata, so the change is computed once
// per inode and written to its names when the layer ends (flushLinks): a
// layer of n hardlinks to one file costs O(n), not O(n²).
func (m *model) relink(inode uint64, e *Entry, symlink bool) {
	cur := m.pending[inode]
	if cur == nil {
		base := m.names[inode][0]
		cur = &linkMeta{mode: base.Mode, xattrs: base.Xattrs}
		if m.pending == nil {
			m.pending = map[uint64]*linkMeta{}
		}
		m.pending[inode] = cur
	}
	cur.uid, cur.gid = e.UID, e.GID
	if !symlink {
		cur.mode = e.Mode
	}
	kept := cur.xattrs
	if _, ok := kept[xattrCapability]; ok {
		kept = make(map[string]string, len(cur.xattrs))
		for k, v := range cur.xattrs {
			if k != xattrCapability {
				kept[k] = v
			}
		}
		if len(kept) == 0 {
			kept = nil
		}
	}
	cur.xattrs = mergeXattrs(kept, runtimeXattrs(e))
}

// linkMeta is the metadata hardlink headers gave one inode in this layer.
type linkMeta struct {
	mode     fs.FileMode
	uid, gid int
	xattrs   map[string]string
}

// flushLinks writes the metadata hardlink headers gave each inode to every
// name of it.
func (m *model) flushLinks() {
	for ino, meta := range m.pending {
		for _, n := range m.names[ino] {
			n.Mode, n.UID, n.GID, n.Xattrs = meta.mode, meta.uid, meta.gid, meta.xattrs
		}
	}
	m.pending = nil
}

// xattrCapability holds a file's capabilities.
const xattrCapability = "security.capability"

// runtimeXattrs returns the extended attributes a runtime restores from e:
// never trusted.* (containerd refuses them), user.* only on files and
// directories (the kernel refuses them elsewhere).
func runtimeXattrs(e *Entry) map[string]string {
	drop := 0
	for k := range e.Xattrs {
		if dropXattr(e.Type, k) {
			drop++
		}
	}
	if drop == 0 {
		return e.Xattrs
	}
	if drop == len(e.Xattrs) {
		return nil
	}
	m := make(map[string]string, len(e.Xattrs)-drop)
	for k, v := range e.Xattrs {
		if !dropXattr(e.Type, k) {
			m[k] = v
		}
	}
	return m
}

func dropXattr(t Type, k string) bool {
	if strings.HasPrefix(k, "trusted.") {
		return true
	}
	return strings.HasPrefix(k, "user.") && t != TypeRegular && t != TypeDir && t != TypeHardlink
}

// mergeXattrs returns old with add set over it, sharing a map when one side
// is empty.
func mergeXattrs(old, add map[string]string) map[string]string {
	if len(add) == 0 {
		return old
	}
	if len(old) == 0 {
		return add
	}
	m := make(map[string]string, len(old)+len(add))
	for k, v := range old {
		m[k] = v
	}
	for k, v := range add {
		m[k] = v
	}
	return m
}

// remove detaches parent's child name and records every non-directory in it
// as deleted by the current layer.
func (m *model) remove(parent *Node, name string, replaced bool) {
	n := parent.child(name)
	if n == nil {
		return
	}
	parent.delChild(name)
	var rec func(n *Node)
	rec = func(n *Node) {
		switch n.Type {
		case TypeDir:
			for _, c := range n.dir.children {
				rec(c)
			}
			return
		case TypeWhiteout:
			return
		}
		m.deleted = append(m.deleted, DeletedEntry{
			Entry: n.Entry, Layer: n.Layer, RemovedBy: m.layer, Replaced: replaced,
			data: n.contents(), captured: n.Captured(),
		})
	}
	rec(n)
}

// union returns the overlay model's tree with what only the native model
// ships added to it (native is nil where it would add nothing).
func union(over, native *model, anomalies []Anomaly, info []LayerInfo) *FS {
	if native != nil && over.refusedAt >= 0 && native.refusedAt < 0 {
		// Only the native applier ships this stack: its tree is the base.
		over, native = native, over
	}
	u := &unifier{fs: &FS{root: over.root, layers: info}}
	anomalies = append(anomalies, over.anomalies...)
	deleted, names := [][]DeletedEntry{over.deleted}, []map[uint64][]*Node{over.names}
	if native != nil {
		u.dir(over.root, native.root)
		anomalies = append(anomalies, native.anomalies...)
		anomalies = append(anomalies, u.divergent...)
		deleted, names = append(deleted, native.deleted), append(names, native.names)
	}
	u.fs.anomalies = dedupeAnomalies(anomalies)
	u.fs.count = finish(u.fs.root)
	u.fs.deleted = u.deletedOf(deleted...)
	u.fs.links = linksOf(u.fs, names...)
	return u.fs
}

type unifier struct {
	fs        *FS
	divergent []Anomaly
}

func (u *unifier) note(p, detail string, layer int) {
	u.divergent = append(u.divergent, Anomaly{Kind: AnomalyRuntimeDivergence, Path: p, Detail: detail, Layer: layer})
}

// dir adds to the overlay directory o what the native directory n holds that
// o lacks, and keeps the riskier of two different files at one path.
func (u *unifier) dir(o, n *Node) {
	for _, name := range sortedNames(n) {
		nc := n.child(name)
		oc := o.child(name)
		switch {
		case oc == nil:
			u.graft(o, name, nc)
			u.note(nc.Path, "only containerd's native applier ships this "+nc.Type.String(), nc.Layer)
		case oc.Type == TypeDir && nc.Type == TypeDir:
			u.dir(oc, nc)
		case oc.Type == TypeDir || nc.Type == TypeDir:
			u.note(nc.Path, "a "+oc.Type.String()+" under overlayfs, a "+nc.Type.String()+" under containerd's native applier", nc.Layer)
		case risk(nc) > risk(oc):
			u.graft(o, name, nc)
			u.note(nc.Path, "containerd's native applier ships it with more privilege than overlayfs", nc.Layer)
		case !sameFile(oc, nc):
			u.note(nc.Path, "overlayfs and containerd's native applier ship different files here", nc.Layer)
		}
	}
}

func (u *unifier) graft(o *Node, name string, n *Node) {
	n.parent = o
	o.setChild(name, n)
}

// risk ranks what a file gives whoever can run it.
func risk(n *Node) int {
	r := 0
	if n.Mode&fs.ModeSetuid != 0 {
		r += 8
	}
	if n.Mode&fs.ModeSetgid != 0 {
		r += 4
	}
	if _, ok := n.Xattrs[xattrCapability]; ok {
		r += 2
	}
	if n.Type == TypeRegular && n.IsExecutable() {
		r++
	}
	return r
}

func sameFile(a, b *Node) bool {
	return a.Type == b.Type && a.Mode == b.Mode && a.UID == b.UID && a.GID == b.GID && a.Linkname == b.Linkname && a.Layer == b.Layer
}

// deletedOf merges the two models' deleted entries: each (path, layer) once,
// and none that the final tree still holds.
func (u *unifier) deletedOf(lists ...[]DeletedEntry) []DeletedEntry {
	type key struct {
		path  string
		layer int
	}
	var out []DeletedEntry
	seen := map[key]bool{}
	for _, l := range lists {
		for _, d := range l {
			k := key{d.Path, d.Layer}
			if seen[k] {
				continue
			}
			seen[k] = true
			if n, err := resolveFrom(u.fs.root, u.fs.root, d.Path, false, nil); err == nil && n.Path == d.Path && n.Layer == d.Layer && n.Type == d.Type {
				continue
			}
			out = append(out, d)
		}
	}
	return out
}

func dedupeAnomalies(in []Anomaly) []Anomaly {
	seen := make(map[Anomaly]bool, len(in))
	out := in[:0]
	for _, a := range in {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// linksOf groups the final tree's names of every inode a hardlink shares.
func linksOf(f *FS, names ...map[uint64][]*Node) map[uint64][]*Node {
	linked := map[uint64]bool{}
	for _, m := range names {
		for ino := range m {
			linked[ino] = true
		}
	}
	if len(linked) == 0 {
		return nil
	}
	links := map[uint64][]*Node{}
	_ = f.Walk(func(n *Node) error {
		if linked[n.Inode] && n.Type != TypeDir {
			links[n.Inode] = append(links[n.Inode], n)
		}
		return nil
	})
	for ino, ns := range links {
		if len(ns) < 2 {
			delete(links, ino)
		}
	}
	return links
}

// finish sorts every directory's children (those presort left sorted are
// kept) and counts the entries.
func finish(n *Node) int {
	count := 0
	sorted := n.sortChildren()
	n.dir.opaque = false
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
