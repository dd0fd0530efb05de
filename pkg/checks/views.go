package checks

import (
	"context"
	"sync"
)

// A view is one fact derived from an image and shared by the checks: its
// users, the tools on its PATH, its package databases, its files with
// special bits... A check asks for a view by name through the view's
// accessor (usersOf, toolsOf, packagesOf, entriesOf, ...). Each view is
// computed on first use, once, and is safe for concurrent checks: callers
// asking while it is being built wait for that build. A view may use other
// views, never itself.

// viewName names a view; each accessor uses its own.
type viewName string

const (
	viewEnv       viewName = "env"            // the config's environment
	viewPathDirs  viewName = "path-dirs"      // the PATH directories
	viewHardlinks viewName = "hardlinks"      // files with several names
	viewEntries   viewName = "entries"        // every file, and those with special bits
	viewTools     viewName = "path-tools"     // executables reachable from PATH
	viewLayers    viewName = "layers"         // layer descriptions
	viewUsers     viewName = "users"          // /etc/passwd and /etc/group
	viewUser      viewName = "user"           // who the container runs as
	viewOSRelease viewName = "os-release"     // os-release(5)
	viewPackages  viewName = "packages"       // package databases
	viewOwners    viewName = "package-owners" // package of each recorded path
)

// viewCell holds one view of one image.
type viewCell struct {
	mu   sync.Mutex
	done bool
	val  any
}

// views holds the computed views of one image.
type views struct {
	mu    sync.Mutex
	cells map[viewName]*viewCell
}

func (v *views) cell(name viewName) *viewCell {
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.cells[name]
	if c == nil {
		if v.cells == nil {
			v.cells = map[viewName]*viewCell{}
		}
		c = &viewCell{}
		v.cells[name] = c
	}
	return c
}

// view returns the view name of img, built by build on first use.
func view[T any](img *Image, name viewName, build func(*Image) T) T {
	v, _ := viewCtx(context.Background(), img, name, func(_ context.Context, img *Image) (T, error) {
		return build(img), nil
	})
	return v
}

// viewCtx is view for a build that the context can stop. A build that
// fails is not kept: the next caller builds again.
func viewCtx[T any](ctx context.Context, img *Image, name viewName, build func(context.Context, *Image) (T, error)) (T, error) {
	c := img.views.cell(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.val.(T), nil
	}
	v, err := build(ctx, img)
	if err != nil {
		var zero T
		return zero, err
	}
	c.val, c.done = v, true
	return v, nil
}
