package runtimediff_test

import (
	"fmt"
	"testing"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	rd "github.com/imgaudit/imgaudit/internal/runtimediff"
)

// fact is what a runtime ships at a path: File.String(), "" for nothing.
type fact struct {
	rt   string // "native", "overlay" or "both"
	path string
	file string
}

type crafted struct {
	name   string
	layers [][]it.Item
	// runtime is what containerd does, asserted before the audit is
	// compared with it.
	runtime []fact
	// refuses lists the runtimes whose applier fails on the stack.
	refuses []rd.Runtime
	// strict also fails on paths the audit ships and no runtime does.
	strict bool
}

const capValue = it.CapSetuidDacOverride

func xattr(name, v string) string { return fmt.Sprintf(" xattr[%s=%q]", name, v) }

func base() []it.Item {
	return []it.Item{
		it.Dir("bin", 0o755), it.File("bin/sh", 0o4755, []byte("sh")),
		it.Dir("usr/bin", 0o755), it.File("usr/bin/curl", 0o755, []byte("curl")),
	}
}

func lowerSymlink() []it.Item {
	return []it.Item{
		it.Dir("usr/bin", 0o755), it.File("usr/bin/helper", 0o4755, []byte("helper")),
		it.Symlink("x", "/usr/bin"),
	}
}

func python(items ...it.Item) []it.Item {
	return append([]it.Item{it.Dir("usr/bin", 0o755)}, items...)
}

