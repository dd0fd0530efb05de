package checks

import (
	"path"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// StandardPath is the PATH every image is searched with, besides its own PATH
// variable: the directories a shell or a container runtime falls back to.
const StandardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Image is what checks inspect: the image config and its squashed final
// filesystem. Views derived from them (the PATH tool index, /etc/passwd,
// os-release, package databases) are computed on first use, once, and are
// safe for concurrent use. An Image must not be copied after first use.
type Image struct {
	// Reference names the image as the user gave it; informational only.
	Reference string
	// Config is the image config; nil is read as an empty config.
	Config *v1.ConfigFile
	// FS is the final filesystem, scanned with the checks' captures (see
	// [Captures]); nil is read as an empty filesystem.
	FS *layers.FS

	fsOnce   sync.Once
	fs       *layers.FS
	envOnce  sync.Once
	env      map[string]string
	dirsOnce sync.Once
	dirs     []string
	filesMu  sync.Mutex
	files    map[uint64]*fileInfo
	listMu   sync.Mutex
	listed   bool
	all      []*layers.Node // see entryList
	special  []*layers.Node
	toolOnce sync.Once
	tools    toolIndex
	refOnce  sync.Once
	refs     []*LayerRef
	pwOnce   sync.Once
	pw       passwdFile
	osOnce   sync.Once
	osrel    osReleaseFile
	pkgOnce  sync.Once
	pkgs     packageDB
	ownOnce  sync.Once
	owners   map[string]*pkgRecord
}

// NewImage returns an Image for the config and filesystem of one image.
func NewImage(ref string, cfg *v1.ConfigFile, fsys *layers.FS) *Image {
	return &Image{Reference: ref, Config: cfg, FS: fsys}
}

// fsys returns the filesystem, an empty one when none was given.
func (img *Image) fsys() *layers.FS {
	img.fsOnce.Do(func() {
		img.fs = img.FS
		if img.fs == nil {
			img.fs, _ = layers.Squash(nil, nil)
		}
	})
	return img.fs
}

// config returns the container config, the zero value when there is none.
func (img *Image) config() v1.Config {
	if img.Config == nil {
		return v1.Config{}
	}
	return img.Config.Config
}

func (img *Image) history() []v1.History {
	if img.Config == nil {
		return nil
	}
	return img.Config.History
}

// envVars returns the config's environment; the last definition of a name
// wins, as in a container.
func (img *Image) envVars() map[string]string {
	img.envOnce.Do(func() {
		img.env = map[string]string{}
		for _, kv := range img.config().Env {
			k, v, _ := strings.Cut(kv, "=")
			img.env[k] = v
		}
	})
	return img.env
}

// PathDirs returns the directories searched for tools: the entries of the
// image's PATH variable, then those of [StandardPath], cleaned, absolute
// ones only, without duplicates.
func (img *Image) PathDirs() []string {
	img.dirsOnce.Do(func() {
		seen := map[string]bool{}
		add := func(list string) {
			for _, d := range strings.Split(list, ":") {
				if !strings.HasPrefix(d, "/") {
					continue // empty or relative: depends on the working directory
				}
				d = path.Clean(d)
				if !seen[d] {
					seen[d] = true
					img.dirs = append(img.dirs, d)
				}
			}
		}
		if p, ok := img.envVars()["PATH"]; ok {
			add(p)
		}
		add(StandardPath)
	})
	return img.dirs
}

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

// linkedFile builds (once) the entry of a file with several names.
func (img *Image) linkedFile(n *layers.Node, links []*layers.Node) *fileInfo {
	img.filesMu.Lock()
	defer img.filesMu.Unlock()
	if fi := img.files[n.Inode]; fi != nil {
		return fi
	}
	if img.files == nil {
		img.files = map[uint64]*fileInfo{}
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
	img.files[n.Inode] = fi
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

// file returns the index entry of the regular file n, nil for other nodes.
func (img *Image) file(n *layers.Node) *fileInfo {
	if n == nil || n.Type != layers.TypeRegular {
		return nil
	}
	if links := img.fsys().Links(n); links != nil {
		return img.linkedFile(n, links)
	}
	return &fileInfo{node: n, paths: []string{n.Path}, busybox: isBusyboxName(n)}
}

// canonical returns the node that best names the file n is a path of.
func (img *Image) canonical(n *layers.Node) *layers.Node {
	if fi := img.file(n); fi != nil {
		return fi.node
	}
	return n
}

// toolRef is one entry of a PATH directory that resolves, inside the image,
// to an executable regular file.
type toolRef struct {
	name   string       // the entry's name: the command a user types
	dir    *pathDir     // the directory, with every PATH entry that names it
	file   *layers.Node // canonical node of the executable
	target *layers.Node // the node the entry resolves to (itself unless a symlink)
}

// pathDir is one directory of the search path with the PATH entries that
// reach it: "/bin" and "/usr/bin" in a merged-/usr image.
type pathDir struct {
	paths []string // cleaned, in PATH order
}

// paths returns the command's path through each PATH entry of its
// directory.
func (t toolRef) paths() []string {
	out := make([]string, len(t.dir.paths))
	for i, d := range t.dir.paths {
		out[i] = path.Join(d, t.name)
	}
	return out
}

// toolIndex is every tool entry of the PATH directories, indexed.
type toolIndex struct {
	refs    []toolRef                  // in PATH order, then name order
	byFile  map[*layers.Node][]toolRef // by canonical file
	byName  map[string][]toolRef       // in PATH order
	busybox map[*layers.Node]bool      // files that are busybox binaries
}

// toolRefs indexes the PATH directories: every entry that is, or resolves
// through symlinks and hardlinks to, a regular file with an execute bit.
// Directories, dangling links, link loops and non-executable files are not
// tools. A directory that several PATH entries reach (through symlinks) is
// read once: the image's config chooses PATH, and a hostile one listing the
// same directory under thousands of names must cost thousands of lookups,
// not thousands of directory reads.
func (img *Image) toolRefs() *toolIndex {
	img.toolOnce.Do(func() {
		ix := &img.tools
		ix.byFile = map[*layers.Node][]toolRef{}
		ix.byName = map[string][]toolRef{}
		ix.busybox = map[*layers.Node]bool{}
		f := img.fsys()
		dirs := map[*layers.Node]*pathDir{}
		var order []*layers.Node
		for _, d := range img.PathDirs() {
			n, err := f.Stat(d)
			if err != nil || n.Type != layers.TypeDir {
				continue
			}
			if pd := dirs[n]; pd != nil {
				pd.paths = append(pd.paths, d)
				continue
			}
			dirs[n] = &pathDir{paths: []string{d}}
			order = append(order, n)
		}
		for _, dn := range order {
			pd := dirs[dn]
			for _, e := range dn.Children() {
				n := e
				if e.Type == layers.TypeSymlink {
					var err error
					if n, err = f.Stat(e.Path); err != nil {
						continue
					}
				}
				if n.Type != layers.TypeRegular || !n.IsExecutable() {
					continue
				}
				name := path.Base(e.Path)
				t := toolRef{name: name, dir: pd, file: img.canonical(n), target: n}
				ix.refs = append(ix.refs, t)
				ix.byFile[t.file] = append(ix.byFile[t.file], t)
				ix.byName[name] = append(ix.byName[name], t)
				if fi := img.file(t.file); name == "busybox" || (fi != nil && fi.busybox) {
					ix.busybox[t.file] = true
				}
			}
		}
	})
	return &img.tools
}

// lookPath returns the file a command name runs (the first PATH directory
// holding it), or nil.
func (img *Image) lookPath(name string) *layers.Node {
	if refs := img.toolRefs().byName[name]; len(refs) > 0 {
		return refs[0].file
	}
	return nil
}

// aliases returns the paths other than canon that reach the file of inode:
// its other hardlinks, and PATH entries accepted by keep (nil keeps all).
func (img *Image) aliases(n *layers.Node, keep func(name string) bool) []string {
	canon := img.canonical(n)
	var out []string
	if fi := img.file(n); fi != nil {
		out = append(out, fi.paths...)
	}
	for _, t := range img.toolRefs().byFile[canon] {
		if keep == nil || keep(t.name) {
			out = append(out, t.paths()...)
		}
	}
	return cleanAliases(out, canon.Path)
}

// cleanAliases sorts paths, drops duplicates and the file's own path.
func cleanAliases(paths []string, self string) []string {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	paths = slices.DeleteFunc(paths, func(p string) bool { return p == self })
	if len(paths) == 0 {
		return nil
	}
	return paths
}

// layerRefs describes every layer, created_by redacted.
func (img *Image) layerRefs() []*LayerRef {
	img.refOnce.Do(func() {
		for _, l := range img.fsys().Layers() {
			r := &LayerRef{Index: l.Index, CreatedBy: redactText(l.CreatedBy), HistoryIndex: l.HistoryIndex}
			if l.Digest.Hex != "" {
				r.Digest = l.Digest.String()
			}
			if l.DiffID.Hex != "" {
				r.DiffID = l.DiffID.String()
			}
			img.refs = append(img.refs, r)
		}
	})
	return img.refs
}

// layerRef returns a copy of the description of layer i, nil when there is
// no such layer.
func (img *Image) layerRef(i int) *LayerRef {
	refs := img.layerRefs()
	if i < 0 || i >= len(refs) {
		return nil
	}
	r := *refs[i]
	return &r
}

// historyRef describes history step h: its layer when it made one, else a
// reference with Index -1.
func (img *Image) historyRef(h int) *LayerRef {
	for _, r := range img.layerRefs() {
		if r.HistoryIndex == h {
			c := *r
			return &c
		}
	}
	hist := img.history()
	if h < 0 || h >= len(hist) {
		return nil
	}
	return &LayerRef{Index: -1, CreatedBy: redactText(hist[h].CreatedBy), HistoryIndex: h}
}

// instruction splits a history created_by into its Dockerfile instruction
// (upper case) and arguments. Both the classic builder's
// "/bin/sh -c #(nop)  ENV A=b" and BuildKit's "ENV A=b" are understood; a
// RUN step of the classic builder ("/bin/sh -c apt-get ...") is "RUN".
func instruction(createdBy string) (instr, args string) {
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c "); ok {
		rest = strings.TrimSpace(rest)
		if nop, ok := strings.CutPrefix(rest, "#(nop)"); ok {
			s = strings.TrimSpace(nop)
		} else {
			return "RUN", rest
		}
	}
	if strings.HasPrefix(s, "|") { // classic builder RUN with build arguments: "|1 A=b /bin/sh -c ..."
		return "RUN", s
	}
	word, rest, _ := strings.Cut(s, " ")
	return strings.ToUpper(word), strings.TrimSpace(rest)
}

// lastStep returns the index of the last history step with the given
// instruction whose arguments satisfy match, or -1.
func (img *Image) lastStep(instr string, match func(args string) bool) int {
	hist := img.history()
	for i := len(hist) - 1; i >= 0; i-- {
		in, args := instruction(hist[i].CreatedBy)
		if in == instr && (match == nil || match(args)) {
			return i
		}
	}
	return -1
}

// readFile returns the captured contents of p, and whether they were
// captured.
func (img *Image) readFile(p string) ([]byte, bool) {
	b, err := img.fsys().ReadFile(p)
	return b, err == nil
}

// exists reports whether p exists (without following a final symlink).
func (img *Image) exists(p string) bool {
	_, err := img.fsys().Lstat(p)
	return err == nil
}
