package checks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func osRelease(body string) []it.Item {
	return []it.Item{it.Text("usr/lib/os-release", body), it.Symlink("etc/os-release", "../usr/lib/os-release")}
}

func TestClassifyBase(t *testing.T) {
	dash := []it.Item{it.Dir("bin", 0o755), it.File("bin/dash", 0o755, elf), it.Symlink("bin/sh", "dash")}
	apt := []it.Item{it.Dir("usr/bin", 0o755), it.File("usr/bin/apt-get", 0o755, elf)}
	tests := []struct {
		name  string
		cfg   v1.Config
		items []it.Item
		want  Base
	}{{
		name:  "google distroless static",
		items: items(osRelease("PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\n"), []it.Item{it.Dir("var/lib/dpkg/status.d", 0o755), it.Text("var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12.4\n")}),
		want:  Base{Kind: "distroless", Distroless: true, OSRelease: OSRelease{ID: "debian", Name: "Debian GNU/Linux", PrettyName: "Distroless", VersionID: "12", Path: "/usr/lib/os-release"}},
	}, {
		name:  "google distroless debug: busybox on its PATH",
		cfg:   v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox"}},
		items: items(osRelease("PRETTY_NAME=\"Distroless\"\nID=debian\n"), []it.Item{it.Dir("busybox", 0o755), it.File("busybox/busybox", 0o755, static), it.Symlink("busybox/sh", "/busybox/busybox")}),
		want:  Base{Kind: "distroless", OSRelease: OSRelease{ID: "debian", PrettyName: "Distroless", Path: "/usr/lib/os-release"}},
	}, {
		name:  "distroless by status.d alone",
		items: []it.Item{it.Dir("var/lib/dpkg/status.d", 0o755), it.Text("var/lib/dpkg/status.d/libc6", "Package: libc6\n")},
		want:  Base{Kind: "distroless", Distroless: true},
	}, {
		name:  "wolfi",
		items: osRelease("ID=wolfi\nNAME=\"Wolfi\"\nPRETTY_NAME=\"Wolfi\"\nVERSION_ID=\"20230201\"\n"),
		want:  Base{Kind: "wolfi", Distroless: true, OSRelease: OSRelease{ID: "wolfi", Name: "Wolfi", PrettyName: "Wolfi", VersionID: "20230201", Path: "/usr/lib/os-release"}},
	}, {
		name:  "chainguard with a shell",
		items: items(osRelease("ID=chainguard\nNAME=\"Chainguard\"\n"), dash),
		want:  Base{Kind: "chainguard", OSRelease: OSRelease{ID: "chainguard", Name: "Chainguard", Path: "/usr/lib/os-release"}},
	}, {
		name:  "scratch with a static binary",
		items: []it.Item{it.File("app", 0o755, static), it.Dir("etc", 0o755), it.Text("etc/passwd", "nonroot:x:65532:65532::/:/nope\n")},
		want:  Base{Kind: "scratch", Distroless: true},
	}, {
		name:  "scratch with a static shell copied in",
		items: []it.Item{it.Dir("bin", 0o755), it.File("bin/bash", 0o755, static)},
		want:  Base{Kind: "scratch"},
	}, {
		name:  "busybox image",
		items: busyboxLayer("sh", "ls").Items,
		want:  Base{Kind: "busybox"},
	}, {
		name:  "alpine",
		items: items(osRelease("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"), busyboxLayer("sh").Items),
		want:  Base{Kind: "alpine", OSRelease: OSRelease{ID: "alpine", Name: "Alpine Linux", PrettyName: "Alpine Linux v3.20", VersionID: "3.20.0", Path: "/usr/lib/os-release"}},
	}, {
		name:  "alpine without os-release, by its apk database",
		items: []it.Item{it.Dir("lib/apk/db", 0o755), it.Text("lib/apk/db/installed", "P:musl\nV:1.2\n")},
		want:  Base{Kind: "alpine", Distroless: true},
	}, {
		name:  "debian",
		items: items(osRelease("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"), dash, apt),
		want:  Base{Kind: "debian", OSRelease: OSRelease{ID: "debian", PrettyName: "Debian GNU/Linux 12 (bookworm)", VersionID: "12", VersionCodename: "bookworm", Path: "/usr/lib/os-release"}},
	}, {
		name:  "debian with shell and apt removed is distroless in effect",
		items: osRelease("ID=debian\n"),
		want:  Base{Kind: "debian", Distroless: true, OSRelease: OSRelease{ID: "debian", Path: "/usr/lib/os-release"}},
	}, {
		name:  "ubuntu",
		items: items(osRelease("ID=ubuntu\nID_LIKE=debian\n"), dash),
		want:  Base{Kind: "ubuntu", OSRelease: OSRelease{ID: "ubuntu", IDLike: "debian", Path: "/usr/lib/os-release"}},
	}, {
		name:  "UBI (RHEL)",
		items: items(osRelease("ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n"), dash),
		want:  Base{Kind: "rhel", OSRelease: OSRelease{ID: "rhel", IDLike: "fedora", VersionID: "9.4", Path: "/usr/lib/os-release"}},
	}, {
		name:  "oracle linux and amazon linux IDs",
		items: osRelease("ID=\"ol\"\n"),
		want:  Base{Kind: "oraclelinux", Distroless: true, OSRelease: OSRelease{ID: "ol", Path: "/usr/lib/os-release"}},
	}, {
		name:  "rpm database without os-release",
		items: []it.Item{it.Dir("var/lib/rpm", 0o755), it.Text("var/lib/rpm/rpmdb.sqlite", "SQLite format 3")},
		want:  Base{Kind: "rhel", Distroless: true},
	}, {
		name:  "hostile os-release ID",
		items: osRelease("ID=\"../../etc\"\n"),
		want:  Base{Kind: "unknown", Distroless: true, OSRelease: OSRelease{ID: "../../etc", Path: "/usr/lib/os-release"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ClassifyBase(build(t, tc.cfg, it.Step("FROM", tc.items...)))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ClassifyBase (-want +got):\n%s", d)
			}
		})
	}
}

