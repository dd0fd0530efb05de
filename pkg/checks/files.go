package checks

import (
	"context"
	"io/fs"
	"path"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// walkFiles calls fn once per file of the final filesystem, hardlinks
// grouped: fn sees the canonical node of each regular file (once, whatever
// the number of its hardlinks) and every other node as is. The root
// directory is included. The tree is walked once per image (see entryList);
// the context is checked every few thousand entries.
func walkFiles(ctx context.Context, img *Image, fn func(n *layers.Node) error) error {
	all, _, err := img.entryList(ctx)
	if err != nil {
		return err
	}
	return visit(ctx, all, fn)
}

// walkSpecial is walkFiles restricted to the entries with a setuid, setgid
// or world-write bit, in the same order: the checks of those bits read a
// short list instead of every entry.
func walkSpecial(ctx context.Context, img *Image, fn func(n *layers.Node) error) error {
	_, special, err := img.entryList(ctx)
	if err != nil {
		return err
	}
	return visit(ctx, special, fn)
}

func visit(ctx context.Context, nodes []*layers.Node, fn func(n *layers.Node) error) error {
	for i, n := range nodes {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

// entryList walks the tree once and keeps what walkFiles visits, and the
// entries with special bits. A walk stopped by ctx is not kept.
func (img *Image) entryList(ctx context.Context) (all, special []*layers.Node, err error) {
	img.listMu.Lock()
	defer img.listMu.Unlock()
	if img.listed {
		return img.all, img.special, nil
	}
	f := img.fsys()
	keep := func(n *layers.Node) {
		all = append(all, n)
		if n.Mode&(fs.ModeSetuid|fs.ModeSetgid|0o002) != 0 {
			special = append(special, n)
		}
	}
	keep(f.Root())
	seen := map[uint64]bool{}
	count := 0
	err = f.Walk(func(n *layers.Node) error {
		count++
		if count%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if n.Type == layers.TypeRegular && f.Links(n) != nil {
			// Several names for one file: visit it once, by its best name.
			if seen[n.Inode] {
				return nil
			}
			seen[n.Inode] = true
			n = img.canonical(n)
		}
		keep(n)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	img.all, img.special, img.listed = all, special, true
	return all, special, nil
}

// fileFinding describes the file n (a canonical node) with its aliases.
func (img *Image) fileFinding(n *layers.Node) Finding {
	return Finding{
		Path:    n.Path,
		Aliases: img.aliases(n, nil),
		Name:    path.Base(n.Path),
		Layer:   img.layerRef(n.Layer),
	}
}