// The crafted stacks of issue 14, items 1, 2, 3 and 5, and a few of their
// neighbours: what containerd ships, then the audit against it.
func craftedCases() []crafted {
	return []crafted{
		// Item 1: '\' is an ordinary byte to Linux runtimes.
		{
			name:   "backslash_whiteouts",
			layers: [][]it.Item{base(), {it.File(`bin\.wh.sh`, 0o644, nil), it.File(`usr\bin\.wh.curl`, 0o644, nil)}},
			runtime: []fact{
				{"both", "/bin/sh", "file 04755 0:0"},
				{"both", "/usr/bin/curl", "file 0755 0:0"},
				{"both", `/bin\.wh.sh`, "file 0644 0:0"},
				{"both", `/usr\bin\.wh.curl`, "file 0644 0:0"},
			},
			strict: true,
		},
		{
			name:   "backslash_opaque",
			layers: [][]it.Item{base(), {it.File(`\.wh..wh..opq`, 0o644, nil)}},
			runtime: []fact{
				{"both", "/bin/sh", "file 04755 0:0"},
				{"both", "/usr/bin/curl", "file 0755 0:0"},
				{"both", `/\.wh..wh..opq`, "file 0644 0:0"},
			},
			strict: true,
		},
		// Item 2: whiteouts and opaque markers meet lower-layer symlinks.
		{
			name:   "symlink_dir_then_whiteout",
			layers: [][]it.Item{lowerSymlink(), {it.Dir("x/", 0o755), it.Whiteout("x/helper")}},
			runtime: []fact{
				{"both", "/usr/bin/helper", "file 04755 0:0"},
				{"both", "/x", "dir 0755 0:0"},
			},
			strict: true,
		},
		{
			name:   "symlink_whiteout_then_dir",
			layers: [][]it.Item{lowerSymlink(), {it.Whiteout("x/helper"), it.Dir("x/", 0o755)}},
			runtime: []fact{
				{"native", "/usr/bin/helper", ""},
				{"overlay", "/usr/bin/helper", "file 04755 0:0"},
				{"both", "/x", "dir 0755 0:0"},
			},
		},
		{
			name:   "symlink_whiteout_alone",
			layers: [][]it.Item{lowerSymlink(), {it.Whiteout("x/helper")}},
			runtime: []fact{
				{"native", "/usr/bin/helper", ""},
				{"native", "/x", "symlink 0:0 -> /usr/bin"},
				{"overlay", "/usr/bin/helper", "file 04755 0:0"},
				{"overlay", "/x", "dir 0755 0:0"},
			},
		},
		{
			name:   "symlink_opaque",
			layers: [][]it.Item{lowerSymlink(), {it.Opaque("x")}},
			runtime: []fact{
				{"native", "/usr/bin/helper", ""},
				{"native", "/x", "symlink 0:0 -> /usr/bin"},
				{"overlay", "/usr/bin/helper", "file 04755 0:0"},
				{"overlay", "/x", "dir 0755 0:0"},
			},
		},
		{
			name: "dir_whiteout_recreated_same_layer",
			layers: [][]it.Item{
				{it.Dir("opt/tool", 0o755), it.File("opt/tool/su", 0o4755, []byte("su"))},
				{it.Whiteout("opt/tool"), it.Dir("opt/tool/", 0o755), it.File("opt/tool/new", 0o644, nil)},
			},
			runtime: []fact{
				{"native", "/opt/tool/su", ""},
				{"overlay", "/opt/tool/su", "file 04755 0:0"},
				{"both", "/opt/tool/new", "file 0644 0:0"},
			},
		},
		{
			name:   "opaque_at_root",
			layers: [][]it.Item{base(), {it.File(".wh..wh..opq", 0o644, nil), it.File("etc/motd", 0o644, nil)}},
			runtime: []fact{
				{"native", "/bin/sh", ""},
				{"overlay", "/bin/sh", "file 04755 0:0"},
				{"overlay", "/usr/bin/curl", "file 0755 0:0"},
				{"both", "/etc/motd", "file 0644 0:0"},
			},
		},
		{
			// A lower symlink written through by a later layer: native
			// follows it; overlay resolves symlinks inside the layer being
			// applied only, so the later layer gets a real directory that
			// shadows the symlink in the merged view.
			name: "overlay_shadows_lower_symlink",
			layers: [][]it.Item{
				{it.Dir("usr/bin", 0o755), it.Symlink("bin", "usr/bin")},
				{it.File("bin/tool", 0o4755, []byte("t"))},
			},
			runtime: []fact{
				{"native", "/bin", "symlink 0:0 -> usr/bin"},
				{"native", "/usr/bin/tool", "file 04755 0:0"},
				{"native", "/bin/tool", ""},
				{"overlay", "/bin", "dir 0755 0:0"},
				{"overlay", "/bin/tool", "file 04755 0:0"},
				{"overlay", "/usr/bin/tool", ""},
			},
		},
		{
			// An entry below a symlink to nothing: containerd follows the
			// link and creates the missing directories where it points.
			name:   "entry_below_dangling_symlink",
			layers: [][]it.Item{{it.Symlink("bin", "usr/bin"), it.File("bin/sh", 0o4755, []byte("sh"))}},
			runtime: []fact{
				{"both", "/bin", "symlink 0:0 -> usr/bin"},
				{"both", "/usr/bin", "dir 0755 0:0"},
				{"both", "/usr/bin/sh", "file 04755 0:0"},
			},
			strict: true,
		},
		{
			// Whiteouts apply in tar order: a symlink deleted later in its
			// own layer does not redirect the entries after it.
			name: "whiteout_after_symlink_same_layer",
			layers: [][]it.Item{{
				it.Dir("etc", 0o755), it.Symlink("app", "/etc"), it.Whiteout("app"),
				it.File("app/tool", 0o4755, []byte("t")),
			}},
			runtime: []fact{
				{"both", "/app", "dir 0755 0:0"},
				{"both", "/app/tool", "file 04755 0:0"},
				{"both", "/etc/tool", ""},
			},
			strict: true,
		},
		{
			// A whiteout's parent directories are created (mkparent), even
			// when there is nothing to delete.
			name:    "whiteout_creates_parents",
			layers:  [][]it.Item{{it.Whiteout("opt/x")}},
			runtime: []fact{{"both", "/opt", "dir 0755 0:0"}},
			strict:  true,
		},
		// Item 3: a hardlink's own header mode and owner go to the inode.
		{
			name: "hardlink_header_mode_setuid",
			layers: [][]it.Item{{
				it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, []byte("bb")),
				it.Mode(it.Hardlink("bin/sh", "bin/busybox"), 0o4755),
			}},
			runtime: []fact{
				{"both", "/bin/busybox", "file 04755 0:0 links[/bin/busybox /bin/sh]"},
				{"both", "/bin/sh", "file 04755 0:0 links[/bin/busybox /bin/sh]"},
			},
			strict: true,
		},
		{
			name: "hardlink_header_mode_drops_setuid",
			layers: [][]it.Item{{
				it.Dir("bin", 0o755), it.File("bin/su", 0o4755, []byte("su")),
				it.Mode(it.Hardlink("bin/su2", "bin/su"), 0o755),
			}},
			runtime: []fact{
				{"both", "/bin/su", "file 0755 0:0 links[/bin/su /bin/su2]"},
			},
			strict: true,
		},
		{
			name: "hardlink_owner",
			layers: [][]it.Item{{
				it.Dir("bin", 0o755), it.Owned(it.File("bin/tool", 0o755, []byte("t")), 1000, 1000),
				it.Mode(it.Hardlink("bin/tool2", "bin/tool"), 0o4755),
			}},
			runtime: []fact{
				{"both", "/bin/tool", "file 04755 0:0 links[/bin/tool /bin/tool2]"},
			},
			strict: true,
		},
		{
			// The overlay applier links inside the layer's own directory:
			// a hardlink to a lower layer's file is refused there.
			name: "hardlink_header_mode_across_layers",
			layers: [][]it.Item{
				{it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, []byte("bb"))},
				{it.Mode(it.Hardlink("bin/sh", "bin/busybox"), 0o4755)},
			},
			runtime: []fact{
				{"native", "/bin/sh", "file 04755 0:0 links[/bin/busybox /bin/sh]"},
			},
			refuses: []rd.Runtime{rd.Overlay},
			strict:  true,
		},
		// Item 5: file capabilities, and later layers replacing them.
		{
			name:   "capability_set",
			layers: [][]it.Item{python(it.Xattr(it.File("usr/bin/python3", 0o755, []byte("py")), "security.capability", capValue))},
			runtime: []fact{
				{"both", "/usr/bin/python3", "file 0755 0:0" + xattr("security.capability", capValue)},
			},
			strict: true,
		},
		{
			name: "capability_cleared_by_rewrite",
			layers: [][]it.Item{
				python(it.Xattr(it.File("usr/bin/python3", 0o755, []byte("py")), "security.capability", capValue)),
				{it.File("usr/bin/python3", 0o755, []byte("py2"))},
			},
			runtime: []fact{{"both", "/usr/bin/python3", "file 0755 0:0"}},
			strict:  true,
		},
		{
			name: "capability_changed",
			layers: [][]it.Item{
				python(it.Xattr(it.File("usr/bin/python3", 0o755, []byte("py")), "security.capability", capValue)),
				{it.Xattr(it.File("usr/bin/python3", 0o755, []byte("py2")), "security.capability", rd.CapNetRaw)},
			},
			runtime: []fact{{"both", "/usr/bin/python3", "file 0755 0:0" + xattr("security.capability", rd.CapNetRaw)}},
			strict:  true,
		},
		{
			// containerd chowns the hardlink's path after linking it, and a
			// chown drops security.capability from the shared inode.
			name: "capability_hardlink_chown",
			layers: [][]it.Item{python(
				it.Xattr(it.File("usr/bin/python3", 0o755, []byte("py")), "security.capability", capValue),
				it.Hardlink("usr/bin/python", "usr/bin/python3"),
			)},
			runtime: []fact{{"both", "/usr/bin/python3", "file 0755 0:0 links[/usr/bin/python /usr/bin/python3]"}},
			strict:  true,
		},
		{
			// containerd never sets trusted.* attributes from a layer.
			name:    "trusted_xattr_ignored",
			layers:  [][]it.Item{{it.Xattr(it.File("a", 0o644, nil), "trusted.x", "1")}},
			runtime: []fact{{"both", "/a", "file 0644 0:0"}},
			strict:  true,
		},
		{
			// A directory declared again: native merges its attributes with
			// the old ones, overlay has only the upper layer's.
			name: "dir_xattrs_redeclared",
			layers: [][]it.Item{
				{it.Xattr(it.Dir("d", 0o755), "user.a", "1")},
				{it.Xattr(it.Dir("d", 0o700), "user.b", "2")},
			},
			runtime: []fact{
				{"native", "/d", `dir 0700 0:0 xattr[user.a="1" user.b="2"]`},
				{"overlay", "/d", `dir 0700 0:0 xattr[user.b="2"]`},
			},
		},
	}
}

