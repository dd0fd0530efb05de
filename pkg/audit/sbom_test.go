package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// countingImage counts how often each layer blob is opened.
type countingImage struct {
	v1.Image
	opens *atomic.Int64
}

func (c countingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	for i := range ls {
		ls[i] = countingLayer{ls[i], c.opens}
	}
	return ls, err
}

type countingLayer struct {
	v1.Layer
	opens *atomic.Int64
}

func (c countingLayer) Compressed() (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Layer.Compressed()
}

func (c countingLayer) Uncompressed() (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Layer.Uncompressed()
}

func exampleTarget(t *testing.T, name string, opens *atomic.Int64) fetch.Target {
	t.Helper()
	p, err := layout.FromPath(filepath.Join("..", "..", "testdata", "images", name))
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
	return fetch.Target{Reference: name, Source: fetch.SourceOCILayout, Digest: m.Manifests[0].Digest, Image: countingImage{img, opens}}
}

// TestSBOMOnePass audits an image with its packages catalogued: each layer
// blob is opened once, the report carries the summary, tool findings name
// the package that installed their file, and the full document goes to
// OnSBOM.
func TestSBOMOnePass(t *testing.T) {
	var opens atomic.Int64
	tgt := exampleTarget(t, "demo", &opens)
	o := audit.DefaultOptions()
	o.SBOM = true
	var mu sync.Mutex
	var docs []string
	o.OnSBOM = func(img report.Image, res *sbom.Result) error {
		var buf bytes.Buffer
		if err := sbom.Encode(&buf, res, sbom.FormatCycloneDXJSON); err != nil {
			return err
		}
		mu.Lock()
		docs = append(docs, img.Reference+" "+buf.String())
		mu.Unlock()
		return nil
	}
	img, err := audit.Target(context.Background(), tgt, o)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := tgt.Image.Layers()
	if got := opens.Load(); got != int64(len(layers)) {
		t.Errorf("layer blobs opened %d times for %d layers", got, len(layers))
	}
	want := &report.SBOM{Distro: "Debian GNU/Linux 12 (bookworm)", DistroID: "debian", DistroVersion: "12", Packages: 10, ByType: map[string]int{"deb": 10}}
	if diff := cmp.Diff(want, img.SBOM); diff != "" {
		t.Errorf("sbom (-want +got):\n%s", diff)
	}
	owned := map[string]string{}
	for _, f := range img.Findings {
		if f.Package != nil {
			owned[f.ID+" "+f.Path] = f.Package.Name + " " + f.Package.Remove
			switch {
			case f.Package.Essential:
				// Essential packages get no removal command: it would be
				// unsafe advice (dpkg refuses, apt breaks the system).
				if f.Package.Remove != "" || strings.Contains(f.Remediation, "purge") || strings.Count(f.Remediation, "marks it essential") != 1 {
					t.Errorf("%s %s: essential %s: remove %q, remediation %q", f.ID, f.Path, f.Package.Name, f.Package.Remove, f.Remediation)
				}
			case !strings.Contains(f.Remediation, "`"+f.Package.Remove+"`"):
				t.Errorf("%s %s: remediation %q does not say how to remove %s", f.ID, f.Path, f.Remediation, f.Package.Name)
			}
		}
	}
	for k, v := range map[string]string{
		"IA-NETWORK-TOOL /usr/bin/curl": "curl apt-get purge -y curl",
		"IA-SHELL /usr/bin/bash":        "bash ",                    // Essential: yes
		"IA-SETUID /usr/bin/su":         "login ",                   // Essential: yes
		"IA-PKG-MANAGER /usr/bin/dpkg":  "dpkg ",                    // Essential: yes
		"IA-PKG-MANAGER /usr/bin/apt":   "apt apt-get purge -y apt", // Priority: important, as in Debian 12
	} {
		if owned[k] != v {
			t.Errorf("%s: package %q, want %q", k, owned[k], v)
		}
	}
	if len(docs) != 1 || !strings.HasPrefix(docs[0], "demo {") || !strings.Contains(docs[0], `"name":"curl"`) {
		t.Errorf("OnSBOM got %d documents: %.200q", len(docs), docs)
	}
}

func TestSBOMOff(t *testing.T) {
	var opens atomic.Int64
	img, err := audit.Target(context.Background(), exampleTarget(t, "demo", &opens), audit.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if img.SBOM != nil {
		t.Errorf("SBOM without asking: %+v", img.SBOM)
	}
	for _, f := range img.Findings {
		if f.Package != nil {
			t.Errorf("%s %s names a package without an SBOM", f.ID, f.Path)
		}
	}
}

// catalogueCounter counts the catalogues a cache serves.
type catalogueCounter struct {
	*layers.DiskCache
	hits atomic.Int64
}

func (c *catalogueCounter) GetBlob(ctx context.Context, key string) ([]byte, error) {
	b, err := c.DiskCache.GetBlob(ctx, key)
	if b != nil {
		c.hits.Add(1)
	}
	return b, err
}

// TestSBOMCached: a re-scan with the layer cache restores the catalogue
// instead of cataloguing again and reports exactly the same image (summary,
// packages owning findings, and full documents with the same packages); a
// cache entry that cannot be read is a miss.
func TestSBOMCached(t *testing.T) {
	dc, err := layers.NewDiskCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	cache := &catalogueCounter{DiskCache: dc}
	o := audit.DefaultOptions()
	o.SBOM = true
	o.Cache = cache
	var pkgs []string
	o.OnSBOM = func(_ report.Image, res *sbom.Result) error {
		for _, f := range sbom.Formats() {
			if err := sbom.Encode(io.Discard, res, f); err != nil {
				return err
			}
		}
		pkgs = append(pkgs, fmt.Sprint(res.Packages()))
		return nil
	}
	run := func() report.Image {
		var opens atomic.Int64
		img, err := audit.Target(context.Background(), exampleTarget(t, "demo", &opens), o)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	cold := run()
	if cache.hits.Load() != 0 {
		t.Fatal("a catalogue was served from an empty cache")
	}
	warm := run()
	if cache.hits.Load() != 1 {
		t.Fatalf("the re-scan restored %d catalogues, want 1", cache.hits.Load())
	}
	if diff := cmp.Diff(cold, warm); diff != "" {
		t.Errorf("restored report differs (-cold +warm):\n%s", diff)
	}
	if len(pkgs) != 2 || pkgs[0] != pkgs[1] || !strings.Contains(pkgs[0], "curl") {
		t.Errorf("packages cold and warm: %q", pkgs)
	}

	// Spoil the catalogue entry: the next scan catalogues again.
	spoiled := 0
	des, _ := os.ReadDir(dc.Dir())
	for _, de := range des {
		if strings.HasPrefix(de.Name(), "sbom-") {
			key := strings.TrimSuffix(de.Name(), ".idx")
			if err := dc.PutBlob(context.Background(), key, []byte("not a catalogue")); err != nil {
				t.Fatal(err)
			}
			spoiled++
		}
	}
	if spoiled != 1 {
		t.Fatalf("%d catalogue entries in the cache, want 1", spoiled)
	}
	if diff := cmp.Diff(cold, run()); diff != "" {
		t.Errorf("report after a spoiled cache entry differs (-cold +got):\n%s", diff)
	}
}
