package cli_test

import (
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/internal/cli"
	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// minbasePackages is the package database of a Debian 12 minbase
// (mmdebstrap --variant=minbase bookworm): name, version, priority, and
// whether it is Essential, as its dpkg status file has them.
const minbasePackages = `adduser 3.134 important -
apt 2.6.2 important -
base-files 12.4+deb12u15 required yes
base-passwd 3.6.1 required yes
bash 5.2.15-2+b13 required yes
bsdutils 1:2.38.1-5+deb12u3 required yes
coreutils 9.1-1 required yes
dash 0.5.12-2 required yes
debconf 1.5.82 important -
debian-archive-keyring 2023.3+deb12u2 important -
debianutils 5.7-0.5~deb12u1 required yes
diffutils 1:3.8-4 required yes
dpkg 1.21.23 required yes
e2fsprogs 1.47.0-2+b2 required -
findutils 4.9.0-4 required yes
gcc-12-base 12.2.0-14+deb12u1 optional -
gpgv 2.2.40-1.1+deb12u2 important -
grep 3.8-5 required yes
gzip 1.12-1 required yes
hostname 3.23+nmu1 required yes
init-system-helpers 1.65.2+deb12u1 required yes
libacl1 2.3.1-3 optional -
libapt-pkg6.0 2.6.2 optional -
libattr1 1:2.5.1-4 optional -
libaudit-common 1:3.0.9-1 optional -
libaudit1 1:3.0.9-1 optional -
libblkid1 2.38.1-5+deb12u3 optional -
libbz2-1.0 1.0.8-5+b1 important -
libc-bin 2.36-9+deb12u14 required yes
libc6 2.36-9+deb12u14 optional -
libcap-ng0 0.8.3-1+b3 optional -
libcap2 1:2.66-4+deb12u3+b1 optional -
libcom-err2 1.47.0-2+b2 optional -
libcrypt1 1:4.4.33-2 optional -
libdb5.3 5.3.28+dfsg2-1 standard -
libdebconfclient0 0.270 optional -
libext2fs2 1.47.0-2+b2 optional -
libffi8 3.4.4-1 optional -
libgcc-s1 12.2.0-14+deb12u1 optional -
libgcrypt20 1.10.1-3+deb12u1 optional -
libgdbm-compat4 1.23-3 optional -
libgdbm6 1.23-3 optional -
libgmp10 2:6.2.1+dfsg1-1.1 optional -
libgnutls30 3.7.9-2+deb12u7 optional -
libgpg-error0 1.46-1 optional -
libhogweed6 3.8.1-2 optional -
libidn2-0 2.3.3-1+b1 optional -
liblz4-1 1.9.4-1 optional -
liblzma5 5.4.1-1+deb12u2 optional -
libmd0 1.0.4-2 optional -
libmount1 2.38.1-5+deb12u3 optional -
libnettle8 3.8.1-2 optional -
libp11-kit0 0.24.1-2 optional -
libpam-modules 1.5.2-6+deb12u3 required -
libpam-modules-bin 1.5.2-6+deb12u3 required -
libpam-runtime 1.5.2-6+deb12u3 required -
libpam0g 1.5.2-6+deb12u3 optional -
libpcre2-8-0 10.42-1+deb12u2 optional -
libperl5.36 5.36.0-7+deb12u4 optional -
libseccomp2 2.5.4-1+deb12u1 optional -
libselinux1 3.4-1+b6 optional -
libsemanage-common 3.4-1 optional -
libsemanage2 3.4-1+b5 optional -
libsepol2 3.4-2.1 optional -
libsmartcols1 2.38.1-5+deb12u3 optional -
libss2 1.47.0-2+b2 optional -
libstdc++6 12.2.0-14+deb12u1 optional -
libsystemd0 252.39-1~deb12u2 optional -
libtasn1-6 4.19.0-2+deb12u1 optional -
libtinfo6 6.4-4 optional -
libudev1 252.39-1~deb12u2 optional -
libunistring2 1.0-2 optional -
libuuid1 2.38.1-5+deb12u3 optional -
libxxhash0 0.8.1-1 optional -
libzstd1 1.5.4+dfsg2-5+deb12u1 optional -
login 1:4.13+dfsg1-1+deb12u2 required yes
logsave 1.47.0-2+b2 optional -
mawk 1.3.4.20200120-3.1 required -
mount 2.38.1-5+deb12u3 required -
ncurses-base 6.4-4 required yes
ncurses-bin 6.4-4 required yes
passwd 1:4.13+dfsg1-1+deb12u2 required -
perl 5.36.0-7+deb12u4 standard -
perl-base 5.36.0-7+deb12u4 required yes
sed 4.9-1+deb12u1 required yes
sysvinit-utils 3.06-4 required yes
tar 1.34+dfsg-1.2+deb12u1 required yes
tzdata 2024a-0+deb12u1 required -
usrmerge 37~deb12u1 optional -
util-linux 2.38.1-5+deb12u3 required yes
zlib1g 1:1.2.13.dfsg-1+deb12u1 required -`

// minbaseFiles are the executables a minbase ships that imgaudit's checks
// are about, and a few it is not, by package; a leading 4 or 2 marks a
// setuid or setgid file, "name>target" a symlink.
var minbaseFiles = map[string][]string{
	"apt":                {"/usr/bin/apt", "/usr/bin/apt-cache", "/usr/bin/apt-cdrom", "/usr/bin/apt-config", "/usr/bin/apt-get", "/usr/bin/apt-key", "/usr/bin/apt-mark"},
	"bash":               {"/usr/bin/bash", "/usr/bin/rbash>bash"},
	"coreutils":          {"/usr/bin/cat", "/usr/bin/chcon", "/usr/bin/chgrp", "/usr/bin/chmod", "/usr/bin/chown", "/usr/bin/cp", "/usr/bin/ls", "/usr/bin/mv", "/usr/bin/rm"},
	"dash":               {"/usr/bin/dash", "/usr/bin/sh>dash"},
	"debconf":            {"/usr/sbin/dpkg-preconfigure", "/usr/sbin/dpkg-reconfigure"},
	"dpkg":               {"/usr/bin/dpkg", "/usr/bin/dpkg-deb", "/usr/bin/dpkg-divert", "/usr/bin/dpkg-maintscript-helper", "/usr/bin/dpkg-query", "/usr/bin/dpkg-realpath", "/usr/bin/dpkg-split", "/usr/bin/dpkg-statoverride", "/usr/bin/dpkg-trigger", "/usr/sbin/dpkg-fsys-usrunmess"},
	"e2fsprogs":          {"/usr/bin/chattr", "/usr/bin/lsattr"},
	"grep":               {"/usr/bin/grep"},
	"libpam-modules-bin": {"2/usr/sbin/unix_chkpwd"},
	"login":              {"4/usr/bin/newgrp", "/usr/bin/sg>newgrp", "/usr/bin/login"},
	"mount":              {"4/usr/bin/mount", "4/usr/bin/umount"},
	"passwd":             {"4/usr/bin/chfn", "4/usr/bin/chsh", "4/usr/bin/gpasswd", "4/usr/bin/passwd", "2/usr/bin/chage", "2/usr/bin/expiry"},
	"perl":               {"/usr/bin/cpan", "/usr/bin/perl"},
	"sed":                {"/usr/bin/sed"},
	"tar":                {"/usr/bin/tar"},
	"util-linux":         {"4/usr/bin/su", "/usr/bin/setpriv", "/usr/sbin/runuser"},
}

// minbase builds an image like `mmdebstrap --variant=minbase bookworm`
// imported with `umoci raw add-layer`: one layer, merged /usr, no USER, no
// HEALTHCHECK.
func minbase(t *testing.T) string {
	t.Helper()
	items := []it.Item{
		it.Dir("usr/bin", 0o755), it.Dir("usr/sbin", 0o755), it.Dir("usr/lib", 0o755),
		it.Symlink("bin", "usr/bin"), it.Symlink("sbin", "usr/sbin"), it.Symlink("lib", "usr/lib"),
		it.Dir("etc", 0o755), it.Text("usr/lib/os-release", debianOSRelease), it.Symlink("etc/os-release", "../usr/lib/os-release"),
		it.Text("etc/debian_version", "12.12\n"),
		it.Text("etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
		it.Text("etc/group", "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nnogroup:x:65534:\n"),
		it.Dir("tmp", 0o1777), it.Dir("var/lib/dpkg/info", 0o755),
	}
	var status strings.Builder
	for _, line := range strings.Split(minbasePackages, "\n") {
		var name, version, priority, essential string
		if _, err := fmt.Sscan(line, &name, &version, &priority, &essential); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		fmt.Fprintf(&status, "Package: %s\n", name)
		if essential == "yes" {
			status.WriteString("Essential: yes\n")
		}
		fmt.Fprintf(&status, "Status: install ok installed\nPriority: %s\nArchitecture: amd64\nVersion: %s\nDescription: %s\n\n", priority, version, name)
		list := "/.\n"
		for _, f := range minbaseFiles[name] {
			p, target, link := strings.Cut(strings.TrimLeft(f, "42"), ">")
			mode := int64(0o755)
			switch f[0] {
			case '4':
				mode = 0o4755
			case '2':
				mode = 0o2755
			}
			if link {
				items = append(items, it.Symlink(strings.TrimPrefix(p, "/"), target))
			} else {
				items = append(items, it.File(strings.TrimPrefix(p, "/"), mode, it.ELF("/lib64/ld-linux-x86-64.so.2", 200)))
			}
			list += p + "\n"
		}
		items = append(items, it.Text("var/lib/dpkg/info/"+name+".list", list))
	}
	items = append(items, it.Text("var/lib/dpkg/status", status.String()))
	img, err := it.Image(v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Cmd: []string{"bash"}},
		it.Step("umoci raw add-layer", items...))
	if err != nil {
		t.Fatal(err)
	}
	return "oci:" + it.WriteLayout(t, img)
}

const debianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`

// TestMinbaseTableFitsOneScreen: the default table of a Debian 12 minbase
// at 80 columns fits a 60-line screen, names every check that fails the
// gate with its fix, and counts what it folds; --details lists every
// failing finding's file.
func TestMinbaseTableFitsOneScreen(t *testing.T) {
	ref := minbase(t)
	env := cli.Env{
		Now:           func() time.Time { return fixedNow },
		IsTerminal:    func(io.Writer) bool { return true },
		TerminalWidth: func(io.Writer) int { return 80 },
		Getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return ""
		},
	}
	flags := []string{"scan", "-q", "--no-cache", "--no-policy"}
	j := runEnv(t, env, append(flags, "-f", "json", ref)...)
	if j.code != 1 {
		t.Fatalf("json: exit %d: %s", j.code, j.stderr)
	}
	img := decode(t, j.stdout).Images[0]
	if img.Gate == nil {
		t.Fatal("no gate")
	}
	failing := map[string][]string{} // check ID -> the paths of its findings
	for _, f := range img.Findings {
		if slices.ContainsFunc(img.Gate.Reasons, func(r string) bool { return strings.HasPrefix(r, f.ID+":") }) {
			failing[f.ID] = append(failing[f.ID], f.Path)
		}
	}
	for _, id := range []string{"IA-ROOT-USER", "IA-SETUID", "IA-SETGID"} {
		if failing[id] == nil {
			t.Errorf("%s does not fail the baseline gate; reasons %q", id, img.Gate.Reasons)
		}
	}

	r := runEnv(t, env, append(flags, ref)...)
	if r.code != 1 {
		t.Fatalf("table: exit %d: %s", r.code, r.stderr)
	}
	table := r.stdout
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) > 60 {
		t.Errorf("default table is %d lines at 80 columns, want at most 60:\n%s", len(lines), table)
	}
	_, fixes, _ := strings.Cut(table, "\nFix first:\n")
	for id, paths := range failing {
		if !strings.Contains(fixes, "  "+id+" ") {
			t.Errorf("Fix first lacks %s:\n%s", id, fixes)
		}
		// Every failing file is named on its package's row, or counted.
		for _, p := range paths {
			if p != "" && !strings.Contains(table, p) && !strings.Contains(table, " "+path.Base(p)) && !strings.Contains(table, ", … (") {
				t.Errorf("%s %s neither named nor counted", id, p)
			}
		}
	}
	// Every check with a finding has a row, and the verdict states the count.
	for _, f := range img.Findings {
		if !strings.Contains(table, "│ "+f.ID+" ") {
			t.Errorf("no row for %s", f.ID)
		}
	}
	if !strings.Contains(lines[1], fmt.Sprintf("FAIL — %d findings failing the baseline profile", img.Gate.Failing)) {
		t.Errorf("verdict line %q", lines[1])
	}
	checkGolden(t, "minbase.w80.table", strings.ReplaceAll(table, ref, "oci:minbase"))

	// --details: a row for each finding, every failing file by its path.
	d := runEnv(t, env, append(flags, "--details", ref)...)
	for _, paths := range failing {
		for _, p := range paths {
			if !strings.Contains(d.stdout, p) {
				t.Errorf("--details lacks %s", p)
			}
		}
	}
}
