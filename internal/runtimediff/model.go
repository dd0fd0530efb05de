// Package runtimediff is a differential test harness: it applies a stack of
// layer tars the way containerd does, with containerd's own applier
// (github.com/containerd/containerd/v2/pkg/archive), under both of its
// semantics, and compares the filesystem a container would see with the one
// imgaudit computes (layers.IndexStream, then layers.Squash).
//
//   - native: every layer applied in order into one directory, with the
//     applier's defaults (whiteouts remove files, opaque markers empty the
//     directory): what the native, btrfs and devmapper snapshotters ship.
//   - overlay: each layer applied into its own directory as containerd's
//     diff applier does on an overlay snapshot (the base through a bind
//     mount, with the defaults; every later one with OverlayConvertWhiteout
//     and the lower directories, topmost first, as parents), then a real
//     overlay mount of them, whose merged view is read.
//
// Both results and the audit's are reduced to a [Tree]: path → type, mode
// (special bits included), owner, symlink target, extended attributes and
// hardlink group. [Compare] applies union semantics: every path a runtime
// ships must be in the audit; where the runtimes agree the audit must match
// them exactly, where they differ it must match one of them.
//
// Applying layers needs root (chown, mknod, mount); see [Require].
package runtimediff

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Runtime names one way of applying layers.
type Runtime string

// The runtimes the harness models.
const (
	Native  Runtime = "native"
	Overlay Runtime = "overlay"
)

// All returns every runtime, in a fixed order.
func All() []Runtime { return []Runtime{Native, Overlay} }

// File is what a tree holds at one path.
type File struct {
	// Type is "file", "dir", "symlink", "char", "block", "fifo" or
	// "socket"; the audit's side may also hold "hardlink" (a hardlink whose
	// target it did not find) or the name of any other layers.Type.
	Type string
	// Mode is the permission bits plus fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky. It is 0 for symlinks: Linux ignores a symlink's mode
	// and containerd never sets it.
	Mode     fs.FileMode
	UID, GID int
	// Link is a symlink's target, as stored.
	Link string
	// Xattrs are the extended attributes (trusted.overlay.* excluded), nil
	// when none.
	Xattrs map[string]string
	// Links lists every path sharing this file's inode, itself included,
	// sorted; nil when the file has one name. Directories have none.
	Links []string
}

// Tree is a filesystem: absolute, clean path → file. The root itself is not
// in it (containerd never applies an entry resolving to the root: see
// applyNaive, "file ignored: resolved to root").
type Tree map[string]File

const modeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// Equal reports whether f and g describe the same file.
func (f File) Equal(g File) bool {
	if f.Type != g.Type || f.Mode != g.Mode || f.UID != g.UID || f.GID != g.GID || f.Link != g.Link {
		return false
	}
	if len(f.Xattrs) != len(g.Xattrs) {
		return false
	}
	for k, v := range f.Xattrs {
		if w, ok := g.Xattrs[k]; !ok || w != v {
			return false
		}
	}
	return slices.Equal(f.Links, g.Links)
}

// UnixMode returns the mode as chmod takes it: 04755 for a setuid 0755.
func UnixMode(m fs.FileMode) uint32 { return layers.UnixMode(m) }

// String is short and stable, for failure messages and assertions:
//
//	file 04755 0:0
//	symlink 0:0 -> /usr/bin
//	file 0755 0:0 xattr[security.capability="\x01\x00\x00\x02…"] links[/a /b]
func (f File) String() string {
	var b strings.Builder
	b.WriteString(f.Type)
	if f.Type != "symlink" {
		fmt.Fprintf(&b, " 0%o", UnixMode(f.Mode))
	}
	fmt.Fprintf(&b, " %d:%d", f.UID, f.GID)
	if f.Type == "symlink" {
		fmt.Fprintf(&b, " -> %s", f.Link)
	}
	if len(f.Xattrs) > 0 {
		keys := make([]string, 0, len(f.Xattrs))
		for k := range f.Xattrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" xattr[")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%q", k, f.Xattrs[k])
		}
		b.WriteByte(']')
	}
	if len(f.Links) > 0 {
		fmt.Fprintf(&b, " links%v", f.Links)
	}
	return b.String()
}

