package fetch

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Fuzz targets for everything that parses what a user or a hostile source
// names: platform strings, references (oci:DIR:TAG, oci-archive:FILE,
// docker-archive:FILE:REPO:TAG, registry references, bare paths) and the
// archives themselves. They never touch the network: registry references
// go to a transport that fails every request.

// noNetwork fails every request without sending it anywhere.
type noNetwork struct{}

func (noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("fuzz: no network (%s %s)", r.Method, r.URL.Host)
}

func fuzzOptions(extra ...Option) []Option {
	return append([]Option{WithKeychain(authn.NewMultiKeychain()), WithTransport(noNetwork{}), WithRetries(0), WithTimeout(time.Second)}, extra...)
}

// watchdog crashes the process, with every goroutine's stack, when the
// returned stop is not called within d: a fuzz input must never hang.
func watchdog(d time.Duration, what string) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(d):
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("%s: still running after %s\n%s", what, d, buf[:runtime.Stack(buf, true)]))
		}
	}()
	return func() { close(done) }
}

// checkFetchError: an *Error, one line, no control characters, naming ref.
func checkFetchError(t *testing.T, ref string, err error) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is a %T, not a *fetch.Error", err, err)
	}
	msg := err.Error()
	for _, r := range msg {
		if !unicode.IsPrint(r) {
			t.Fatalf("error has control character %q: %q", r, msg)
		}
	}
	display := safeRef(ref)
	if strings.TrimSpace(ref) == "" {
		display = strconv.Quote(ref)
	}
	if !strings.HasPrefix(msg, display) {
		t.Fatalf("error %q does not start with %q", msg, display)
	}
}

func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{"linux/amd64", "linux/arm/v7", "linux/arm64/v8", "windows/amd64", "linux", "linux/", "/amd64", "linux/amd64/v8/x", "Linux/AMD64", "linux/amd64\n", "a/b/c", "linux//v7", "", "linux/amd64 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("error %v is not ErrInvalidOption", err)
			}
			for _, r := range err.Error() {
				if !unicode.IsPrint(r) {
					t.Fatalf("error has control character %q", r)
				}
			}
			return
		}
		if got := formatPlatform(p); got != s {
			t.Fatalf("ParsePlatform(%q) formats back as %q", s, got)
		}
		if p.OS == "" || p.Architecture == "" || strings.Contains(p.OS+p.Architecture+p.Variant, "/") {
			t.Fatalf("ParsePlatform(%q) = %+v", s, p)
		}
	})
}

// fixtureDir writes, once per process, an OCI layout ("img", tagged "v1"),
// its oci-archive ("img.tar"), a docker-archive ("docker.tar", tagged
// example.com/app:1), a plain file and a directory that is no layout.
func fixtureDir(tb testing.TB, dir string) {
	tb.Helper()
	img, err := it.Image(v1.Config{User: "1000"}, it.Step("RUN x", it.Dir("bin", 0o755), it.Text("bin/a", "a")))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := layout.Write(filepath.Join(dir, "img"), empty.Index)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationRefName: "v1"})); err != nil {
		tb.Fatal(err)
	}
	writeFileTB(tb, filepath.Join(dir, "img.tar"), tarOfDir(tb, filepath.Join(dir, "img")))
	writeFileTB(tb, filepath.Join(dir, "docker.tar"), dockerSave(tb, img, "example.com/app:1"))
	writeFileTB(tb, filepath.Join(dir, "file.txt"), []byte("not an image\n"))
	if err := os.Mkdir(filepath.Join(dir, "notlayout"), 0o755); err != nil {
		tb.Fatal(err)
	}
}

func writeFileTB(tb testing.TB, p string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// tarOfDir returns a tar of the tree under dir.
func tarOfDir(tb testing.TB, dir string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := it.WriteTar(&buf, dir); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// dockerSave returns a legacy docker save archive of img (uncompressed
// layers under <n>/layer.tar, a symlinked duplicate, config, manifest.json).
func dockerSave(tb testing.TB, img v1.Image, tag string) []byte {
	tb.Helper()
	ls, err := img.Layers()
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var paths []string
	for i, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			tb.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		p := fmt.Sprintf("%d/layer.tar", i)
		tw.WriteHeader(&tar.Header{Name: p, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))})
		tw.Write(b)
		paths = append(paths, p)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		tb.Fatal(err)
	}
	m, _ := json.Marshal([]dockerEntry{{Config: "config.json", RepoTags: []string{tag}, Layers: paths}})
	for _, e := range []struct {
		name string
		b    []byte
	}{{"config.json", cfg}, {"manifest.json", m}} {
		tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.b))})
		tw.Write(e.b)
	}
	tw.WriteHeader(&tar.Header{Name: "dup/layer.tar", Typeflag: tar.TypeSymlink, Linkname: "../0/layer.tar"})
	tw.Close()
	return buf.Bytes()
}

