package checks

import (
	"bytes"
	"context"
	"path"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	mobyuser "github.com/moby/sys/user"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Fuzz targets for the parsers of image files the checks read: /etc/passwd
// and /etc/shadow, os-release, the dpkg status database (and distroless
// status.d) and the apk installed database. Each target builds an image
// holding the fuzzed file and runs the whole catalogue on it, then checks
// properties of what the parsers returned. The seed corpus runs with the
// normal tests; scripts/fuzz.sh runs them for minutes.

// fileImage is an image whose only layer holds files (captured), a shell and
// a static binary, with the given user.
func fileImage(tb testing.TB, user string, files map[string][]byte) *Image {
	tb.Helper()
	idx := &layers.LayerIndex{Files: map[string][]byte{}}
	dirs := map[string]bool{}
	add := func(e layers.Entry) { idx.Entries = append(idx.Entries, e) }
	for p, b := range files {
		for d := path.Dir(p); d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			add(layers.Entry{Path: d, Type: layers.TypeDir, Mode: 0o755})
		}
		add(layers.Entry{Path: p, Type: layers.TypeRegular, Mode: 0o644, Size: int64(len(b))})
		idx.Files[p] = b
	}
	add(layers.Entry{Path: "/bin", Type: layers.TypeDir, Mode: 0o755})
	add(layers.Entry{Path: "/bin/sh", Type: layers.TypeRegular, Mode: 0o755, Size: 64, Content: layers.Content{Kind: layers.ContentELF, Interpreter: "/lib/ld-musl-x86_64.so.1"}})
	add(layers.Entry{Path: "/bin/app", Type: layers.TypeRegular, Mode: 0o755, Size: 64, Content: layers.Content{Kind: layers.ContentELF}})
	fsys, err := layers.Squash([]*layers.LayerIndex{idx}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &v1.ConfigFile{Config: v1.Config{User: user, Cmd: []string{"/bin/app"}}, History: []v1.History{{CreatedBy: "COPY / /"}}}
	return NewImage("fuzz", cfg, fsys)
}

// runAll runs the catalogue and checks that findings are well formed.
func runAll(t *testing.T, img *Image) []Finding {
	t.Helper()
	fs, err := Run(context.Background(), img, All())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, f := range fs {
		if f.ID == "" || f.Title == "" {
			t.Errorf("finding without ID or title: %+v", f)
		}
		if f.Path != "" && (!strings.HasPrefix(f.Path, "/") || path.Clean(f.Path) != f.Path) {
			t.Errorf("%s: path %q is not clean and absolute", f.ID, f.Path)
		}
	}
	return fs
}

func FuzzPasswd(f *testing.F) {
	for _, s := range []struct{ passwd, shadow, user string }{
		{"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/sbin/nologin\n", "root:*:19000:0:99999:7:::\napp:!:19000::::::\n", "app"},
		{"root:x:0:0::/:/bin/sh\r\nadmin:x:0:0::/:/bin/sh\r\n", "admin::19000:0:99999:7:::\n", "admin:wheel"},
		{"# comment\n+nis\n-nis\nx:y\n:x:1:1\nbad:x:-1:0\nbig:x:99999999999999999999:0\napp:x:5:5\napp:x:0:0\n", "", "app"},
		{"", "root:$6$salt$hash:1:0:::::\n", ""},
		{"nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin", "", "65534"},
		{"a:x:1:1\n", "", " 0 : 0 "},
		{"root:$1$abc$def:0:0::/:/bin/sh\n", "", "root"},
	} {
		f.Add([]byte(s.passwd), []byte(s.shadow), s.user)
	}
	f.Fuzz(func(t *testing.T, passwd, shadow []byte, user string) {
		files := map[string][]byte{"/etc/passwd": passwd}
		if len(shadow) > 0 {
			files["/etc/shadow"] = shadow
		}
		img := fileImage(t, user, files)
		u := ResolveUser(img)
		// The oracle is the runtime's own parser.
		eu, err := mobyuser.GetExecUser(user, nil, bytes.NewReader(passwd), nil)
		switch {
		case err == nil && eu.Uid == 0:
			if !u.Root || u.UID == nil || *u.UID != 0 {
				t.Errorf("user %q: the runtime runs uid 0, imgaudit says %+v", user, u)
			}
		case err == nil:
			if u.UID == nil || (*u.UID != eu.Uid && !u.Root) {
				t.Errorf("user %q: the runtime runs uid %d, imgaudit says %+v", user, eu.Uid, u)
			}
		default:
			if u.UID != nil && !u.Root || u.Verifiable || u.InPasswd {
				t.Errorf("user %q: the runtime fails (%v), imgaudit says %+v", user, err, u)
			}
		}
		if u.Root && (u.UID == nil || *u.UID != 0) {
			t.Errorf("user %q: root with uid %v", user, u.UID)
		}
		for _, a := range usersOf(img).accounts {
			if a.name == "" {
				t.Errorf("bad account %+v", a)
			}
		}
		runAll(t, img)
	})
}

var kindRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func FuzzOSRelease(f *testing.F) {
	for _, s := range []string{
		"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
		"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.0\n",
		"PRETTY_NAME=\"Distroless\"\nID=debian\n",
		"ID='rhel'\nID_LIKE=\"fedora\"\n",
		"ID=\"Evil\\\"; rm -rf /\"\nPRETTY_NAME='\x1b[31mred'\n",
		"ID=" + strings.Repeat("a", 100) + "\n",
		"# comment\n=\nID\nID=\n\"\n'\n",
		"ID=ol\nVERSION_ID=\"9.4\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rel := parseOSRelease(data)
		if rel.ID != strings.ToLower(rel.ID) {
			t.Errorf("ID %q is not lower case", rel.ID)
		}
		img := fileImage(t, "65532", map[string][]byte{"/etc/os-release": data})
		b := ClassifyBase(img)
		if !kindRe.MatchString(b.Kind) {
			t.Errorf("base kind %q", b.Kind)
		}
		if b.OSRelease.Path != "/etc/os-release" {
			t.Errorf("os-release path %q", b.OSRelease.Path)
		}
		runAll(t, img)
	})
}

