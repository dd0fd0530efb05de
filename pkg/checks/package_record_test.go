package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

const dpkgStatusBody = `Package: wget
Status: install ok installed
Version: 1.21.3-1
Architecture: amd64
Description: retrieves files from the web
 continuation line: Status: deinstall

Package: curl
Status: install ok installed
Version: 7.88.1-10

Package: telnet
Status: deinstall ok config-files
Version: 0.17

Package: openssh-client
Status: install ok installed
Version: 1:9.2p1-2

Package: libc6
Status: install ok installed
Version: 2.36-9
`

func dpkgDB(body string) []it.Item {
	return []it.Item{it.Dir("var/lib/dpkg/info", 0o755), it.Text("var/lib/dpkg/status", body)}
}

func TestPackageRecord(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "dpkg lists wget but a later layer deleted it; openssh-client's commands were never there",
		steps: []it.LayerStep{
			it.Step("FROM debian", items(dpkgDB(dpkgStatusBody), []it.Item{
				it.Dir("usr/bin", 0o755), it.File("usr/bin/wget", 0o755, elf), it.File("usr/bin/curl", 0o755, elf),
			})...),
			it.Step("RUN rm /usr/bin/wget", it.Whiteout("usr/bin/wget")),
		},
		want: []string{
			"/usr/bin/wget wget L0 deleted",
			"/var/lib/dpkg/status openssh-client L0",
		},
	}, {
		name: "file lists under usrmerge: missing and present binaries",
		steps: []it.LayerStep{
			it.Step("FROM debian", items(usrmerge(), dpkgDB("Package: netcat-openbsd\nStatus: install ok installed\nVersion: 1.219\nArchitecture: amd64\n\nPackage: bash\nStatus: install ok installed\n"), []it.Item{
				it.Text("var/lib/dpkg/info/netcat-openbsd.list", "/.\n/bin\n/bin/nc.openbsd\n/usr/share/doc/netcat-openbsd\n"),
				it.Text("var/lib/dpkg/info/bash.list", "/.\n/bin/bash\n/usr/bin/bashbug\n"),
				it.File("usr/bin/bash", 0o755, elf),
			})...),
		},
		want: []string{"/usr/bin/nc.openbsd netcat-openbsd L0"},
	}, {
		name: "multiarch list name, deleted by an opaque directory",
		steps: []it.LayerStep{
			it.Step("FROM", items(dpkgDB("Package: strace\nStatus: install ok installed\nArchitecture: amd64\n"), []it.Item{
				it.Text("var/lib/dpkg/info/strace:amd64.list", "/usr/bin/strace\n"),
				it.Dir("usr/bin", 0o755), it.File("usr/bin/strace", 0o755, elf),
			})...),
			it.Step("RUN rm -rf /usr/bin && mkdir /usr/bin", it.Dir("usr/bin", 0o755), it.Opaque("usr/bin"), it.File("usr/bin/app", 0o755, static)),
		},
		want: []string{"/usr/bin/strace strace L0 deleted"},
	}, {
		name: "apk file list",
		steps: []it.LayerStep{it.Step("FROM alpine",
			it.Dir("lib/apk/db", 0o755), it.Text("lib/apk/db/installed", "P:curl\nV:8.5.0-r0\nF:usr/bin\nR:curl\n\nP:busybox\nV:1.36\nF:bin\nR:busybox\nF:etc\nR:securetty\n\n"),
			it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, static),
		)},
		want: []string{"/usr/bin/curl curl L0"},
	}, {
		name: "distroless status.d with md5sums",
		steps: []it.LayerStep{it.Step("FROM distroless",
			it.Dir("var/lib/dpkg/status.d", 0o755),
			it.Text("var/lib/dpkg/status.d/dash", "Package: dash\nVersion: 0.5.12\n"),
			it.Text("var/lib/dpkg/status.d/dash.md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/bin/dash\n"),
			it.Text("var/lib/dpkg/status.d/tzdata", "Package: tzdata\nVersion: 2024a\n"),
		)},
		want: []string{"/usr/bin/dash dash L0"},
	}, {
		name: "apk record without a file list falls back to the package name",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("lib/apk/db", 0o755), it.Text("lib/apk/db/installed", "P:wget\nV:1.24\n\nP:telnetd\nV:1\n"),
				it.Dir("usr/bin", 0o755), it.File("usr/bin/wget", 0o755, elf)),
			it.Step("RUN rm /usr/bin/wget", it.Whiteout("usr/bin/wget")),
		},
		want: []string{"/usr/bin/wget wget L0 deleted"},
	}, {
		name: "everything recorded is present",
		steps: []it.LayerStep{it.Step("FROM", items(dpkgDB("Package: wget\nStatus: install ok installed\n\nPackage: iputils-ping\nStatus: install ok installed\n"), []it.Item{
			it.Dir("usr/bin", 0o755), it.File("usr/bin/wget", 0o755, elf), it.Dir("bin", 0o755), it.File("bin/ping", 0o755, elf),
		})...)},
	}, {
		name:  "a deinstalled package and a non-tool package",
		steps: []it.LayerStep{it.Step("FROM", dpkgDB("Package: telnet\nStatus: deinstall ok config-files\n\nPackage: tzdata\nStatus: install ok installed\n")...)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, PackageRecord(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
