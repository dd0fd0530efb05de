package layers_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

func TestDiskCacheSkipsBlobReads(t *testing.T) {
	dir := t.TempDir()
	cache, err := layers.NewDiskCache(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	img, err := it.Image(v1.Config{},
		it.Step("base", it.Dir("etc", 0o755), it.Text("etc/passwd", "root:x:0:0::/:/bin/sh\n")),
		it.Step("app", it.File("app", 0o755, it.ELF("", 10))),
	)
	if err != nil {
		t.Fatal(err)
	}
	opts := layers.ImageOptions{Options: layers.Options{Capture: []string{"/etc/passwd"}}, Cache: cache}
	var hits atomic.Int64
	opts.OnLayer = func(_ int, _ *layers.LayerIndex, cached bool) {
		if cached {
			hits.Add(1)
		}
	}
	cold, err := layers.Scan(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 0 {
		t.Fatalf("cold scan had %d cache hits", hits.Load())
	}
	warm, err := layers.Scan(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 {
		t.Fatalf("warm scan had %d cache hits, want 2", hits.Load())
	}
	if cold.Len() != warm.Len() || tree(cold)[0] != tree(warm)[0] {
		t.Errorf("warm tree %v != cold %v", tree(warm), tree(cold))
	}
	if b, err := warm.ReadFile("/etc/passwd"); err != nil || len(b) == 0 {
		t.Errorf("captured file lost in cache: %q %v", b, err)
	}
	// Other capture options mean another key: a miss.
	opts.Capture = nil
	hits.Store(0)
	if _, err := layers.Scan(context.Background(), img, opts); err != nil || hits.Load() != 0 {
		t.Errorf("different options hit the cache (%d hits, %v)", hits.Load(), err)
	}
	// A damaged entry is a miss, not an error.
	files, _ := filepath.Glob(filepath.Join(dir, "*.idx"))
	for _, f := range files {
		os.WriteFile(f, []byte("garbage"), 0o600)
	}
	opts.Capture = []string{"/etc/passwd"}
	if _, err := layers.Scan(context.Background(), img, opts); err != nil {
		t.Errorf("damaged cache: %v", err)
	}
	n, _, _ := cache.Stats()
	if removed, err := cache.Clean(); err != nil || removed != n {
		t.Errorf("Clean removed %d of %d: %v", removed, n, err)
	}
}

func TestDiskCachePrunes(t *testing.T) {
	ctx := context.Background()
	big := &layers.LayerIndex{Files: map[string][]byte{"/x": make([]byte, 600)}}
	probe, _ := layers.NewDiskCache(t.TempDir(), 0)
	probe.Put(ctx, "a", big)
	_, one, _ := probe.Stats()
	limit := 2*one + one/2
	cache, err := layers.NewDiskCache(t.TempDir(), limit)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := cache.Put(ctx, k, big); err != nil {
			t.Fatal(err)
		}
	}
	n, size, _ := cache.Stats()
	if size > limit || n != 2 {
		t.Errorf("after prune: %d entries, %d bytes", n, size)
	}
	if idx, _ := cache.Get(ctx, "c"); idx == nil {
		t.Error("newest entry was evicted")
	}
}
