package fetch

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// testOptions keeps tests fast and hermetic: anonymous auth unless asked,
// millisecond backoff, short timeouts.
func testOptions(extra ...Option) []Option {
	return append([]Option{
		WithKeychain(authn.NewMultiKeychain()),
		WithBackoff(time.Millisecond, 10*time.Millisecond),
		WithTimeout(5 * time.Second),
	}, extra...)
}

// newRegistry starts ggcr's in-process registry, optionally wrapped, and
// returns its host:port.
func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// randomImage builds an image with n random layers and the given platform
// in its config.
func randomImage(t *testing.T, n int, p v1.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(512, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// multiIndex builds an index with one image per platform, plus a BuildKit
// style attestation manifest that must be skipped.
func multiIndex(t *testing.T, platforms ...v1.Platform) (v1.ImageIndex, map[string]v1.Image) {
	t.Helper()
	var adds []mutate.IndexAddendum
	imgs := map[string]v1.Image{}
	for _, p := range platforms {
		img := randomImage(t, 1, p)
		imgs[formatPlatform(&p)] = img
		pp := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &pp}})
	}
	att, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	adds = append(adds, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
		Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
		Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
	}})
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
	return idx, imgs
}

func pushImage(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

func pushIndex(t *testing.T, ref string, idx v1.ImageIndex) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
}

func mustDigest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// summary is the comparable part of a Target.
type summary struct {
	Source      Source
	Digest      string
	IndexDigest string
	Platform    string
	Note        string
}

func summarize(ts []Target) []summary {
	var out []summary
	for _, t := range ts {
		s := summary{Source: t.Source, Digest: t.Digest.String(), Platform: formatPlatform(t.Platform), Note: t.PlatformNote}
		if t.IndexDigest != nil {
			s.IndexDigest = t.IndexDigest.String()
		}
		out = append(out, s)
	}
	return out
}

// openOK opens ref and registers Close.
func openOK(t *testing.T, ref string, opts ...Option) *Result {
	t.Helper()
	res, err := Open(context.Background(), ref, testOptions(opts...)...)
	if err != nil {
		t.Fatalf("Open(%q): %v", ref, err)
	}
	t.Cleanup(func() {
		if err := res.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return res
}

// checkErr asserts err wraps want, is one line, names ref, and contains
// every fragment.
func checkErr(t *testing.T, err error, ref string, want error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %v", err, want)
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	if ref == "" {
		ref = `""`
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, ref+": ") {
		t.Errorf("error %q does not start with the reference %q", msg, ref)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q lacks %q", msg, f)
		}
	}
}

// layerFacts reads every layer of img: DiffIDs and uncompressed bytes.
type layerFacts struct {
	DiffIDs []string
	Bytes   [][]byte
}

func readLayers(t *testing.T, img v1.Image) layerFacts {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var f layerFacts
	for _, l := range layers {
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Compressed must also read through, verified.
		crc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, crc); err != nil {
			t.Fatalf("reading compressed layer %s: %v", d, err)
		}
		crc.Close()
		f.DiffIDs = append(f.DiffIDs, d.String())
		f.Bytes = append(f.Bytes, b)
	}
	return f
}

// tarDir writes the tree under dir into a tar file at dst.
func tarDir(t *testing.T, dir, dst string) {
	t.Helper()
	if err := it.TarDir(dir, dst); err != nil {
		t.Fatal(err)
	}
}

// tarEntry is one member written by writeTar.
type tarEntry struct {
	Name     string
	Body     []byte
	Linkname string // makes a symlink
}

func writeTar(t *testing.T, dst string, entries []tarEntry) {
	t.Helper()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Body)), Typeflag: tar.TypeReg}
		if e.Linkname != "" {
			hdr = &tar.Header{Name: e.Name, Mode: 0o777, Linkname: e.Linkname, Typeflag: tar.TypeSymlink}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.Linkname == "" {
			if _, err := tw.Write(e.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
