package checks

import (
	"io/fs"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// StandardPath is the PATH every image is searched with, besides its own PATH
// variable: the directories a shell or a container runtime falls back to.
const StandardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Image is what checks inspect: the image config and its squashed final
// filesystem. What checks derive from them (users, PATH tools, package
// databases, files with special bits...) are views, each computed on first
// use, once, and safe for concurrent use (see views.go). An Image must not
// be copied after first use.
type Image struct {
	// Reference names the image as the user gave it; informational only.
	Reference string
	// Config is the image config; nil is read as an empty config.
	Config *v1.ConfigFile
	// FS is the final filesystem, scanned with the checks' captures (see
	// [Captures]); nil is read as an empty filesystem.
	FS *layers.FS

	views views
}

// NewImage returns an Image for the config and filesystem of one image.
func NewImage(ref string, cfg *v1.ConfigFile, fsys *layers.FS) *Image {
	return &Image{Reference: ref, Config: cfg, FS: fsys}
}

// PathDirs returns the directories searched for tools: the entries of the
// image's PATH variable, then those of [StandardPath], cleaned, absolute
// ones only, without duplicates.
func (img *Image) PathDirs() []string { return pathDirsOf(img) }

// tree is the final filesystem as checks read it: a [layers.FS], or
// emptyTree when the image has none.
type tree interface {
	Root() *layers.Node
	Walk(fn func(n *layers.Node) error) error
	Stat(p string) (*layers.Node, error)
	Lstat(p string) (*layers.Node, error)
	ReadFile(p string) ([]byte, error)
	ReadDir(p string) ([]*layers.Node, error)
	Links(n *layers.Node) []*layers.Node
	Layers() []layers.LayerInfo
	Deleted() []layers.DeletedEntry
	Anomalies() []layers.Anomaly
}

var _ tree = (*layers.FS)(nil)

// emptyTree is a filesystem holding only its root directory.
type emptyTree struct{}

func (emptyTree) Root() *layers.Node {
	return &layers.Node{Entry: layers.Entry{Path: "/", Type: layers.TypeDir, Mode: 0o755}}
}
func (emptyTree) Walk(func(*layers.Node) error) error { return nil }
func (emptyTree) Stat(p string) (*layers.Node, error) { return emptyTree{}.Lstat(p) }
func (emptyTree) Lstat(p string) (*layers.Node, error) {
	if path.Clean("/"+p) == "/" {
		return emptyTree{}.Root(), nil
	}
	return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
}
func (emptyTree) ReadFile(p string) ([]byte, error) {
	return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrNotExist}
}
func (emptyTree) ReadDir(p string) ([]*layers.Node, error) {
	if _, err := (emptyTree{}).Stat(p); err != nil {
		return nil, err
	}
	return nil, nil
}
func (emptyTree) Links(*layers.Node) []*layers.Node { return nil }
func (emptyTree) Layers() []layers.LayerInfo        { return nil }
func (emptyTree) Deleted() []layers.DeletedEntry    { return nil }
func (emptyTree) Anomalies() []layers.Anomaly       { return nil }

// filesOf returns the final filesystem, an empty one when none was given.
func filesOf(img *Image) tree {
	if img.FS == nil {
		return emptyTree{}
	}
	return img.FS
}

// configOf returns the container config, the zero value when there is none.
func configOf(img *Image) v1.Config {
	if img.Config == nil {
		return v1.Config{}
	}
	return img.Config.Config
}

// historyOf returns the config's history.
func historyOf(img *Image) []v1.History {
	if img.Config == nil {
		return nil
	}
	return img.Config.History
}

// envOf returns the config's environment; the last definition of a name
// wins, as in a container.
func envOf(img *Image) map[string]string {
	return view(img, viewEnv, func(img *Image) map[string]string {
		env := map[string]string{}
		for _, kv := range configOf(img).Env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env
	})
}

// pathDirsOf returns the PATH directories (see [Image.PathDirs]).
func pathDirsOf(img *Image) []string {
	return view(img, viewPathDirs, func(img *Image) []string {
		var dirs []string
		seen := map[string]bool{}
		add := func(list string) {
			for _, d := range strings.Split(list, ":") {
				if !strings.HasPrefix(d, "/") {
					continue // empty or relative: depends on the working directory
				}
				d = path.Clean(d)
				if !seen[d] {
					seen[d] = true
					dirs = append(dirs, d)
				}
			}
		}
		if p, ok := envOf(img)["PATH"]; ok {
			add(p)
		}
		add(StandardPath)
		return dirs
	})
}

// readFile returns the captured contents of p, and whether they were
// captured.
func readFile(img *Image, p string) ([]byte, bool) {
	b, err := filesOf(img).ReadFile(p)
	return b, err == nil
}

// exists reports whether p exists (without following a final symlink).
func exists(img *Image, p string) bool {
	_, err := filesOf(img).Lstat(p)
	return err == nil
}
