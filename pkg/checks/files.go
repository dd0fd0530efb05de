package checks

import (
	"context"
	"path"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// walkFiles calls fn once per file of the final filesystem, hardlinks
// grouped: fn sees the canonical node of each regular file (once, whatever
// the number of its hardlinks) and every other node as is. The root
// directory is included. The context is checked every few thousand entries.
func walkFiles(ctx context.Context, img *Image, fn func(n *layers.Node) error) error {
	f := img.fsys()
	if err := fn(f.Root()); err != nil {
		return err
	}
	seen := map[uint64]bool{}
	count := 0
	return f.Walk(func(n *layers.Node) error {
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
		return fn(n)
	})
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
