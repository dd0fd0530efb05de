package layers_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

func scan(t *testing.T, capture []string, steps ...it.LayerStep) *layers.FS {
	t.Helper()
	img, err := it.Image(v1.Config{}, steps...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := layers.Scan(context.Background(), img, layers.ImageOptions{Options: layers.Options{Capture: capture}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tree renders the final filesystem as "path type layer [mode]" lines.
func tree(f *layers.FS) []string {
	var out []string
	f.Walk(func(n *layers.Node) error {
		s := n.Path + " " + n.Type.String() + " L" + itoa(n.Layer)
		if n.Type == layers.TypeSymlink {
			s += " -> " + n.Linkname
		}
		if n.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			s += " " + n.Mode.String()
		}
		out = append(out, s)
		return nil
	})
	return out
}

func deleted(f *layers.FS) []string {
	var out []string
	for _, d := range f.Deleted() {
		s := d.Path + " L" + itoa(d.Layer) + " by L" + itoa(d.RemovedBy)
		if d.Replaced {
			s += " replaced"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func anomalies(f *layers.FS) []string {
	var out []string
	for _, a := range f.Anomalies() {
		out = append(out, string(a.Kind)+" "+a.Path+" L"+itoa(a.Layer))
	}
	sort.Strings(out)
	return out
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestSquash(t *testing.T) {
	elf := it.ELF("", 16)
	tests := []struct {
		name      string
		steps     []it.LayerStep
		want      []string
		deleted   []string
		anomalies []string
	}{{
		name: "plain whiteout deletes file and keeps it aside",
		steps: []it.LayerStep{
			it.Step("base", it.Dir("a", 0o755), it.Text("a/x", "x"), it.Text("a/y", "y")),
			it.Step("rm", it.Whiteout("a/x")),
		},
		want:    []string{"/a dir L0", "/a/y file L0"},
		deleted: []string{"/a/x L0 by L1"},
	}, {
		name: "whiteout of a directory removes its whole tree",
		steps: []it.LayerStep{
			it.Step("base", it.Dir("a/b/c", 0o755), it.Text("a/b/c/f", "f"), it.Text("a/g", "g")),
			it.Step("rm", it.Whiteout("a/b")),
		},
		want:    []string{"/a dir L0", "/a/g file L0"},
		deleted: []string{"/a/b/c/f L0 by L1"},
	}, {
		name: "a whiteout after an entry of its own layer deletes it",
		steps: []it.LayerStep{
			it.Step("base", it.Text("f", "1")),
			it.Step("re", it.Text("f", "2"), it.Whiteout("f")),
		},
		// containerd's overlay applier refuses the layer (mknod over an
		// existing path); its native applier deletes both.
		want:    nil,
		deleted: []string{"/f L0 by L1 replaced", "/f L1 by L1"},
	}, {
		name: "opaque marker after the entries of its own layer",
		steps: []it.LayerStep{
			it.Step("base", it.Dir("etc", 0o755), it.Text("etc/a", "a"), it.Text("etc/b", "b")),
			it.Step("opq", it.Dir("etc", 0o755), it.Text("etc/c", "c"), it.Opaque("etc")),
		},
		want:    []string{"/etc dir L1", "/etc/c file L1"},
		deleted: []string{"/etc/a L0 by L1", "/etc/b L0 by L1"},
	}, {
		name: "opaque marker before the entries of its own layer",
		steps: []it.LayerStep{
			it.Step("base", it.Dir("etc", 0o755), it.Text("etc/a", "a")),
			it.Step("opq", it.Opaque("etc"), it.Text("etc/c", "c")),
		},
		want:    []string{"/etc dir L0", "/etc/c file L1"},
		deleted: []string{"/etc/a L0 by L1"},
	}, {
		name: "opaque directory hides a tool in a subdirectory",
		steps: []it.LayerStep{
			it.Step("base", it.Dir("usr/bin", 0o755), it.File("usr/bin/curl", 0o755, elf), it.Dir("usr/lib", 0o755)),
			it.Step("opq", it.Dir("usr", 0o755), it.Opaque("usr"), it.Dir("usr/lib", 0o755)),
		},
		want:    []string{"/usr dir L1", "/usr/lib dir L1"},
		deleted: []string{"/usr/bin/curl L0 by L1"},
	}, {
		name: "directory replaced by a file and back",
		steps: []it.LayerStep{
			it.Step("dir", it.Dir("d", 0o755), it.Text("d/x", "x")),
			it.Step("file", it.Text("d", "now a file")),
			it.Step("dir again", it.Dir("d", 0o700), it.Text("d/y", "y")),
		},
		want:    []string{"/d dir L2", "/d/y file L2"},
		deleted: []string{"/d L1 by L2 replaced", "/d/x L0 by L1 replaced"},
	}, {
		name: "file re-added after deletion",
		steps: []it.LayerStep{
			it.Step("add", it.Text("f", "1")),
			it.Step("rm", it.Whiteout("f")),
			it.Step("add again", it.Text("f", "2")),
		},
		want:    []string{"/f file L2"},
		deleted: []string{"/f L0 by L1"},
	}, {
		name: "setuid cleared by a later layer",
		steps: []it.LayerStep{
			it.Step("add", it.Dir("bin", 0o755), it.File("bin/su", 0o4755, elf)),
			it.Step("chmod u-s", it.File("bin/su", 0o755, elf)),
		},
		want:    []string{"/bin dir L0", "/bin/su file L1"},
		deleted: []string{"/bin/su L0 by L1 replaced"},
	}, {
		name: "setgid added by a later layer",
		steps: []it.LayerStep{
			it.Step("add", it.File("bin/wall", 0o755, elf)),
			it.Step("chmod g+s", it.File("bin/wall", 0o2755, elf)),
		},
		want:    []string{"/bin dir L0", "/bin/wall file L1 grwxr-xr-x"},
		deleted: []string{"/bin/wall L0 by L1 replaced"},
	}, {
		name: "symlinked parent directory: overlayfs makes a directory, the native applier writes through",
		steps: []it.LayerStep{
			it.Step("usrmerge", it.Dir("usr/bin", 0o755), it.Symlink("bin", "usr/bin")),
			it.Step("add", it.File("bin/foo", 0o755, elf)),
		},
		// The upper layer's implicit directory bin hides the lower
		// symlink under overlayfs; containerd's native applier follows
		// it. The union holds both files.
		want:      []string{"/bin dir L1", "/bin/foo file L1", "/usr dir L0", "/usr/bin dir L0", "/usr/bin/foo file L1"},
		deleted:   []string{"/bin L0 by L1 replaced"},
		anomalies: []string{"runtime-divergence /bin L0", "runtime-divergence /usr/bin/foo L1", "through-symlink /bin/foo L1"},
	}, {
		name: "hostile names are cleaned into the root",
		steps: []it.LayerStep{
			it.Step("evil", it.Text("../../escape", "x"), it.Raw(tar.Header{Name: "/abs", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("a"))),
		},
		want:      []string{"/abs file L0", "/escape file L0"},
		anomalies: []string{"absolute-name /abs L0", "escaping-name /escape L0"},
	}, {
		name: "hardlink to a missing file",
		steps: []it.LayerStep{
			it.Step("bad", it.Hardlink("bin/sh", "bin/nothere")),
		},
		want:      []string{"/bin dir L0", "/bin/sh hardlink L0"},
		anomalies: []string{"hardlink-missing /bin/sh L0"},
	}, {
		name: "file below a regular file replaces it with a directory",
		steps: []it.LayerStep{
			it.Step("file", it.Text("x", "x")),
			it.Step("below", it.Text("x/y", "y")),
		},
		want:      []string{"/x dir L1", "/x/y file L1"},
		deleted:   []string{"/x L0 by L1 replaced"},
		anomalies: []string{"parent-not-dir /x/y L1"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := scan(t, nil, tc.steps...)
			if d := cmp.Diff(tc.want, tree(f)); d != "" {
				t.Errorf("tree (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.deleted, deleted(f)); d != "" {
				t.Errorf("deleted (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.anomalies, anomalies(f)); d != "" {
				t.Errorf("anomalies (-want +got):\n%s", d)
			}
		})
	}
}

func TestHardlinks(t *testing.T) {
	elf := it.ELF("", 64)
	f := scan(t, nil,
		it.Step("busybox", it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, elf), it.Hardlink("bin/sh", "bin/busybox")),
		it.Step("more", it.Hardlink("bin/wget", "bin/busybox")),
	)
	bb, err := f.Stat("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/bin/sh", "/bin/wget"} {
		n, err := f.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if n.Inode != bb.Inode || n.Type != layers.TypeRegular || n.HardlinkOf() != "/bin/busybox" || !n.IsExecutable() || n.Content.Kind != layers.ContentELF {
			t.Errorf("%s = %+v, want a hardlink sharing busybox's inode %d", p, n, bb.Inode)
		}
	}
	if n, _ := f.Stat("/bin/wget"); n.Layer != 1 {
		t.Errorf("wget layer = %d, want 1", n.Layer)
	}
}

func TestResolve(t *testing.T) {
	steps := []it.LayerStep{it.Step("base",
		it.Dir("usr/bin", 0o755), it.Symlink("bin", "usr/bin"), it.File("usr/bin/dash", 0o755, it.ELF("", 8)),
		it.Symlink("usr/bin/sh", "dash"),
		it.Symlink("etc/alt", "/usr/bin/sh"),
		it.Symlink("up", "../../../../usr/bin/dash"),
		it.Symlink("loop1", "loop2"), it.Symlink("loop2", "loop1"),
		it.Symlink("dangling", "/nowhere"),
		it.Symlink("dotdot", "usr/bin/../bin/./dash"),
	)}
	// A chain of exactly MaxSymlinkHops links resolves; one more does not.
	for i := 0; i <= layers.MaxSymlinkHops; i++ {
		steps[0].Items = append(steps[0].Items, it.Symlink("c"+itoa(i), "c"+itoa(i+1)))
	}
	steps[0].Items = append(steps[0].Items, it.Text("c"+itoa(layers.MaxSymlinkHops+1), "end"))
	f := scan(t, nil, steps...)
	for _, tc := range []struct{ path, want string }{
		{"/bin/sh", "/usr/bin/dash"},
		{"/etc/alt", "/usr/bin/dash"},
		{"/up", "/usr/bin/dash"},
		{"bin/../bin/sh", "/usr/bin/dash"},
		{"/dotdot", "/usr/bin/dash"},
		{"/c1", "/c41"},
	} {
		n, err := f.Stat(tc.path)
		if err != nil {
			t.Errorf("Stat(%s): %v", tc.path, err)
			continue
		}
		if n.Path != tc.want {
			t.Errorf("Stat(%s) = %s, want %s", tc.path, n.Path, tc.want)
		}
	}
	if _, err := f.Stat("/c0"); !errors.Is(err, layers.ErrLinkLoop) {
		t.Errorf("41-link chain: err = %v, want ErrLinkLoop", err)
	}
	if _, err := f.Stat("/loop1"); !errors.Is(err, layers.ErrLinkLoop) {
		t.Errorf("loop: err = %v, want ErrLinkLoop", err)
	}
	if _, err := f.Stat("/dangling"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling: err = %v, want ErrNotExist", err)
	}
	if n, err := f.Lstat("/bin/sh"); err != nil || n.Path != "/usr/bin/sh" || n.Type != layers.TypeSymlink {
		t.Errorf("Lstat(/bin/sh) = %v, %v; want the symlink /usr/bin/sh", n, err)
	}
}

func TestCaptureAndAttribution(t *testing.T) {
	f := scan(t, []string{"/etc/passwd", "/etc/secret/**"},
		it.Step("FROM base", it.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), it.Text("etc/group", "root:x:0:\n")),
		it.Meta("ENV A=1"),
		it.Step("RUN add", it.Text("etc/secret/deep/key", "k"), it.Symlink("etc/pw", "passwd")),
		it.Meta("USER 1000"),
	)
	b, err := f.ReadFile("/etc/pw")
	if err != nil || !strings.HasPrefix(string(b), "root:x:0:0") {
		t.Errorf("ReadFile through symlink = %q, %v", b, err)
	}
	if _, err := f.ReadFile("/etc/group"); !errors.Is(err, layers.ErrNotCaptured) {
		t.Errorf("uncaptured file: err = %v, want ErrNotCaptured", err)
	}
	if b, err := f.ReadFile("/etc/secret/deep/key"); err != nil || string(b) != "k" {
		t.Errorf("** capture = %q, %v", b, err)
	}
	ls := f.Layers()
	if len(ls) != 2 || ls[0].CreatedBy != "FROM base" || ls[1].CreatedBy != "RUN add" || ls[1].HistoryIndex != 2 {
		t.Errorf("attribution = %+v", ls)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, p string
		want   bool
	}{
		{"/etc/passwd", "/etc/passwd", true},
		{"/etc/passwd", "/etc/passwd-", false},
		{"/var/lib/dpkg/status.d/*", "/var/lib/dpkg/status.d/base", true},
		{"/var/lib/dpkg/status.d/*", "/var/lib/dpkg/status.d/a/b", false},
		{"/etc/secret/**", "/etc/secret/a/b", true},
		{"/etc/secret/**", "/etc/secretx", false},
		{"**/.npmrc", "/root/.npmrc", true},
		{"**/.npmrc", "/.npmrc", true},
		{"**/id_*", "/home/u/.ssh/id_rsa", true},
		{"**/id_*", "/home/u/.ssh/known_hosts", false},
	} {
		if got := layers.Match(tc.pat, tc.p); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pat, tc.p, got, tc.want)
		}
	}
}

// TestMatcherAgreesWithMatch checks the compiled matcher against Match on
// every pattern shape.
func TestMatcherAgreesWithMatch(t *testing.T) {
	pats := []string{"/etc/passwd", "/var/lib/dpkg/status.d/*", "/etc/secret/**", "**/.npmrc", "**/id_*",
		"/var/lib/dpkg/info/*.list", "/home/*/.docker/config.json", "/x/[ab]c", "/lib/**"}
	paths := []string{"/etc/passwd", "/etc/passwd-", "/var/lib/dpkg/status.d/base", "/var/lib/dpkg/status.d/a/b",
		"/etc/secret/a/b", "/etc/secretx", "/root/.npmrc", "/.npmrc", "/home/u/.ssh/id_rsa", "/home/u/.ssh/known_hosts",
		"/var/lib/dpkg/info/bash.list", "/var/lib/dpkg/info/bash.md5sums", "/home/bob/.docker/config.json",
		"/home/bob/x/.docker/config.json", "/x/ac", "/x/cc", "/lib/x/y", "/lib", "/", "/a"}
	for _, p := range paths {
		want := false
		for _, pat := range pats {
			if layers.Match(pat, p) {
				want = true
			}
		}
		idx, err := layers.IndexStream(context.Background(), bytes.NewReader(mustTar(t, it.Text(strings.TrimPrefix(p, "/"), "x"))), layers.Options{Capture: pats})
		if err != nil {
			if p == "/" {
				continue
			}
			t.Fatal(err)
		}
		_, got := idx.Files[p]
		if got != want {
			t.Errorf("%s: captured %v, Match says %v", p, got, want)
		}
	}
}

// TestCraftedLayers holds the constructions that once made the audit lose a
// file a runtime ships (each found by comparing with containerd's own
// applier, see internal/runtimediff). want lists "path type mode uid" of the
// paths that matter; absent lists paths that must not exist.
func TestCraftedLayers(t *testing.T) {
	elf := it.ELF("", 16)
	base := it.Step("base",
		it.Dir("bin", 0o755), it.File("bin/sh", 0o4755, elf),
		it.Dir("usr/bin", 0o755), it.File("usr/bin/curl", 0o755, elf), it.File("usr/bin/helper", 0o4755, elf),
		it.Symlink("x", "/usr/bin"),
		it.Dir("d", 0o755), it.File("d/tool", 0o4755, elf),
	)
	caps := it.CapSetuidDacOverride
	tests := []struct {
		name   string
		steps  []it.LayerStep
		want   []string
		absent []string
		xattr  map[string]string // path -> security.capability wanted ("" none)
	}{{
		name:  "backslashes are ordinary bytes, not whiteouts",
		steps: []it.LayerStep{base, it.Step("evil", it.Text(`bin\.wh.sh`, ""), it.Text(`usr\bin\.wh.curl`, ""), it.Text(`\.wh..wh..opq`, ""))},
		want:  []string{"/bin/sh file urwxr-xr-x 0", "/usr/bin/curl file -rwxr-xr-x 0", `/bin\.wh.sh file -rw-r--r-- 0`, `/usr\bin\.wh.curl file -rw-r--r-- 0`, `/\.wh..wh..opq file -rw-r--r-- 0`},
	}, {
		name:  "directory over a lower symlink, then a whiteout inside it",
		steps: []it.LayerStep{base, it.Step("evil", it.Dir("x", 0o755), it.Whiteout("x/helper"))},
		want:  []string{"/usr/bin/helper file urwxr-xr-x 0", "/x dir -rwxr-xr-x 0"},
	}, {
		name:  "whiteout through a lower symlink, then the directory",
		steps: []it.LayerStep{base, it.Step("evil", it.Whiteout("x/helper"), it.Dir("x", 0o755))},
		// overlayfs keeps helper (the upper x is a new directory); the
		// native applier deletes it through the link: the union keeps it.
		want: []string{"/usr/bin/helper file urwxr-xr-x 0"},
	}, {
		name:  "whiteout through a lower symlink alone",
		steps: []it.LayerStep{base, it.Step("evil", it.Whiteout("x/helper"))},
		want:  []string{"/usr/bin/helper file urwxr-xr-x 0"},
	}, {
		name:  "opaque marker through a lower symlink",
		steps: []it.LayerStep{base, it.Step("evil", it.Opaque("x"))},
		want:  []string{"/usr/bin/helper file urwxr-xr-x 0", "/usr/bin/curl file -rwxr-xr-x 0"},
	}, {
		name:  "directory whited out and made again in the same layer",
		steps: []it.LayerStep{base, it.Step("evil", it.Whiteout("d"), it.Dir("d", 0o755), it.Text("d/new", "n"))},
		// The upper d is a plain directory: overlayfs merges the lower one.
		want: []string{"/d/tool file urwxr-xr-x 0", "/d/new file -rw-r--r-- 0"},
	}, {
		name:  "opaque marker at the root",
		steps: []it.LayerStep{base, it.Step("evil", it.Opaque("/"), it.Text("app", "a"))},
		want:  []string{"/bin/sh file urwxr-xr-x 0", "/app file -rw-r--r-- 0"},
	}, {
		name:   "an opaque directory still hides its lower contents",
		steps:  []it.LayerStep{base, it.Step("clean", it.Dir("d", 0o755), it.Opaque("d"), it.Text("d/new", "n"))},
		want:   []string{"/d/new file -rw-r--r-- 0"},
		absent: []string{"/d/tool"},
	}, {
		name:  "hardlink header mode is the shared file's mode",
		steps: []it.LayerStep{it.Step("evil", it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, elf), it.HardlinkMode("bin/su", "bin/busybox", 0o4755))},
		want:  []string{"/bin/busybox file urwxr-xr-x 0", "/bin/su file urwxr-xr-x 0"},
	}, {
		name: "hardlink header owner is the shared file's owner",
		steps: []it.LayerStep{it.Step("evil", it.Dir("bin", 0o755), it.Owned(it.File("bin/tool", 0o4755, elf), 1000, 1000),
			it.Owned(it.HardlinkMode("bin/t2", "bin/tool", 0o4755), 0, 0))},
		want: []string{"/bin/tool file urwxr-xr-x 0", "/bin/t2 file urwxr-xr-x 0"},
	}, {
		name:  "file capabilities are kept",
		steps: []it.LayerStep{it.Step("setcap", it.Dir("usr/bin", 0o755), it.Xattr(it.File("usr/bin/python3", 0o755, elf), "security.capability", caps))},
		xattr: map[string]string{"/usr/bin/python3": caps},
	}, {
		name: "a later layer rewriting the file without capabilities clears them",
		steps: []it.LayerStep{
			it.Step("setcap", it.Dir("usr/bin", 0o755), it.Xattr(it.File("usr/bin/python3", 0o755, elf), "security.capability", caps)),
			it.Step("rewrite", it.File("usr/bin/python3", 0o755, elf)),
		},
		xattr: map[string]string{"/usr/bin/python3": ""},
	}, {
		name: "a hardlink's header sets capabilities on the shared file",
		steps: []it.LayerStep{it.Step("setcap", it.Dir("usr/bin", 0o755), it.File("usr/bin/python3", 0o755, elf),
			it.Xattr(it.HardlinkMode("usr/bin/py", "usr/bin/python3", 0o755), "security.capability", caps))},
		xattr: map[string]string{"/usr/bin/python3": caps, "/usr/bin/py": caps},
	}, {
		name: "a hardlink without capabilities clears them (chown)",
		steps: []it.LayerStep{it.Step("setcap", it.Dir("usr/bin", 0o755), it.Xattr(it.File("usr/bin/python3", 0o755, elf), "security.capability", caps),
			it.HardlinkMode("usr/bin/py", "usr/bin/python3", 0o755))},
		xattr: map[string]string{"/usr/bin/python3": "", "/usr/bin/py": ""},
	}, {
		name:  "trusted attributes are never restored",
		steps: []it.LayerStep{base, it.Step("evil", it.Xattr(it.Dir("d", 0o755), "trusted.overlay.opaque", "y"))},
		want:  []string{"/d/tool file urwxr-xr-x 0"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := scan(t, nil, tc.steps...)
			for _, w := range tc.want {
				p := w[:strings.IndexByte(w, ' ')]
				n, err := f.Lstat(p)
				if err != nil {
					t.Errorf("%s: %v; tree:\n%s", p, err, strings.Join(tree(f), "\n"))
					continue
				}
				if got := fmt.Sprintf("%s %s %s %d", n.Path, n.Type, n.Mode, n.UID); got != w {
					t.Errorf("got %q, want %q", got, w)
				}
			}
			for _, p := range tc.absent {
				if _, err := f.Lstat(p); err == nil {
					t.Errorf("%s exists, want it gone", p)
				}
			}
			for p, want := range tc.xattr {
				n, err := f.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got := n.Xattrs["security.capability"]; got != want {
					t.Errorf("%s security.capability = %q, want %q", p, got, want)
				}
			}
			if n, err := f.Lstat("/d"); err == nil && n.Xattrs["trusted.overlay.opaque"] != "" {
				t.Errorf("/d kept a trusted attribute")
			}
		})
	}
}
