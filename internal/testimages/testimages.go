// Package testimages defines the small example images committed under
// testdata/images (OCI layouts). They are built in code, deterministically,
// by `go generate ./internal/testimages`, and used by the README quick start,
// the golden-file tests and the end-to-end tests.
//
// Each image imitates a real-world case with the smallest contents that keep
// the case true: ELF files are bare headers, package databases list only what
// the image holds.
package testimages

//go:generate go run ./gen -out ../../testdata/images

import (
	"fmt"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// Builders maps each example image's directory name to its builder.
var Builders = map[string]func() (v1.Image, error){
	"demo":       Demo,
	"hardened":   Hardened,
	"busybox":    Busybox,
	"distroless": Distroless,
}

// Names returns the example image names, sorted.
func Names() []string {
	names := make([]string, 0, len(Builders))
	for n := range Builders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

const (
	ldso     = "/lib64/ld-linux-x86-64.so.2"
	debianOS = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`
	debianPasswd = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`
	debianGroup = "root:x:0:\ndaemon:x:1:\nbin:x:2:\nnogroup:x:65534:\n"
)

func bin(path string) it.Item { return it.File(path, 0o755, it.ELF(ldso, 200)) }

// debianPriority is what Debian 12's status file says of the demo's
// packages (read off an mmdebstrap minbase bookworm): Essential packages
// (dpkg will not remove them without --force-remove-essential) and the
// priority of the rest.
var debianPriority = map[string]string{
	"base-files": "Essential: yes\nStatus: install ok installed\nPriority: required",
	"bash":       "Essential: yes\nStatus: install ok installed\nPriority: required",
	"dash":       "Essential: yes\nStatus: install ok installed\nPriority: required",
	"coreutils":  "Essential: yes\nStatus: install ok installed\nPriority: required",
	"login":      "Essential: yes\nStatus: install ok installed\nPriority: required",
	"dpkg":       "Essential: yes\nStatus: install ok installed\nPriority: required",
	"passwd":     "Status: install ok installed\nPriority: required",
	"apt":        "Status: install ok installed\nPriority: important",
	"wget":       "Status: install ok installed\nPriority: standard",
}

func dpkgStatus(pkgs ...[3]string) string {
	s := ""
	for _, p := range pkgs {
		prio, ok := debianPriority[p[0]]
		if !ok {
			prio = "Status: install ok installed\nPriority: optional"
		}
		s += fmt.Sprintf("Package: %s\n%s\nArchitecture: amd64\nVersion: %s\nDescription: %s\n\n", p[0], prio, p[1], p[2])
	}
	return s
}

func dpkgList(paths ...string) string {
	s := "/.\n"
	for _, p := range paths {
		s += p + "\n"
	}
	return s
}

// demoBasePackages are the packages of the demo image's base layer (name,
// version, description); its second layer adds curl and wget.
var demoBasePackages = [][3]string{
	[3]string{"base-files", "12.4+deb12u5", "Debian base system miscellaneous files"},
	[3]string{"bash", "5.2.15-2+b7", "GNU Bourne Again SHell"},
	[3]string{"dash", "0.5.12-2", "POSIX-compliant shell"},
	[3]string{"coreutils", "9.1-1", "GNU core utilities"},
	[3]string{"login", "1:4.13+dfsg1-1+b1", "system login tools"},
	[3]string{"passwd", "1:4.13+dfsg1-1+b1", "change and administer password and group data"},
	[3]string{"dpkg", "1.21.22", "Debian package management system"},
	[3]string{"apt", "2.6.1", "commandline package manager"},
}

// Demo is a Debian-style application image with everything imgaudit exists
// to find: it runs as root, ships a shell, curl, wget, apt and dpkg, chmod and
// chown, a setuid su, a secret in ENV, and a private key that a later layer
// deleted but the lower layer still ships.
func Demo() (v1.Image, error) {
	cfg := v1.Config{
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"DB_PASSWORD=hunter2-not-a-real-one",
			"APP_PORT=8080",
		},
		Cmd:        []string{"/app/server"},
		WorkingDir: "/app",
	}
	return it.Image(cfg,
		it.Step("/bin/sh -c #(nop) ADD file:debian-bookworm-rootfs in / ",
			it.Dir("usr/bin", 0o755), it.Dir("usr/sbin", 0o755), it.Dir("usr/lib", 0o755),
			it.Symlink("bin", "usr/bin"), it.Symlink("sbin", "usr/sbin"), it.Symlink("lib", "usr/lib"),
			it.Dir("etc", 0o755), it.Text("etc/os-release", debianOS),
			it.Text("etc/passwd", debianPasswd), it.Text("etc/group", debianGroup),
			bin("usr/bin/dash"), it.Symlink("usr/bin/sh", "dash"), bin("usr/bin/bash"), it.Symlink("usr/bin/rbash", "bash"),
			bin("usr/bin/chmod"), bin("usr/bin/chown"), bin("usr/bin/chgrp"),
			it.File("usr/bin/su", 0o4755, it.ELF(ldso, 200)), it.File("usr/bin/passwd", 0o4755, it.ELF(ldso, 200)),
			bin("usr/bin/dpkg"), bin("usr/bin/dpkg-query"), bin("usr/bin/apt"), bin("usr/bin/apt-get"), bin("usr/bin/apt-cache"),
			it.Dir("tmp", 0o1777), it.Dir("var/lib/dpkg/info", 0o755),
			it.Text("var/lib/dpkg/status", dpkgStatus(demoBasePackages...)),
			it.Text("var/lib/dpkg/info/bash.list", dpkgList("/bin", "/bin/bash", "/bin/rbash")),
			it.Text("var/lib/dpkg/info/dash.list", dpkgList("/bin", "/bin/dash", "/bin/sh")),
			it.Text("var/lib/dpkg/info/coreutils.list", dpkgList("/bin", "/bin/chmod", "/bin/chown", "/bin/chgrp")),
			it.Text("var/lib/dpkg/info/login.list", dpkgList("/bin", "/bin/su")),
			it.Text("var/lib/dpkg/info/passwd.list", dpkgList("/usr/bin", "/usr/bin/passwd")),
			it.Text("var/lib/dpkg/info/dpkg.list", dpkgList("/usr/bin", "/usr/bin/dpkg", "/usr/bin/dpkg-query")),
			it.Text("var/lib/dpkg/info/apt.list", dpkgList("/usr/bin", "/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/apt-cache")),
		),
		it.Meta(`/bin/sh -c #(nop)  CMD ["bash"]`),
		it.Step("RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl wget # buildkit",
			bin("usr/bin/curl"), bin("usr/bin/wget"),
			it.Text("var/lib/dpkg/status", dpkgStatus(append(demoBasePackages,
				[3]string{"curl", "7.88.1-10+deb12u8", "command line tool for transferring data with URL syntax"},
				[3]string{"wget", "1.21.3-1+b2", "retrieves files from the web"},
			)...)),
			it.Text("var/lib/dpkg/info/curl.list", dpkgList("/usr/bin", "/usr/bin/curl")),
			it.Text("var/lib/dpkg/info/wget.list", dpkgList("/usr/bin", "/usr/bin/wget")),
		),
		it.Meta("ENV DB_PASSWORD=hunter2-not-a-real-one APP_PORT=8080"),
		it.Step("COPY deploy_key /root/.ssh/id_ed25519 # buildkit",
			it.Dir("root/.ssh", 0o700),
			it.File("root/.ssh/id_ed25519", 0o600, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZSBrZXkgZm9yIGltZ2F1ZGl0IHRlc3RzIG9ubHk=\n-----END OPENSSH PRIVATE KEY-----\n")),
		),
		it.Step("RUN /bin/sh -c git clone git@example.com:team/app.git /app && rm -f /root/.ssh/id_ed25519 # buildkit",
			it.Whiteout("root/.ssh/id_ed25519"),
			it.Dir("app", 0o755), bin("app/server"),
		),
		it.Meta("WORKDIR /app"),
		it.Meta(`CMD ["/app/server"]`),
	)
}

// Hardened is what imgaudit wants images to look like: one static binary, a
// numeric non-root user, no shell, no package manager, a health check.
func Hardened() (v1.Image, error) {
	cfg := v1.Config{
		User:       "65532:65532",
		Entrypoint: []string{"/server"},
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		Healthcheck: &v1.HealthConfig{
			Test: []string{"CMD", "/server", "-healthcheck"},
		},
	}
	return it.Image(cfg,
		it.Step("COPY passwd group /etc/ # buildkit",
			it.Dir("etc", 0o755),
			it.Text("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
			it.Text("etc/group", "root:x:0:\nnonroot:x:65532:\n"),
			it.Dir("tmp", 0o1777),
		),
		it.Step("COPY --from=build /out/server /server # buildkit",
			it.File("server", 0o755, it.ELF("", 2000)),
		),
		it.Meta("USER 65532:65532"),
		it.Meta(`HEALTHCHECK CMD ["/server", "-healthcheck"]`),
		it.Meta(`ENTRYPOINT ["/server"]`),
	)
}

// Busybox is an Alpine-style image: busybox with applet symlinks (sh, ash,
// wget, nc, chmod, ...), apk, and a named user that a runtime cannot verify
// as non-root.
func Busybox() (v1.Image, error) {
	applets := map[string][]string{
		"bin":      {"ash", "sh", "chmod", "chown", "chgrp", "ping", "cat", "ls"},
		"usr/bin":  {"wget", "nc", "traceroute", "env"},
		"sbin":     {"ifconfig", "route", "ip"},
		"usr/sbin": {"chroot"},
	}
	items := []it.Item{
		it.Dir("bin", 0o755), it.Dir("sbin", 0o755), it.Dir("usr/bin", 0o755), it.Dir("usr/sbin", 0o755), it.Dir("etc", 0o755),
		it.Dir("lib/apk/db", 0o755),
		it.Text("etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"),
		it.Text("etc/alpine-release", "3.20.3\n"),
		it.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n"),
		it.Text("etc/group", "root:x:0:root\nnobody:x:65534:\napp:x:1000:\n"),
		it.File("bin/busybox", 0o755, it.ELF("/lib/ld-musl-x86_64.so.1", 300)),
		it.File("lib/ld-musl-x86_64.so.1", 0o755, it.ELF("", 100)),
		it.File("sbin/apk", 0o755, it.ELF("/lib/ld-musl-x86_64.so.1", 200)),
		it.Text("lib/apk/db/installed", "C:Q1aaaa=\nP:musl\nV:1.2.5-r0\nA:x86_64\nT:the musl c library\nF:lib\nR:ld-musl-x86_64.so.1\n\nC:Q1bbbb=\nP:busybox\nV:1.36.1-r29\nA:x86_64\nT:Size optimized toolbox of many common UNIX utilities\nF:bin\nR:busybox\n\nC:Q1cccc=\nP:apk-tools\nV:2.14.4-r1\nA:x86_64\nT:Alpine Package Keeper\nF:sbin\nR:apk\n\n"),
		it.Dir("tmp", 0o1777),
	}
	dirs := make([]string, 0, len(applets))
	for d := range applets {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		for _, a := range applets[d] {
			items = append(items, it.Symlink(d+"/"+a, "/bin/busybox"))
		}
	}
	cfg := v1.Config{
		User: "app",
		Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd:  []string{"/bin/sh"},
	}
	return it.Image(cfg,
		it.Step("/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.20.3 in / ", items...),
		it.Meta(`/bin/sh -c #(nop)  CMD ["/bin/sh"]`),
		it.Meta("USER app"),
	)
}

// Distroless is a Google-distroless-style Python image: dpkg status.d (with
// the md5sums file listing a package's files), no shell, no package manager, a numeric non-root user, one world-writable
// file left behind by a careless COPY.
func Distroless() (v1.Image, error) {
	cfg := v1.Config{
		User:       "65532",
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Entrypoint: []string{"/usr/bin/python3.11"},
	}
	return it.Image(cfg,
		it.Step("bazel build @distroless//base:static",
			it.Dir("etc", 0o755),
			it.Text("etc/os-release", "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\nHOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n"),
			it.Text("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
			it.Text("etc/group", "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"),
			it.Dir("var/lib/dpkg/status.d", 0o755),
			it.Text("var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"),
			it.Text("var/lib/dpkg/status.d/libc6", "Package: libc6\nVersion: 2.36-9+deb12u7\nArchitecture: amd64\n"),
			it.Dir("tmp", 0o1777),
		),
		it.Step("bazel build @distroless//python3:python3",
			it.Text("var/lib/dpkg/status.d/python3.11-minimal", "Package: python3.11-minimal\nVersion: 3.11.2-6+deb12u3\nArchitecture: amd64\n"),
			it.Text("var/lib/dpkg/status.d/python3.11-minimal.md5sums", "6f1ed002ab5595859014ebf0951522d9  usr/bin/python3.11\n"),
			it.Dir("usr/bin", 0o755), bin("usr/bin/python3.11"), it.Symlink("usr/bin/python3", "python3.11"),
		),
		it.Step("COPY app.py config.ini /app/ # buildkit",
			it.Dir("app", 0o755), it.Text("app/app.py", "print('hello')\n"),
			it.File("app/config.ini", 0o666, []byte("[app]\nport=8080\n")),
		),
		it.Meta("USER 65532"),
		it.Meta(`ENTRYPOINT ["/usr/bin/python3.11"]`),
	)
}
