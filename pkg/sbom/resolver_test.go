//go:build !nosbom

package sbom

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// usrmerge is a Debian-style tree: /bin links to usr/bin.
func usrmerge(t *testing.T) *resolver {
	t.Helper()
	tarball, err := it.Tar(
		it.Dir("usr/bin", 0o755), it.Symlink("bin", "usr/bin"),
		it.File("usr/bin/python3.11", 0o755, []byte("\x7fELF python")), it.Symlink("usr/bin/python3", "python3.11"),
		it.Text("var/lib/dpkg/status", "Package: x\n"), it.Text("var/lib/dpkg/info/x.md5sums", "00  usr/bin/x\n"),
		it.Text("var/lib/dpkg/info/x.list", "/usr/bin/x\n"), it.Symlink("var/lib/dpkg/info/dangling.list", "/nowhere"),
	)
	if err != nil {
		t.Fatal(err)
	}
	return resolverOf(t, tarball, layers.Options{Capture: []string{"/var/lib/dpkg/**", "/usr/bin/python3.11"}})
}

// resolverOf indexes one layer and returns the resolver of its filesystem.
func resolverOf(t *testing.T, tarball []byte, opts layers.Options) *resolver {
	t.Helper()
	idx, err := layers.IndexStream(context.Background(), bytesReader(tarball), opts)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := layers.Squash([]*layers.LayerIndex{idx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return newResolver(fsys)
}

func accessPaths(t *testing.T, r *resolver, patterns ...string) []string {
	t.Helper()
	ls, err := r.FilesByGlob(patterns...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.RealPath+"@"+l.AccessPath)
	}
	return out
}

func TestResolverGlob(t *testing.T) {
	r := usrmerge(t)
	for _, tt := range []struct {
		patterns []string
		want     []string
	}{
		// A symlink to a file resolves to it; each file comes once, at the
		// first path that matched.
		{[]string{"**/python3*"}, []string{"/usr/bin/python3.11@/usr/bin/python3"}},
		{[]string{"**/python3"}, []string{"/usr/bin/python3.11@/usr/bin/python3"}},
		// Through the /bin link, the file matches at /bin.
		{[]string{"/bin/python3.11"}, []string{"/usr/bin/python3.11@/bin/python3.11"}},
		{[]string{"**/bin/python3.1?"}, []string{"/usr/bin/python3.11@/usr/bin/python3.11"}},
		{[]string{"/bin/*"}, []string{"/usr/bin/python3.11@/bin/python3"}},
		// Braces, a literal prefix, a dangling link left out, directories never returned.
		{[]string{"/var/lib/dpkg/info/x.{md5sums,list}"}, []string{"/var/lib/dpkg/info/x.list@/var/lib/dpkg/info/x.list", "/var/lib/dpkg/info/x.md5sums@/var/lib/dpkg/info/x.md5sums"}},
		{[]string{"/var/lib/dpkg/info/*.list"}, []string{"/var/lib/dpkg/info/x.list@/var/lib/dpkg/info/x.list"}},
		{[]string{"**/lib/dpkg/status"}, []string{"/var/lib/dpkg/status@/var/lib/dpkg/status"}},
		{[]string{"/usr/*"}, nil},
	} {
		if diff := cmp.Diff(tt.want, accessPaths(t, r, tt.patterns...)); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.patterns, diff)
		}
	}
}

func TestResolverPathsAndContents(t *testing.T) {
	r := usrmerge(t)
	ls, _ := r.FilesByPath("/bin/python3", "/usr/bin/python3.11", "/usr/bin", "/missing")
	if len(ls) != 1 || ls[0].RealPath != "/usr/bin/python3.11" || ls[0].AccessPath != "/bin/python3" {
		t.Fatalf("FilesByPath = %v", ls)
	}
	rc, err := r.FileContentsByLocation(ls[0])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	if string(b) != "\x7fELF python" {
		t.Errorf("contents %q", b)
	}
	if !r.HasPath("/bin/python3") || r.HasPath("/missing") {
		t.Error("HasPath")
	}
	m, err := r.FileMetadataByLocation(ls[0])
	if err != nil || m.Mode().Perm() != 0o755 || m.Size() != 11 {
		t.Errorf("metadata %+v, %v", m, err)
	}
	if mt, _ := r.FilesByMIMEType("application/x-executable", "application/x-sharedlib", "application/x-elf", "application/octet-stream"); len(mt) != 1 {
		t.Errorf("FilesByMIMEType = %v", mt)
	}
	var all []string
	for l := range r.AllLocations(context.Background()) {
		all = append(all, l.RealPath)
	}
	if !slices.Contains(all, "/bin") || !slices.Contains(all, "/usr/bin/python3") {
		t.Errorf("AllLocations = %v", all)
	}
	if len(r.missedFiles()) != 0 {
		t.Errorf("missed %v", r.missedFiles())
	}
}

