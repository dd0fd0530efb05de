package fetch

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// bigConfigImage is an image whose config holds enough history steps to
// pass the config size limit.
func bigConfigImage(t *testing.T) v1.Image {
	t.Helper()
	cfg := &v1.ConfigFile{OS: "linux", Architecture: "amd64"}
	step := "/bin/sh -c " + strings.Repeat("x", 200)
	for len(cfg.History)*len(step) <= maxConfigSize {
		cfg.History = append(cfg.History, v1.History{CreatedBy: step, EmptyLayer: true})
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestConfigSizeLimitEverySource(t *testing.T) {
	// Whatever the source, a config over the limit is refused before it
	// is read, with an error naming the limit.
	img := bigConfigImage(t)
	dir := t.TempDir()
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(dir, "docker.tar")
	if err := tarball.WriteToFile(docker, name.MustParseReference("example.com/big:1"), img); err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t, nil)
	pushImage(t, reg+"/big:1", img)
	for _, ref := range []string{"oci:" + filepath.Join(dir, "layout"), "docker-archive:" + docker, reg + "/big:1"} {
		_, err := Open(context.Background(), ref, testOptions(WithInsecure())...)
		checkErr(t, err, ref, ErrUnsupported, "image config size limit", fmt.Sprint(maxConfigSize))
	}
}

func TestManifestSizeLimitRegistry(t *testing.T) {
	// go-containerregistry reads registry manifests of up to 100 MiB; the
	// image is refused past maxManifestSize.
	cfg := &v1.ConfigFile{OS: "linux", Architecture: "amd64"}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.Annotations(img, map[string]string{"pad": strings.Repeat("p", maxManifestSize)}).(v1.Image)
	reg := newRegistry(t, nil)
	pushImage(t, reg+"/fat:1", img)
	_, err = Open(context.Background(), reg+"/fat:1", testOptions(WithInsecure())...)
	checkErr(t, err, reg+"/fat:1", ErrUnsupported, "manifest size limit")
}

func TestRegistryLayersDescribedOnce(t *testing.T) {
	// Each layer of a registry image is described from the manifest and
	// config read once, and fetched by digest through one connection
	// setup: no request is repeated per layer but the layer's own blob.
	var mu sync.Mutex
	counts := map[string]int{}
	reg := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kind := r.URL.Path
			switch {
			case strings.Contains(kind, "/blobs/"):
				kind = "blob"
			case strings.Contains(kind, "/manifests/"):
				kind = "manifest"
			}
			mu.Lock()
			counts[r.Method+" "+kind]++
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	const n = 40
	img := randomImage(t, n, v1.Platform{OS: "linux", Architecture: "amd64"})
	pushImage(t, reg+"/many:1", img)
	mu.Lock()
	clear(counts)
	mu.Unlock()
	if err := readAll(context.Background(), reg+"/many:1", testOptions(WithInsecure())); err != nil {
		t.Fatal(err)
	}
	res := openOK(t, reg+"/many:1", testOptions(WithInsecure())...)
	ls, err := res.Targets[0].Image.Layers()
	if err != nil || len(ls) != n {
		t.Fatalf("%d layers, %v", len(ls), err)
	}
	want := readLayers(t, img)
	for i, l := range ls {
		if d, err := l.DiffID(); err != nil || d.String() != want.DiffIDs[i] {
			t.Errorf("layer %d: diffID %s (%v), want %s", i, d, err, want.DiffIDs[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("requests: %v", counts)
	// The first readAll: one manifest, the config and n layers.
	if counts["GET blob"] != n+1+1 || counts["GET manifest"] > 2 || counts["GET /v2/"] > 4 {
		t.Errorf("requests for %d layers: %v", n, counts)
	}
}
