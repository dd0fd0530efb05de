//go:build !nosbom

package sbom_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// example opens an example image of testdata/images.
func example(t *testing.T, name string) (string, v1.Image) {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "images", name)
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return dir, img
}

// catalog scans img once with sbom.Needs captured, as pkg/audit does, and
// catalogues it.
func catalog(t *testing.T, ref string, img v1.Image, lim layers.Limits) *sbom.Result {
	t.Helper()
	return catalogWith(t, ref, img, lim, sbom.Options{ToolVersion: "test"})
}

func catalogWith(t *testing.T, ref string, img v1.Image, lim layers.Limits, o sbom.Options) *sbom.Result {
	t.Helper()
	ctx := context.Background()
	fsys, err := layers.Scan(ctx, img, layers.ImageOptions{Options: layers.Options{Capture: sbom.Needs(), Limits: lim}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sbom.Catalog(ctx, sbom.Image{Reference: ref, Image: img}, fsys, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// syftPackages runs syft on its own, with its own OCI layout source
// (stereoscope), on the layout in dir.
func syftPackages(t *testing.T, dir string) []sbom.Package {
	t.Helper()
	ctx := context.Background()
	src, err := syft.GetSource(ctx, dir, syft.DefaultGetSourceConfig().WithSources("oci-dir"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	doc, err := syft.CreateSBOM(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return (&sbom.Result{Document: doc}).Packages()
}

// TestSameAsSyft compares the packages imgaudit lists, from one pass over
// the layers, with those syft lists from its own image source, on the same
// image: names, versions and types must be equal.
func TestSameAsSyft(t *testing.T) {
	for _, name := range []string{"demo", "distroless", "busybox", "hardened", "polyglot", "executables", "gotoolchain", "symlinked"} {
		t.Run(name, func(t *testing.T) {
			var dir string
			var img v1.Image
			switch name {
			case "polyglot":
				img = polyglot(t)
				dir = it.WriteLayout(t, img)
			case "executables":
				img = executables(t)
				dir = it.WriteLayout(t, img)
			case "gotoolchain":
				img = goToolchain(t)
				dir = it.WriteLayout(t, img)
			case "symlinked":
				img = symlinked(t)
				dir = it.WriteLayout(t, img)
			default:
				dir, img = example(t, name)
			}
			want := syftPackages(t, dir)
			res := catalog(t, dir, img, layers.Limits{})
			if diff := cmp.Diff(want, res.Packages()); diff != "" {
				t.Errorf("packages (-syft +imgaudit):\n%s", diff)
			}
			if name != "hardened" && len(want) == 0 {
				t.Errorf("syft found no package in %s: the comparison proves nothing", name)
			}
			t.Logf("%d packages: %v", len(want), want)
			if len(res.Summary.Skipped) > 0 {
				t.Errorf("skipped %v", res.Summary.Skipped)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		image string
		want  sbom.Summary
	}{
		{"demo", sbom.Summary{Distro: "debian", DistroVersion: "12", DistroName: "Debian GNU/Linux 12 (bookworm)",
			Packages: 10, ByType: map[string]int{"deb": 10}}},
		{"distroless", sbom.Summary{Distro: "debian", DistroVersion: "12", DistroName: "Distroless",
			Packages: 3, ByType: map[string]int{"deb": 3}}},
		{"busybox", sbom.Summary{Distro: "alpine", DistroVersion: "3.20.3", DistroName: "Alpine Linux v3.20",
			Packages: 3, ByType: map[string]int{"apk": 3}}},
		{"hardened", sbom.Summary{ByType: map[string]int{}}},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			dir, img := example(t, tt.image)
			got := catalog(t, dir, img, layers.Limits{}).Summary
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOwner finds the package that installed a file from each kind of
// database: dpkg's info/*.list (through the /bin -> usr/bin link), distroless
// status.d md5sums, apk's R: lines; and says how to remove it.
func TestOwner(t *testing.T) {
	tests := []struct {
		image   string
		path    string
		aliases []string
		want    *sbom.Package
	}{
		{"demo", "/usr/bin/curl", nil, &sbom.Package{Name: "curl", Version: "7.88.1-10+deb12u8", Type: "deb", Remove: "apt-get purge -y curl"}},
		// dash.list names /bin/dash; /bin links to usr/bin.
		// Essential: yes (and Priority: required): no removal command.
		{"demo", "/usr/bin/dash", []string{"/bin/dash", "/bin/sh", "/usr/bin/sh"}, &sbom.Package{Name: "dash", Version: "0.5.12-2", Type: "deb", Essential: true}},
		{"demo", "/usr/bin/su", []string{"/bin/su"}, &sbom.Package{Name: "login", Version: "1:4.13+dfsg1-1+b1", Type: "deb", Essential: true}},
		// Priority: required alone protects a package too; standard does not.
		{"demo", "/usr/bin/passwd", nil, &sbom.Package{Name: "passwd", Version: "1:4.13+dfsg1-1+b1", Type: "deb", Essential: true}},
		{"demo", "/usr/bin/wget", nil, &sbom.Package{Name: "wget", Version: "1.21.3-1+b2", Type: "deb", Remove: "apt-get purge -y wget"}},
		{"demo", "/app/server", nil, nil},
		// Distroless: the package is known, no package manager can remove it.
		{"distroless", "/usr/bin/python3.11", []string{"/usr/bin/python3"}, &sbom.Package{Name: "python3.11-minimal", Version: "3.11.2-6+deb12u3", Type: "deb"}},
		{"busybox", "/bin/busybox", []string{"/bin/sh", "/usr/bin/wget"}, &sbom.Package{Name: "busybox", Version: "1.36.1-r29", Type: "apk", Remove: "apk del busybox"}},
		{"busybox", "/sbin/apk", nil, &sbom.Package{Name: "apk-tools", Version: "2.14.4-r1", Type: "apk", Remove: "apk del apk-tools"}},
		// Only an alias is listed.
		{"busybox", "/nowhere", []string{"/lib/ld-musl-x86_64.so.1"}, &sbom.Package{Name: "musl", Version: "1.2.5-r0", Type: "apk", Remove: "apk del musl"}},
	}
	results := map[string]*sbom.Result{}
	for _, tt := range tests {
		t.Run(tt.image+tt.path, func(t *testing.T) {
			res := results[tt.image]
			if res == nil {
				dir, img := example(t, tt.image)
				res = catalog(t, dir, img, layers.Limits{})
				results[tt.image] = res
			}
			if diff := cmp.Diff(tt.want, res.Owner(tt.path, tt.aliases...)); diff != "" {
				t.Errorf("owner (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncode writes the full document in every format with syft's
// encoders; each must parse and name the image.
func TestEncode(t *testing.T) {
	_, img := example(t, "demo")
	res := catalogWith(t, "registry.example.com/team/demo:1.2", img, layers.Limits{}, sbom.Options{ToolVersion: "test", Document: true})
	for _, format := range sbom.Formats() {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := sbom.Encode(&buf, res, format); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("%s does not parse: %v", format, err)
			}
			var name string
			var packages int
			switch format {
			case sbom.FormatCycloneDXJSON:
				name = doc["metadata"].(map[string]any)["component"].(map[string]any)["name"].(string)
				for _, c := range doc["components"].([]any) {
					if c.(map[string]any)["type"] == "library" {
						packages++
					}
				}
			case sbom.FormatSPDXJSON:
				name = doc["name"].(string)
				for _, p := range doc["packages"].([]any) {
					if strings.HasPrefix(p.(map[string]any)["SPDXID"].(string), "SPDXRef-Package-deb-") {
						packages++
					}
				}
			case sbom.FormatSyftJSON:
				name = doc["source"].(map[string]any)["name"].(string)
				packages = len(doc["artifacts"].([]any))
			}
			if !strings.Contains(name, "registry.example.com/team/demo") {
				t.Errorf("%s names %q, not the image", format, name)
			}
			if packages != 10 {
				t.Errorf("%s lists %d packages, want 10", format, packages)
			}
		})
	}
	if err := sbom.Encode(&bytes.Buffer{}, res, "xml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestDocumentFiles: without Options.Document the packages and the summary
// are the same, the document has no file entries, and Encode refuses it;
// with it, syft's file metadata is there. A snapshot keeps which it is.
func TestDocumentFiles(t *testing.T) {
	_, img := example(t, "distroless")
	ctx := context.Background()
	fsys, err := layers.Scan(ctx, img, layers.ImageOptions{Options: layers.Options{Capture: sbom.Needs()}})
	if err != nil {
		t.Fatal(err)
	}
	full, err := sbom.Catalog(ctx, sbom.Image{Reference: "demo", Image: img}, fsys, sbom.Options{ToolVersion: "test", Document: true})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := sbom.Catalog(ctx, sbom.Image{Reference: "demo", Image: img}, fsys, sbom.Options{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full.Packages(), lean.Packages()); diff != "" {
		t.Errorf("packages (-document +without):\n%s", diff)
	}
	if diff := cmp.Diff(full.Summary, lean.Summary); diff != "" {
		t.Errorf("summary (-document +without):\n%s", diff)
	}
	if n := len(full.Document.Artifacts.FileMetadata); n == 0 {
		t.Errorf("document has %d file entries, want the demo's owned files", n)
	}
	if n := len(lean.Document.Artifacts.FileMetadata); n != 0 || !lean.NoFiles || full.NoFiles {
		t.Errorf("without Document: %d file entries, NoFiles %t (full: %t)", n, lean.NoFiles, full.NoFiles)
	}
	ownsFiles := func(r *sbom.Result) (n int) {
		for _, rel := range r.Document.Relationships {
			if _, ok := rel.To.(file.Coordinates); ok && rel.Type == artifact.ContainsRelationship {
				n++
			}
		}
		return n
	}
	if full, lean := ownsFiles(full), ownsFiles(lean); full == 0 || lean != 0 {
		t.Errorf("package-to-file relationships: %d with Document, %d without", full, lean)
	}
	err = sbom.Encode(&bytes.Buffer{}, lean, sbom.FormatSyftJSON)
	if err == nil || !strings.Contains(err.Error(), "without file metadata") {
		t.Errorf("Encode of a catalogue without files: %v", err)
	}
	for _, r := range []*sbom.Result{full, lean} {
		b, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		back, err := sbom.Restore(b, fsys)
		if err != nil {
			t.Fatal(err)
		}
		if back.NoFiles != r.NoFiles || len(back.Document.Artifacts.FileMetadata) != len(r.Document.Artifacts.FileMetadata) {
			t.Errorf("restored NoFiles %t with %d files, was %t with %d", back.NoFiles, len(back.Document.Artifacts.FileMetadata), r.NoFiles, len(r.Document.Artifacts.FileMetadata))
		}
	}
}

// TestSkipped: a file syft wants that is larger than the capture limit is
// not catalogued, and the summary says so.
func TestSkipped(t *testing.T) {
	big := `{"name": "left-pad", "version": "1.3.0", "description": "` + strings.Repeat("x", 4096) + `"}`
	img, err := it.Image(v1.Config{},
		it.Step("COPY . /app",
			it.Text("app/node_modules/left-pad/package.json", big),
			it.Text("app/node_modules/is-odd/package.json", `{"name": "is-odd", "version": "3.0.1"}`),
		))
	if err != nil {
		t.Fatal(err)
	}
	res := catalog(t, "skipped", img, layers.Limits{MaxCaptureBytes: 1024})
	if diff := cmp.Diff([]string{"/app/node_modules/left-pad/package.json"}, res.Summary.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]sbom.Package{{Name: "is-odd", Version: "3.0.1", Type: "npm"}}, res.Packages()); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

func TestNeeds(t *testing.T) {
	needs := sbom.Needs()
	for _, p := range needs {
		if _, err := filepath.Match(strings.TrimPrefix(p, "**/"), "x"); err != nil {
			t.Errorf("pattern %q: %v", p, err)
		}
		for _, everything := range []string{"/usr/bin/anything", "/var/cache/x/y.bin", "/usr/lib/x86_64-linux-gnu/libc.so.6"} {
			if layers.Match(p, everything) {
				t.Errorf("pattern %q captures %s: too broad", p, everything)
			}
		}
	}
	for _, want := range []string{
		"/var/lib/dpkg/status", "/var/lib/dpkg/status.d/libc6", "/var/lib/dpkg/info/curl.md5sums", "/var/lib/dpkg/info/curl.list",
		"/lib/apk/db/installed", "/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/Packages.db",
		"/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", "/app/node_modules/x/package.json",
		"/opt/app/lib/spring-core-6.1.0.jar", "/usr/local/bin/kubectl", "/ko-app/server",
		"/usr/local/bin/python3.12", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "/usr/local/go/bin/go",
	} {
		found := false
		for _, p := range needs {
			found = found || layers.Match(p, want)
		}
		if !found {
			t.Errorf("%s is not captured", want)
		}
	}
}

// polyglot is an image with a package of each language ecosystem syft reads
// from files imgaudit captures: Python, Node.js, Java and, when a Go
// toolchain is at hand, a Go binary's modules.
func polyglot(t *testing.T) v1.Image {
	t.Helper()
	var jar bytes.Buffer
	zw := zip.NewWriter(&jar)
	for name, body := range map[string]string{
		"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nImplementation-Title: commons-text\r\nImplementation-Version: 1.10.0\r\n\r\n",
		"META-INF/maven/org.apache.commons/commons-text/pom.properties": "groupId=org.apache.commons\nartifactId=commons-text\nversion=1.10.0\n",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	items := []it.Item{
		it.Text("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"),
		it.Text("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/RECORD", "requests/__init__.py,,\n"),
		it.Text("usr/lib/python3/dist-packages/requests/__init__.py", ""),
		it.Text("app/node_modules/express/package.json", `{"name": "express", "version": "4.18.2", "license": "MIT"}`),
		it.File("opt/app/lib/commons-text-1.10.0.jar", 0o644, jar.Bytes()),
	}
	if goBin := buildGo(t); goBin != nil {
		items = append(items, it.File("usr/local/bin/hello", 0o755, goBin))
	}
	img, err := it.Image(v1.Config{}, it.Step("COPY . /", items...))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// machineExecutables are executables of this machine that syft's binary
// classifiers recognise, at their paths here.
var machineExecutables = []string{
	"/usr/bin/busybox", "/usr/bin/bash", "/usr/bin/python3", "/usr/bin/perl", "/usr/bin/openssl", "/usr/bin/curl",
	"/usr/bin/getopt", "/usr/bin/gzip", "/usr/bin/xz", "/usr/bin/zstd", "/usr/bin/jq", "/usr/bin/ruby", "/usr/bin/redis-server",
	"/usr/sbin/nginx", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "/usr/lib/x86_64-linux-gnu/libkrb5.so.3.3",
	"/usr/lib/postgresql/15/bin/postgres",
}

// executables is an image of this machine's real executables (those of
// machineExecutables present here, up to 16 MiB each, a symlink kept as a
// symlink to its target), so that syft's binary classifiers find packages
// in real files; a missing one is skipped.
func executables(t *testing.T) v1.Image {
	t.Helper()
	var items []it.Item
	for _, p := range machineExecutables {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Logf("skipping %s: %v", p, err)
			continue
		}
		b, err := os.ReadFile(real)
		if err != nil || len(b) > 16<<20 {
			t.Logf("skipping %s: unreadable or above 16 MiB (%v)", p, err)
			continue
		}
		items = append(items, it.File(strings.TrimPrefix(real, "/"), 0o755, b))
		if real != p {
			items = append(items, it.Symlink(strings.TrimPrefix(p, "/"), filepath.Base(real)))
		}
	}
	if len(items) == 0 {
		t.Skip("none of the executables is on this machine")
	}
	img, err := it.Image(v1.Config{}, it.Step("COPY . /", items...))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// buildGo builds a small Go program that depends on one module from this
// module's cache, with extra build flags, nil when no Go toolchain is
// found.
func buildGo(t *testing.T, flags ...string) []byte {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Log("no go toolchain: the polyglot image has no Go binary")
		return nil
	}
	dir := t.TempDir()
	src := "package main\n\nimport \"github.com/google/go-cmp/cmp\"\n\nfunc main() { println(cmp.Equal(1, 1)) }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	wd, _ := os.Getwd()
	// Built inside this module so go-cmp resolves from go.mod, offline.
	args := append(append([]string{"build", "-trimpath"}, flags...), "-o", out, filepath.Join(dir, "main.go"))
	cmd := exec.Command(goTool, args...)
	cmd.Dir = wd
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOPROXY=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Logf("building a Go binary failed, the polyglot image has none: %v\n%s", err, b)
		return nil
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoBinaryAboveCap: a Go executable larger than the capture cap still
// has its modules listed, from the headers and build information the scan
// kept (layers.Partial), the same as when it is captured whole; it is not
// reported as skipped, while an ELF file of another language is.
func TestGoBinaryAboveCap(t *testing.T) {
	goBin := buildGo(t)
	if goBin == nil {
		t.Skip("no Go toolchain")
	}
	cApp := append(it.ELF("/lib64/ld-linux-x86-64.so.2", 64), make([]byte, len(goBin))...) // an ELF file of another language
	img, err := it.Image(v1.Config{}, it.Step("COPY hello /usr/local/bin/", it.File("usr/local/bin/hello", 0o755, goBin), it.File("usr/local/bin/c-app", 0o755, cApp)))
	if err != nil {
		t.Fatal(err)
	}
	goPkgs := func(r *sbom.Result) []sbom.Package {
		var out []sbom.Package
		for _, p := range r.Packages() {
			if p.Type == "go-module" {
				out = append(out, p)
			}
		}
		return out
	}
	whole := catalog(t, "whole", img, layers.Limits{})
	want := goPkgs(whole)
	if len(want) < 2 { // the main module or stdlib, and go-cmp
		t.Fatalf("captured whole, the Go binary lists %v", whole.Packages())
	}
	capped := catalog(t, "capped", img, layers.Limits{MaxCaptureBytes: int64(len(goBin) / 4)})
	if diff := cmp.Diff(want, goPkgs(capped)); diff != "" {
		t.Errorf("go modules above the cap (-whole +capped):\n%s", diff)
	}
	// The Go binary was read; the other ELF file above the cap was not.
	if diff := cmp.Diff([]string{"/usr/local/bin/c-app"}, capped.Summary.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

// goToolchain is an image with this machine's Go toolchain executables
// where a distribution's golang package puts them (/usr/lib/go-x), outside
// the paths captured by name, one of them above the capture cap, beside an
// ELF executable of another language; it skips when there is no toolchain.
func goToolchain(t *testing.T) v1.Image {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no Go toolchain")
	}
	out, err := exec.Command(goTool, "env", "GOROOT", "GOTOOLDIR").Output()
	if err != nil {
		t.Skip(err)
	}
	env := strings.Fields(string(out))
	if len(env) != 2 {
		t.Skipf("go env: %q", out)
	}
	root, tools := env[0], env[1]
	items := []it.Item{it.File("usr/bin/c-app", 0o755, append(it.ELF("/lib64/ld-linux-x86-64.so.2", 64), make([]byte, 1<<20)...))}
	// Linked without a build ID, as reproducible builds link: its head
	// shows nothing Go.
	if b := buildGo(t, "-ldflags=-buildid="); b != nil {
		items = append(items, it.File("opt/app/reproducible", 0o755, b))
	}
	// Position-independent: debug/buildinfo finds its build information
	// by its section's name.
	if b := buildGo(t, "-buildmode=pie"); b != nil {
		items = append(items, it.File("opt/app/pie", 0o755, b))
	}
	for src, dst := range map[string]string{
		filepath.Join(root, "bin", "go"):    "usr/lib/go-x/bin/go",
		filepath.Join(root, "bin", "gofmt"): "usr/lib/go-x/bin/gofmt",
		filepath.Join(tools, "asm"):         "usr/lib/go-x/pkg/tool/linux_amd64/asm",
		filepath.Join(tools, "vet"):         "usr/lib/go-x/pkg/tool/linux_amd64/vet",
		filepath.Join(tools, "compile"):     "usr/lib/go-x/pkg/tool/linux_amd64/compile", // above 16 MiB in recent releases
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Logf("skipping %s: %v", src, err)
			continue
		}
		items = append(items, it.File(dst, 0o755, b))
	}
	img, err := it.Image(v1.Config{}, it.Step("COPY . /", items...))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestGoToolchainCapture: of the Go executables of a toolchain outside the
// paths captured by name, what their build information needs is kept
// (layers.Partial) and their modules listed, while an ELF executable of
// another language is not captured.
func TestGoToolchainCapture(t *testing.T) {
	img := goToolchain(t)
	ctx := context.Background()
	fsys, err := layers.Scan(ctx, img, layers.ImageOptions{Options: layers.Options{Capture: sbom.Needs()}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fsys.Stat("/usr/bin/c-app"); err != nil || n.Captured() || n.Partial() != nil {
		t.Errorf("the C executable was captured (or is missing: %v)", err)
	}
	for _, p := range []string{"/usr/lib/go-x/bin/gofmt", "/usr/lib/go-x/pkg/tool/linux_amd64/vet", "/opt/app/reproducible", "/opt/app/pie"} {
		if n, err := fsys.Stat(p); err != nil || (!n.Captured() && n.Partial() == nil) {
			t.Errorf("%s was not captured (%v)", p, err)
		}
	}
	res, err := sbom.Catalog(ctx, sbom.Image{Reference: "gotoolchain", Image: img}, fsys, sbom.Options{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	mods := 0
	for _, p := range res.Packages() {
		if p.Type == "go-module" {
			mods++
		}
	}
	if mods < 2 {
		t.Errorf("%d go-module packages, want the toolchain's: %v", mods, res.Packages())
	}
	// The module both built programs link is found in each of them.
	found := map[string]bool{}
	for p := range res.Document.Artifacts.Packages.Enumerate() {
		if p.Name == "github.com/google/go-cmp" {
			for _, l := range p.Locations.ToSlice() {
				found[l.RealPath] = true
			}
		}
	}
	for _, p := range []string{"/opt/app/reproducible", "/opt/app/pie"} {
		if _, err := fsys.Stat(p); err == nil && !found[p] {
			t.Errorf("go-cmp not found in %s (found in %v)", p, found)
		}
	}
}

// symlinked is an image whose executables a binary classifier names are
// symlinks to files of other names, in the order dpkg's packages and image
// builders write them (the link sorts before its target): /usr/bin/gcc ->
// x86_64-linux-gnu-gcc-12 and /usr/bin/python3 -> python3.11 of this
// machine, when it has them.
func symlinked(t *testing.T) v1.Image {
	t.Helper()
	var items []it.Item
	for _, p := range []string{"/usr/bin/gcc", "/usr/bin/python3"} {
		real, err := filepath.EvalSymlinks(p)
		if err != nil || real == p || filepath.Dir(real) != filepath.Dir(p) {
			t.Logf("skipping %s: not a symlink in its directory (%v)", p, err)
			continue
		}
		b, err := os.ReadFile(real)
		if err != nil || len(b) > 16<<20 {
			t.Logf("skipping %s: unreadable or above 16 MiB (%v)", p, err)
			continue
		}
		items = append(items, it.Symlink(strings.TrimPrefix(p, "/"), filepath.Base(real)), it.File(strings.TrimPrefix(real, "/"), 0o755, b))
	}
	if len(items) == 0 {
		t.Skip("no symlinked executable on this machine")
	}
	img, err := it.Image(v1.Config{}, it.Step("COPY . /", items...))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