// Walk reads the tree under root without following symlinks: Lstat,
// Readlink, Llistxattr and Lgetxattr on every entry.
func Walk(root string) (Tree, error) {
	t := Tree{}
	inodes := map[uint64][]string{}
	var walk func(dir, rel string) error
	walk = func(dir, rel string) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("reading %s: %w", rel, err)
		}
		for _, e := range ents {
			full := filepath.Join(dir, e.Name())
			p := rel + "/" + e.Name()
			if rel == "/" {
				p = "/" + e.Name()
			}
			fi, err := os.Lstat(full)
			if errors.Is(err, fs.ErrNotExist) {
				// Listed but not there: overlayfs lists the whiteouts
				// of a lower layer's directory that merges with
				// nothing below (a directory over a lower symlink),
				// and looking them up fails. Nothing is shipped.
				continue
			}
			if err != nil {
				return fmt.Errorf("lstat %s: %w", p, err)
			}
			st, ok := fi.Sys().(*syscall.Stat_t)
			if !ok {
				return fmt.Errorf("lstat %s: no stat_t", p)
			}
			f := File{Type: typeOf(fi.Mode()), Mode: fi.Mode() & modeBits, UID: int(st.Uid), GID: int(st.Gid)}
			if f.Type == "symlink" {
				f.Mode = 0
				if f.Link, err = os.Readlink(full); err != nil {
					return fmt.Errorf("readlink %s: %w", p, err)
				}
			}
			if f.Xattrs, err = xattrs(full); err != nil {
				return fmt.Errorf("xattrs of %s: %w", p, err)
			}
			t[p] = f
			if f.Type == "dir" {
				if err := walk(full, p); err != nil {
					return err
				}
			} else {
				inodes[st.Ino] = append(inodes[st.Ino], p)
			}
		}
		return nil
	}
	if err := walk(root, "/"); err != nil {
		return nil, err
	}
	setLinks(t, inodes)
	return t, nil
}

func setLinks(t Tree, groups map[uint64][]string) {
	for _, ps := range groups {
		if len(ps) < 2 {
			continue
		}
		sort.Strings(ps)
		for _, p := range ps {
			f := t[p]
			f.Links = ps
			t[p] = f
		}
	}
}

func typeOf(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "dir"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeCharDevice != 0:
		return "char"
	case m&fs.ModeDevice != 0:
		return "block"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "unknown"
}

// xattrs returns every extended attribute of p but trusted.overlay.* (the
// overlay's own bookkeeping), nil when none.
func xattrs(p string) (map[string]string, error) {
	buf := make([]byte, 1024)
	var n int
	for {
		var err error
		n, err = unix.Llistxattr(p, buf)
		if errors.Is(err, unix.ERANGE) && len(buf) < 1<<20 {
			buf = make([]byte, 4*len(buf))
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		break
	}
	var out map[string]string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "" || strings.HasPrefix(name, "trusted.overlay.") {
			continue
		}
		val := make([]byte, 256)
		for {
			m, err := unix.Lgetxattr(p, name, val)
			if errors.Is(err, unix.ERANGE) && len(val) < 1<<20 {
				val = make([]byte, 4*len(val))
				continue
			}
			if errors.Is(err, unix.ENODATA) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if out == nil {
				out = map[string]string{}
			}
			out[name] = string(val[:m])
			break
		}
	}
	return out, nil
}

// FromFS reduces the audit's final filesystem to a tree.
func FromFS(fsys *layers.FS) (Tree, error) {
	t := Tree{}
	groups := map[uint64][]string{}
	err := fsys.Walk(func(n *layers.Node) error {
		f := File{Type: auditType(n.Type), Mode: n.Mode & modeBits, UID: n.UID, GID: n.GID}
		if n.Type == layers.TypeSymlink {
			f.Mode, f.Link = 0, n.Linkname
		}
		if len(n.Xattrs) > 0 {
			f.Xattrs = make(map[string]string, len(n.Xattrs))
			for k, v := range n.Xattrs {
				f.Xattrs[k] = v
			}
		}
		if _, dup := t[n.Path]; dup {
			return fmt.Errorf("audit: %s walked twice", n.Path)
		}
		t[n.Path] = f
		if n.Type != layers.TypeDir && len(fsys.Links(n)) > 1 {
			groups[n.Inode] = append(groups[n.Inode], n.Path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	setLinks(t, groups)
	return t, nil
}

func auditType(t layers.Type) string {
	switch t {
	case layers.TypeRegular:
		return "file"
	case layers.TypeDir:
		return "dir"
	case layers.TypeSymlink:
		return "symlink"
	case layers.TypeHardlink:
		return "hardlink"
	case layers.TypeCharDevice:
		return "char"
	case layers.TypeBlockDevice:
		return "block"
	case layers.TypeFIFO:
		return "fifo"
	}
	return t.String() // a whiteout marker left in the tree, say
}