// readTargets reads each target's config and indexes its layers.
func readTargets(t *testing.T, ref string, res *Result) {
	t.Helper()
	for _, tg := range res.Targets {
		if tg.Reference != ref {
			t.Errorf("target reference %q, want %q", tg.Reference, ref)
		}
		if d, err := tg.Image.Digest(); err != nil || d != tg.Digest {
			t.Errorf("image digest %v (%v), target says %v", d, err, tg.Digest)
		}
		if _, err := tg.Image.ConfigFile(); err != nil {
			continue
		}
		ls, err := tg.Image.Layers()
		if err != nil {
			continue
		}
		for _, l := range ls {
			_, _ = layers.Index(context.Background(), l, layers.Options{Limits: layers.Limits{MaxLayerBytes: 16 << 20, MaxEntries: 10_000}})
		}
	}
}

func FuzzOpenReference(f *testing.F) {
	dir := f.TempDir()
	fixtureDir(f, dir)
	f.Chdir(dir)
	for _, s := range []string{
		"oci:img", "oci:img:v1", "oci:img:nope", "oci:img@sha256:" + strings.Repeat("0", 64), "oci:img:", "oci:", "img", "img:v1",
		"oci-archive:img.tar", "oci-archive:img.tar:v1", "oci-archive:img", "img.tar", "oci:img.tar",
		"docker-archive:docker.tar", "docker-archive:docker.tar:example.com/app:1", "docker-archive:docker.tar:app:2", "docker-archive:docker.tar:Bad Tag",
		"docker.tar", "file.txt", "notlayout", "oci:notlayout", "oci:nothing:here:at:all",
		"alpine", "alpine:3.20", "registry.example.com:5000/team/app:1.2", "docker://alpine", "app@sha256:abc",
		"Library/Alpine", "", " ", "docker-daemon:alpine", "\x1b[31m", "a\nb", "localhost:5000/a/b/c/d/e/f:tag",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		rest := ref
		for _, p := range []string{prefixOCI, prefixOCIArchive, prefixDockerArchive, prefixDocker} {
			rest = strings.TrimPrefix(rest, p)
		}
		// Stay inside the fixture directory.
		if strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "~") || strings.Contains(rest, "..") || strings.ContainsRune(rest, 0) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		defer watchdog(10*time.Second, "FuzzOpenReference")()
		start := time.Now()
		res, err := Open(ctx, ref, fuzzOptions()...)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Open(%q) took %s", ref, d)
		}
		if err != nil {
			checkFetchError(t, ref, err)
			return
		}
		defer res.Close()
		if len(res.Targets) == 0 {
			t.Fatalf("Open(%q): no targets and no error", ref)
		}
		readTargets(t, ref, res)
	})
}

func FuzzOpenArchive(f *testing.F) {
	img, err := it.Image(v1.Config{User: "1000"}, it.Step("RUN x", it.Dir("bin", 0o755), it.Text("bin/a", "a"), it.Symlink("bin/b", "a")))
	if err != nil {
		f.Fatal(err)
	}
	oci := tarOfDir(f, it.WriteLayout(f, img))
	docker := dockerSave(f, img, "example.com/app:1")
	for _, s := range [][]byte{oci, docker, oci[:len(oci)/2], docker[:len(docker)-1024], []byte("not a tar"), nil} {
		for kind := uint8(0); kind < 3; kind++ {
			f.Add(s, kind)
		}
	}
	prefixes := []string{"", prefixOCIArchive, prefixDockerArchive}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		p := filepath.Join(t.TempDir(), "a.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ref := prefixes[int(kind)%len(prefixes)] + p
		defer watchdog(10*time.Second, "FuzzOpenArchive")()
		start := time.Now()
		res, err := Open(context.Background(), ref, fuzzOptions()...)
		if err != nil {
			checkFetchError(t, ref, err)
			return
		}
		readTargets(t, ref, res)
		if err := res.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %s", d)
		}
	})
}