func TestExpandBraces(t *testing.T) {
	got := expandBraces("**/{var/lib,usr/share}/rpm/{Packages,rpmdb.sqlite}")
	want := []string{"**/var/lib/rpm/Packages", "**/var/lib/rpm/rpmdb.sqlite", "**/usr/share/rpm/Packages", "**/usr/share/rpm/rpmdb.sqlite"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func bytesReader(b []byte) io.Reader { return &byteReader{b: b} }

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// TestResolverManyLinks: thousands of links to one directory cost each glob
// a bounded number of alias paths per file.
func TestResolverManyLinks(t *testing.T) {
	items := []it.Item{it.Dir("usr/bin", 0o755)}
	for i := 0; i < 3000; i++ {
		items = append(items, it.Text(fmt.Sprintf("usr/bin/f%04d", i), "x"), it.Symlink(fmt.Sprintf("l%04d", i), "usr/bin"))
	}
	tarball, err := it.Tar(items...)
	if err != nil {
		t.Fatal(err)
	}
	r := resolverOf(t, tarball, layers.Options{})
	start := time.Now()
	if got := accessPaths(t, r, "**/*.jar", "**/zz/f*"); len(got) != 0 {
		t.Errorf("matched %v", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("two globs took %s", d)
	}
}

// TestGlobNarrowingMatchesFullScan: narrowing the candidates by the
// pattern's last element (exact name, "*suffix", "prefix*") returns what
// matching every entry returns, access paths included.
func TestGlobNarrowingMatchesFullScan(t *testing.T) {
	tarball, err := it.Tar(
		it.Dir("usr/bin", 0o755), it.Symlink("bin", "usr/bin"), it.Dir("usr/lib/jvm", 0o755), it.Symlink("lib", "usr/lib"),
		it.File("usr/bin/python3.11", 0o755, []byte("\x7fELF")), it.Symlink("usr/bin/python3", "python3.11"),
		it.Symlink("a-pythonz", "/usr/bin/python3.11"), it.Text("usr/lib/jvm/x.jar", "PK"), it.Text("usr/lib/jvm/.jar", "PK"),
		it.Text("app/App.deps.json", "{}"), it.Text("app/deps.json", "{}"), it.Text("app/x.jarx", "PK"),
		it.Text("etc/os-release", "ID=x\n"), it.Text("usr/lib/os-release", "ID=x\n"), it.Text("app/release", "1"),
		it.Text("usr/lib/libpython3.11.so.1.0", "\x7fELF"), it.Symlink("usr/lib/libpython3.so", "libpython3.11.so.1.0"),
		// Module directories, real and reached through a symlink of that
		// name, for the patterns narrowed by their directory's name.
		it.Text("root/go/pkg/mod/m@v1/LICENSE", "MIT"), it.Text("root/go/pkg/mod/m@v1/sub/README", "x"),
		it.Text("usr/share/m1/COPYING", "GPL"), it.Symlink("srv/go/pkg/mod/m@v1", "/usr/share/m1"),
		it.Symlink("srv/go/pkg/mod/m@v2", "../../../../usr/share/m1"), it.Symlink("m@v3", "/"),
	)
	if err != nil {
		t.Fatal(err)
	}
	r := resolverOf(t, tarball, layers.Options{})
	for _, pat := range []string{"**/*.jar", "**/*.deps.json", "**/python*", "**/*release", "**/os-release", "**/*", "**/lib/**/*.jar", "**/py*3",
		"**/libpython*.so*", "**/py?hon*", "**/[ab]-python*", "/usr/**/*.so*", "**/*.so.1.0",
		"**/go/pkg/mod/m@v1/*", "**/m@v2/*", "**/m@v3/*", "**/bin/*", "**/lib/*", "**/jvm/?*", "**/mod/*/*", "/usr/*/*"} {
		got := r.glob(pat)
		var want []globMatch
		for _, n := range r.all {
			if p, ok := r.matchAny(pat, n); ok {
				want = append(want, globMatch{n, p})
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d matches, full scan %d", pat, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].node != want[i].node || got[i].access != want[i].access {
				t.Errorf("%s: match %d is %s@%s, full scan %s@%s", pat, i, got[i].node.Path, got[i].access, want[i].node.Path, want[i].access)
			}
		}
		if len(want) == 0 {
			t.Errorf("%s matches nothing: the test image does not exercise it", pat)
		}
	}
}

func TestProtectedDebs(t *testing.T) {
	status := "Package: bash\nEssential: yes\nStatus: install ok installed\nPriority: required\n\n" +
		"Package: apt\nStatus: install ok installed\nPriority: Required\nDescription: x\n continuation Package: evil\n\n" +
		"Package: curl\nPriority: optional\nEssential: no\n\n" +
		"Package: mawk\r\nPriority: required\r\n\r\n" +
		"Essential: yes\n\n" + // no Package field
		"Package: libc6\nProtected: yes\nPriority: optional\n\n" +
		"Package: last\nEssential: yes"
	got := protectedDebs([]byte(status))
	want := map[string]bool{"bash": true, "apt": true, "mawk": true, "libc6": true, "last": true}
	if !maps.Equal(got, want) {
		t.Errorf("protectedDebs = %v, want %v", got, want)
	}
}