func TestRecommendBase(t *testing.T) {
	debian := items(osRelease("ID=debian\n"), []it.Item{it.Dir("bin", 0o755), it.File("bin/dash", 0o755, elf), it.Symlink("bin/sh", "dash")})
	tests := []struct {
		name  string
		cfg   v1.Config
		items []it.Item
		want  string
	}{{
		name:  "static Go binary as entrypoint",
		cfg:   v1.Config{Entrypoint: []string{"/app/server"}},
		items: []it.Item{it.File("app/server", 0o755, static)},
		want:  "scratch or gcr.io/distroless/static-debian12",
	}, {
		name:  "dynamic binary behind tini",
		cfg:   v1.Config{Entrypoint: []string{"/usr/bin/tini", "--"}, Cmd: []string{"server"}},
		items: []it.Item{it.Dir("usr/local/bin", 0o755), it.File("usr/local/bin/server", 0o755, elf)},
		want:  "gcr.io/distroless/base-debian12",
	}, {
		name:  "musl binary",
		cfg:   v1.Config{Cmd: []string{"./svc"}, WorkingDir: "/srv"},
		items: []it.Item{it.Dir("srv", 0o755), it.File("srv/svc", 0o755, it.ELF("/lib/ld-musl-x86_64.so.1", 8))},
		want:  "link it statically",
	}, {
		name:  "python script through sh -c",
		cfg:   v1.Config{Cmd: []string{"/bin/sh", "-c", "/app/main.py --port 80"}},
		items: []it.Item{it.File("app/main.py", 0o755, it.Script("/usr/bin/env python3", "print()"))},
		want:  "gcr.io/distroless/python3-debian12",
	}, {
		name:  "node found on PATH",
		cfg:   v1.Config{Env: []string{"NODE_VERSION=20.11.1"}, Cmd: []string{"docker-entrypoint.sh"}},
		items: []it.Item{it.Dir("usr/local/bin", 0o755), it.File("usr/local/bin/node", 0o755, elf)},
		want:  "gcr.io/distroless/nodejs20-debian12",
	}, {
		name:  "java with its version",
		cfg:   v1.Config{Env: []string{"JAVA_VERSION=jdk-17.0.10+7"}, Entrypoint: []string{"java", "-jar", "/app.jar"}},
		items: []it.Item{it.Dir("usr/bin", 0o755), it.File("usr/bin/java", 0o755, elf)},
		want:  "gcr.io/distroless/java17-debian12",
	}, {
		name: "nothing known",
		want: "gcr.io/distroless/static-debian12 if it is statically linked",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := build(t, tc.cfg, it.Step("FROM", items(debian, tc.items)...))
			if got := recommendBase(img, ClassifyBase(img)); !strings.Contains(got, tc.want) {
				t.Errorf("recommendBase = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	got := parseOSRelease([]byte("# comment\nNAME='Single Quoted'\nPRETTY_NAME=\"Escaped \\\"quote\\\"\"\nID=Debian\nbad line\n"))
	want := OSRelease{ID: "debian", Name: "Single Quoted", PrettyName: `Escaped "quote"`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseOSRelease (-want +got):\n%s", d)
	}
}