func FuzzPackageDB(f *testing.F) {
	for _, s := range []struct{ status, apk, list string }{
		{"Package: curl\nStatus: install ok installed\nVersion: 7.88\nArchitecture: amd64\n\nPackage: dash\nStatus: deinstall ok config-files\n", "", "/usr/bin/curl\n/.\n/usr\n"},
		{"", "C:Q1abc=\nP:busybox\nV:1.36.1-r2\nF:bin\nR:busybox\nR:sh\n\nP:apk-tools\nV:2.14\nF:sbin\nR:apk\n", ""},
		{"Package: x\n Description continues\nStatus: install ok installed\n\n\n\nPackage:\nStatus: install ok installed\n", "P:\nF:../../etc\nR:../passwd\nX\n:\n", "../../etc/passwd\n\n  /bin/sh  \n"},
		{"Package curl\n: \n", "P:a\nR:no-dir\n", ""},
	} {
		f.Add([]byte(s.status), []byte(s.apk), []byte(s.list))
	}
	f.Fuzz(func(t *testing.T, status, apk, list []byte) {
		for _, st := range parseStanzas(status) {
			if len(st) == 0 {
				t.Errorf("empty stanza")
			}
		}
		img := fileImage(t, "65532", map[string][]byte{
			"/var/lib/dpkg/status":          status,
			"/var/lib/dpkg/info/curl.list":  list,
			"/var/lib/dpkg/status.d/curl":   status,
			"/lib/apk/db/installed":         apk,
			"/usr/bin/curl":                 nil,
			"/var/lib/dpkg/status.d/x.md5s": list,
		})
		db := packagesOf(img)
		for _, p := range db.pkgs {
			if p.Name == "" {
				t.Errorf("package without a name: %+v", p)
			}
			for _, fp := range p.Files {
				if !strings.HasPrefix(fp, "/") || path.Clean(fp) != fp {
					t.Errorf("package %s file %q is not clean and absolute", p.Name, fp)
				}
			}
		}
		runAll(t, img)
	})
}

// TestLongLinesDoNotHideRecords: a line longer than a line scanner's
// buffer must not end the parse silently, hiding the records after it (a
// uid-0 account, an empty password, an installed package, the os-release
// ID).
func TestLongLinesDoNotHideRecords(t *testing.T) {
	long := "# " + strings.Repeat("x", 2<<20) + "\n"
	img := fileImage(t, "app", map[string][]byte{
		"/etc/passwd":           []byte(long + "app:x:0:0::/:/bin/sh\n"),
		"/etc/shadow":           []byte(long + "app::19000:0:99999:7:::\n"),
		"/etc/os-release":       []byte("NAME=" + strings.Repeat("n", 100<<10) + "\nID=alpine\n"),
		"/var/lib/dpkg/status":  []byte("Description: " + strings.Repeat("d", 2<<20) + "\n\nPackage: curl\nStatus: install ok installed\n"),
		"/lib/apk/db/installed": []byte("T:" + strings.Repeat("t", 2<<20) + "\n\nP:busybox\nV:1\n"),
	})
	if u := ResolveUser(img); !u.Root || u.UID == nil || *u.UID != 0 {
		t.Errorf("user app = %+v, want uid 0 from /etc/passwd", u)
	}
	if b := ClassifyBase(img); b.OSRelease.ID != "alpine" {
		t.Errorf("os-release ID = %q, want alpine", b.OSRelease.ID)
	}
	var names []string
	for _, p := range packagesOf(img).pkgs {
		names = append(names, p.DB+":"+p.Name)
	}
	if got := strings.Join(names, ","); got != "dpkg:curl,apk:busybox" {
		t.Errorf("packages = %s, want dpkg:curl,apk:busybox", got)
	}
	empty := false
	for _, f := range runAll(t, img) {
		empty = empty || f.ID == "IA-PASSWORD" && f.Name == "app" && strings.Contains(f.Detail, "/etc/shadow")
	}
	if !empty {
		t.Error("the empty password of app in /etc/shadow was not reported")
	}
}
