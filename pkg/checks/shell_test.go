package checks

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestShell(t *testing.T) {
	tests := []struct {
		name  string
		cfg   v1.Config
		steps []it.LayerStep
		want  []string
	}{{
		name: "usrmerge: one finding per real file, paths through /bin -> usr/bin as aliases",
		steps: []it.LayerStep{it.Step("FROM debian", items(usrmerge(), []it.Item{
			it.File("usr/bin/dash", 0o755, elf), it.Symlink("usr/bin/sh", "dash"),
			it.File("usr/bin/bash", 0o755, elf), it.Symlink("usr/bin/rbash", "bash"),
		})...)},
		want: []string{
			"/usr/bin/bash bash,rbash aliases=/bin/bash,/bin/rbash,/usr/bin/rbash L0",
			"/usr/bin/dash dash,sh aliases=/bin/dash,/bin/sh,/usr/bin/sh L0",
		},
	}, {
		name:  "busybox hardlinks: the binary once, shell applets as aliases, other applets not",
		steps: []it.LayerStep{busyboxLayer("sh", "ash", "wget", "chmod")},
		want:  []string{"/bin/busybox ash,busybox,sh aliases=/bin/ash,/bin/sh L0"},
	}, {
		name: "busybox is a shell under any name: sh and busybox deleted, wget hardlink left",
		steps: []it.LayerStep{
			busyboxLayer("sh", "wget"),
			it.Step("RUN rm /bin/sh /bin/busybox", it.Whiteout("bin/sh"), it.Whiteout("bin/busybox")),
		},
		want: []string{"/bin/wget busybox L0"},
	}, {
		name: "busybox applet symlinks to a binary outside PATH",
		steps: []it.LayerStep{it.Step("COPY busybox",
			it.File("opt/bb/busybox", 0o755, static), it.Dir("usr/bin", 0o755), it.Symlink("usr/bin/sh", "/opt/bb/busybox"),
		)},
		want: []string{"/opt/bb/busybox sh aliases=/usr/bin/sh L0"},
	}, {
		name: "tool added by a later layer is attributed to it",
		steps: []it.LayerStep{
			it.Step("FROM scratch", it.File("app", 0o755, static)),
			it.Step("RUN apk add zsh", it.Dir("usr/bin", 0o755), it.File("usr/bin/zsh", 0o755, elf)),
		},
		want: []string{"/usr/bin/zsh zsh L1"},
	}, {
		name: "opaque directory hides the shells of lower layers",
		steps: []it.LayerStep{
			it.Step("FROM debian", it.Dir("usr/local/bin", 0o755), it.File("usr/local/bin/bash", 0o755, elf), it.File("usr/local/bin/fish", 0o755, elf)),
			it.Step("RUN rm -rf /usr/local/bin && mkdir /usr/local/bin", it.Dir("usr/local/bin", 0o755), it.Opaque("usr/local/bin"), it.File("usr/local/bin/app", 0o755, static)),
		},
	}, {
		name: "whiteout removes a shell and its link dangles",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("bin", 0o755), it.File("bin/dash", 0o755, elf), it.Symlink("bin/sh", "dash")),
			it.Step("RUN rm /bin/dash", it.Whiteout("bin/dash")),
		},
	}, {
		name: "named like a shell but not a tool: docs, non-executable, directory, outside PATH, dangling, loop",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("usr/share/doc/bash", 0o755), it.Text("usr/share/doc/bash/bash", "docs"),
			it.Dir("usr/bin", 0o755), it.File("usr/bin/zsh", 0o644, elf),
			it.Dir("usr/bin/fish", 0o755),
			it.Dir("etc/cron.daily", 0o755), it.File("etc/cron.daily/sh", 0o755, it.Script("/bin/sh", "true")),
			it.Symlink("usr/bin/ksh", "/nowhere/ksh"),
			it.Symlink("usr/bin/csh", "tcsh"), it.Symlink("usr/bin/tcsh", "csh"),
			it.Symlink("usr/local/bin", "/usr/local/bin"),
		)},
	}, {
		name: "the image's own PATH is searched",
		cfg:  v1.Config{Env: []string{"PATH=/opt/tools/bin:/usr/bin"}},
		steps: []it.LayerStep{it.Step("COPY tools",
			it.Dir("opt/tools/bin", 0o755), it.File("opt/tools/bin/bash", 0o755, elf),
		)},
		want: []string{"/opt/tools/bin/bash bash L0"},
	}, {
		name: "a directory outside PATH is not searched",
		steps: []it.LayerStep{it.Step("COPY tools",
			it.Dir("opt/tools/bin", 0o755), it.File("opt/tools/bin/bash", 0o755, elf),
		)},
	}, {
		name: "hardlinked shells in two PATH directories",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("bin", 0o755), it.Dir("usr/bin", 0o755), it.File("bin/bash", 0o755, elf), it.Hardlink("usr/bin/bash", "bin/bash"),
		)},
		want: []string{"/bin/bash bash aliases=/usr/bin/bash L0"},
	}, {
		name:  "versioned names",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755), it.File("bin/ksh93", 0o755, elf), it.File("bin/zsh-5.9", 0o755, elf))},
		want:  []string{"/bin/ksh93 ksh93 L0", "/bin/zsh-5.9 zsh-5.9 L0"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, Shell(), build(t, tc.cfg, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}

// TestBusyboxCanonicalName: the busybox image links every applet to the
// first one in tar order ("/bin/["); the finding still names /bin/busybox.
func TestBusyboxCanonicalName(t *testing.T) {
	img := build(t, zeroConfig, it.Step("ADD busybox.tar.xz /", it.Dir("bin", 0o755),
		it.File("bin/[", 0o755, static), it.Hardlink("bin/[[", "bin/["), it.Hardlink("bin/busybox", "bin/["),
		it.Hardlink("bin/sh", "bin/["), it.Hardlink("bin/wget", "bin/["),
	))
	if d := cmp.Diff([]string{"/bin/busybox busybox,sh aliases=/bin/sh L0"}, run(t, Shell(), img)); d != "" {
		t.Errorf("shell (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"/bin/busybox wget aliases=/bin/wget L0"}, run(t, NetworkTool(), img)); d != "" {
		t.Errorf("network (-want +got):\n%s", d)
	}
}

// TestStubsAreNoTools: a tool name resolving to nologin, false or true (ln
// -sf /usr/sbin/nologin /bin/sh) is no tool in any category; busybox and a
// real shell renamed nologin still are.
func TestStubsAreNoTools(t *testing.T) {
	stub := it.ELF("/lib64/ld-linux-x86-64.so.2", 14<<10) // a 15 KB nologin
	big := it.ELF("/lib64/ld-linux-x86-64.so.2", 1<<20)   // bash-sized
	base := func(extra ...it.Item) []it.LayerStep {
		return []it.LayerStep{
			it.Step("FROM debian", items(usrmerge(), []it.Item{
				it.File("usr/sbin/nologin", 0o755, stub), it.File("usr/bin/true", 0o755, stub), it.File("usr/bin/false", 0o755, stub),
				it.File("usr/bin/bash", 0o755, elf), it.File("usr/bin/chmod", 0o755, elf),
			})...),
			it.Step("RUN harden", extra...),
		}
	}
	cats := []Check{Shell(), PackageManager(), NetworkTool(), PermissionTool(), PrivilegeTool(), DebugTool(), BuildTool()}
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string // "ID row"
	}{{
		name: "ln -sf nologin, false, true over tools of every category",
		steps: base(
			it.Symlink("usr/bin/sh", "/usr/sbin/nologin"), it.Symlink("usr/bin/dash", "../sbin/nologin"),
			it.Symlink("usr/bin/apt-get", "/bin/false"), it.Symlink("usr/bin/curl", "true"), it.Symlink("usr/bin/chown", "/usr/bin/true"),
			it.Symlink("usr/bin/su", "/usr/sbin/nologin"), it.Symlink("usr/bin/strace", "false"), it.Symlink("usr/bin/gcc", "true"),
		),
		want: []string{"IA-PERMISSION-TOOL /usr/bin/chmod chmod aliases=/bin/chmod L0", "IA-SHELL /usr/bin/bash bash aliases=/bin/bash L0"},
	}, {
		name: "a symlink chain through /etc/alternatives",
		steps: base(it.Dir("etc/alternatives", 0o755), it.Symlink("etc/alternatives/sh", "/usr/sbin/nologin"),
			it.Symlink("usr/bin/sh", "/etc/alternatives/sh")),
		want: []string{"IA-PERMISSION-TOOL /usr/bin/chmod chmod aliases=/bin/chmod L0", "IA-SHELL /usr/bin/bash bash aliases=/bin/bash L0"},
	}, {
		name:  "a hardlink written to nologin",
		steps: base(it.Hardlink("usr/bin/zsh", "usr/sbin/nologin")),
		want:  []string{"IA-PERMISSION-TOOL /usr/bin/chmod chmod aliases=/bin/chmod L0", "IA-SHELL /usr/bin/bash bash aliases=/bin/bash L0"},
	}, {
		name:  "a hardlink written the other way: /bin/ksh resolves to itself (fail closed)",
		steps: base(it.File("usr/bin/ksh", 0o755, stub), it.Hardlink("usr/bin/nologin2", "usr/bin/ksh")),
		want: []string{"IA-PERMISSION-TOOL /usr/bin/chmod chmod aliases=/bin/chmod L0", "IA-SHELL /usr/bin/bash bash aliases=/bin/bash L0",
			"IA-SHELL /usr/bin/ksh ksh aliases=/bin/ksh L1"},
	}, {
		name: "a real shell renamed nologin is still a shell",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755), it.Dir("sbin", 0o755),
			it.File("sbin/nologin", 0o755, big), it.Symlink("bin/sh", "/sbin/nologin"))},
		want: []string{"IA-SHELL /sbin/nologin sh aliases=/bin/sh L0"},
	}, {
		name: "a script named nologin is not known to be a stub",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755), it.Dir("sbin", 0o755),
			it.File("sbin/nologin", 0o755, it.Script("/opt/bash", "exec /opt/bash")), it.Symlink("bin/sh", "/sbin/nologin"))},
		want: []string{"IA-SHELL /sbin/nologin sh aliases=/bin/sh L0"},
	}, {
		name: "sh -> true -> busybox is a shell",
		steps: []it.LayerStep{it.Step("FROM busybox", it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, stub),
			it.Symlink("bin/true", "busybox"), it.Symlink("bin/sh", "true"), it.Symlink("bin/wget", "/bin/false"), it.Symlink("bin/false", "busybox"))},
		want: []string{"IA-NETWORK-TOOL /bin/busybox wget aliases=/bin/wget L0", "IA-SHELL /bin/busybox busybox,sh aliases=/bin/sh L0"},
	}, {
		name:  "sh -> true, a hardlink of busybox, is a shell",
		steps: []it.LayerStep{busyboxLayer("true"), it.Step("RUN ln -sf true /bin/sh", it.Symlink("bin/sh", "true"))},
		want:  []string{"IA-SHELL /bin/busybox busybox,sh aliases=/bin/sh L0"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := build(t, zeroConfig, tc.steps...)
			var got []string
			for _, c := range cats {
				for _, r := range run(t, c, img) {
					got = append(got, c.Meta().ID+" "+r)
				}
			}
			slices.Sort(got)
			slices.Sort(tc.want)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
	// The only shell and package manager are stubs: the image is
	// distroless.
	img := build(t, zeroConfig, it.Step("FROM", it.Dir("bin", 0o755), it.Dir("sbin", 0o755),
		it.File("sbin/nologin", 0o755, stub), it.Symlink("bin/sh", "/sbin/nologin"), it.Symlink("bin/apk", "/sbin/nologin")))
	if b := ClassifyBase(img); !b.Distroless {
		t.Errorf("ClassifyBase = %+v, want distroless", b)
	}
}
