package checks

import (
	"path"
	"slices"
	"sync"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// fileInfo is one regular file of the final filesystem with every path
// (hardlink) that names it.
type fileInfo struct {
	// node is the canonical node: for busybox the path named busybox, else
	// the original entry rather than a hardlink when it survives, else the
	// smallest path.
	node    *layers.Node
	paths   []string // every path of the file, sorted
	busybox bool     // one of its names, or the file it was hardlinked to, is "busybox"
}

// linkIndex is the hardlinks view: the files with several names, each
// indexed on first use.
type linkIndex struct {
	fs    tree
	mu    sync.Mutex
	files map[uint64]*fileInfo
}

// hardlinksOf returns the hardlinks view of img.
func hardlinksOf(img *Image) *linkIndex {
	return view(img, viewHardlinks, func(img *Image) *linkIndex {
		return &linkIndex{fs: filesOf(img), files: map[uint64]*fileInfo{}}
	})
}

// file returns the entry of the regular file n, nil for other nodes.
func (ix *linkIndex) file(n *layers.Node) *fileInfo {
	if n == nil || n.Type != layers.TypeRegular {
		return nil
	}
	if links := ix.fs.Links(n); links != nil {
		return ix.linked(n, links)
	}
	return &fileInfo{node: n, paths: []string{n.Path}, busybox: isBusyboxName(n)}
}

// canonical returns the node that best names the file n is a path of.
func (ix *linkIndex) canonical(n *layers.Node) *layers.Node {
	if fi := ix.file(n); fi != nil {
		return fi.node
	}
	return n
}

// linked builds (once) the entry of a file with several names.
func (ix *linkIndex) linked(n *layers.Node, links []*layers.Node) *fileInfo {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if fi := ix.files[n.Inode]; fi != nil {
		return fi
	}
	fi := &fileInfo{node: links[0]}
	for _, l := range links {
		fi.paths = append(fi.paths, l.Path)
		if better(l, fi.node) {
			fi.node = l
		}
		if isBusyboxName(l) {
			fi.busybox = true
		}
	}
	slices.Sort(fi.paths)
	// All hardlinks are the same file and the first in tar order is
	// arbitrary (busybox's is often /bin/[): name a busybox binary by its
	// own name.
	if fi.busybox && path.Base(fi.node.Path) != "busybox" {
		for _, l := range links {
			if path.Base(l.Path) == "busybox" {
				fi.node = l
				break
			}
		}
	}
	ix.files[n.Inode] = fi
	return fi
}

func isBusyboxName(n *layers.Node) bool {
	return path.Base(n.Path) == "busybox" || (n.HardlinkOf() != "" && path.Base(n.HardlinkOf()) == "busybox")
}

// better reports whether n names its file better than cur: the original
// entry beats a hardlink, then the smaller path wins.
func better(n, cur *layers.Node) bool {
	if (n.HardlinkOf() == "") != (cur.HardlinkOf() == "") {
		return n.HardlinkOf() == ""
	}
	return n.Path < cur.Path
}