func TestCrafted(t *testing.T) {
	rd.Require(t)
	for _, c := range craftedCases() {
		t.Run(c.name, func(t *testing.T) {
			tars := make([][]byte, len(c.layers))
			for i, l := range c.layers {
				var err error
				if tars[i], err = it.Tar(l...); err != nil {
					t.Fatal(err)
				}
			}
			r := rd.Run(t, tars)
			t.Run("runtime", func(t *testing.T) { assertRuntime(t, c, r) })
			t.Run("audit", func(t *testing.T) {
				if r.AuditErr != nil {
					t.Fatalf("the audit refuses the stack: %v", r.AuditErr)
				}
				if diffs := r.Compare(false); len(diffs) > 0 {
					t.Errorf("audit departs from the runtimes:\n%s", rd.Report(diffs, 20))
				}
			})
			if c.strict {
				t.Run("strict", func(t *testing.T) {
					var extra []rd.Diff
					for _, d := range r.Compare(true) {
						if d.Kind == rd.Extra {
							extra = append(extra, d)
						}
					}
					if len(extra) > 0 {
						t.Errorf("the audit ships paths no runtime ships:\n%s", rd.Report(extra, 20))
					}
				})
			}
		})
	}
}

func assertRuntime(t *testing.T, c crafted, r *rd.Result) {
	refused := map[rd.Runtime]bool{}
	for _, rt := range c.refuses {
		refused[rt] = true
	}
	for _, rt := range rd.All() {
		o := r.Runtimes[rt]
		switch {
		case refused[rt] && o.Err == nil:
			t.Errorf("%s applies the stack, want it refused", rt)
		case !refused[rt] && o.Err != nil:
			t.Errorf("%s refuses the stack: %v", rt, o.Err)
		}
	}
	for _, f := range c.runtime {
		rts := []rd.Runtime{rd.Runtime(f.rt)}
		if f.rt == "both" {
			rts = rd.All()
		}
		for _, rt := range rts {
			o := r.Runtimes[rt]
			if o.Err != nil {
				continue // reported above
			}
			got, ok := o.Tree[f.path]
			switch {
			case f.file == "" && ok:
				t.Errorf("%s ships %s: %s, want nothing", rt, f.path, got)
			case f.file != "" && !ok:
				t.Errorf("%s ships no %s, want %s", rt, f.path, f.file)
			case f.file != "" && got.String() != f.file:
				t.Errorf("%s ships %s: %s, want %s", rt, f.path, got, f.file)
			}
		}
	}
}
