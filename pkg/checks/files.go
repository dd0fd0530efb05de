package checks

import (
	"context"
	"io/fs"
	"path"

	"github.com/imgaudit/imgaudit/pkg/caps"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// entryList is the entries view: the tree walked once, hardlinks grouped.
type entryList struct {
	all     []*layers.Node // what walkFiles visits
	special []*layers.Node // those with a setuid, setgid or world-write bit
	capable []*layers.Node // those with file capabilities
}

// entriesOf returns the entries view of img. A walk stopped by ctx is not
// kept.
func entriesOf(ctx context.Context, img *Image) (*entryList, error) {
	return viewCtx(ctx, img, viewEntries, buildEntries)
}

func buildEntries(ctx context.Context, img *Image) (*entryList, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := filesOf(img)
	links := hardlinksOf(img)
	l := &entryList{}
	keep := func(n *layers.Node) {
		l.all = append(l.all, n)
		if n.Mode&(fs.ModeSetuid|fs.ModeSetgid|0o002) != 0 {
			l.special = append(l.special, n)
		}
		if _, ok := n.Xattrs[caps.XattrName]; ok {
			l.capable = append(l.capable, n)
		}
	}
	keep(f.Root())
	seen := map[uint64]bool{}
	count := 0
	err := f.Walk(func(n *layers.Node) error {
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
			n = links.canonical(n)
		}
		keep(n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// walkFiles calls fn once per file of the final filesystem, hardlinks
// grouped: fn sees the canonical node of each regular file (once, whatever
// the number of its hardlinks) and every other node as is. The root
// directory is included. The tree is walked once per image (see
// entriesOf); the context is checked every few thousand entries.
func walkFiles(ctx context.Context, img *Image, fn func(n *layers.Node) error) error {
	l, err := entriesOf(ctx, img)
	if err != nil {
		return err
	}
	return visit(ctx, l.all, fn)
}

// walkSpecial is walkFiles restricted to the entries with a setuid, setgid
// or world-write bit, in the same order: the checks of those bits read a
// short list instead of every entry.
func walkSpecial(ctx context.Context, img *Image, fn func(n *layers.Node) error) error {
	l, err := entriesOf(ctx, img)
	if err != nil {
		return err
	}
	return visit(ctx, l.special, fn)
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

// fileFinding describes the file n (a canonical node) with its aliases.
func fileFinding(img *Image, n *layers.Node) Finding {
	return Finding{
		Path:    n.Path,
		Aliases: aliases(img, n, nil),
		Name:    path.Base(n.Path),
		Layer:   layerRef(img, n.Layer),
	}
}
