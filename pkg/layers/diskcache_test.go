package layers_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
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

// TestCacheEntryEncoding: what EncodeCacheEntry writes, DecodeCacheEntry
// reads back whole; anything cut short or foreign is an error.
func TestCacheEntryEncoding(t *testing.T) {
	img, err := it.Image(v1.Config{}, it.Step("base", it.Dir("etc", 0o755), it.Text("etc/passwd", "root:x:0:0::/:/bin/sh\n")))
	if err != nil {
		t.Fatal(err)
	}
	lo := layers.Options{Capture: []string{"/etc/passwd"}}
	idx, err := layers.IndexImage(context.Background(), img, layers.ImageOptions{Options: lo})
	if err != nil {
		t.Fatal(err)
	}
	key := layers.CacheKey(idx[0].DiffID, lo)
	if d, ok := layers.KeyDiffID(key); !ok || d != idx[0].DiffID {
		t.Errorf("KeyDiffID(%q) = %v, %t", key, d, ok)
	}
	for _, k := range []string{"", "sbom-0123", "sha256-zz-0", "a-b-c-d"} {
		if _, ok := layers.KeyDiffID(k); ok {
			t.Errorf("KeyDiffID(%q) succeeded", k)
		}
	}
	var buf bytes.Buffer
	if err := layers.EncodeCacheEntry(&buf, key, idx[0], nil); err != nil {
		t.Fatal(err)
	}
	k, got, blob, err := layers.DecodeCacheEntry(bytes.NewReader(buf.Bytes()))
	if err != nil || k != key || blob != nil || !reflect.DeepEqual(got, idx[0]) {
		t.Fatalf("decoded %q %+v %q %v", k, got, blob, err)
	}
	for n := range buf.Len() {
		if _, _, _, err := layers.DecodeCacheEntry(bytes.NewReader(buf.Bytes()[:n])); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, buf.Len())
		}
	}
	buf.Reset()
	if err := layers.EncodeCacheEntry(&buf, "k", nil, []byte("bytes")); err != nil {
		t.Fatal(err)
	}
	if k, got, blob, err := layers.DecodeCacheEntry(&buf); err != nil || k != "k" || got != nil || string(blob) != "bytes" {
		t.Fatalf("blob entry: %q %v %q %v", k, got, blob, err)
	}
}

// FuzzDecodeCacheEntry: bytes from a shared cache are hostile; decoding
// them never panics.
func FuzzDecodeCacheEntry(f *testing.F) {
	var buf bytes.Buffer
	idx := &layers.LayerIndex{Entries: []layers.Entry{{Path: "/etc/passwd"}}, Files: map[string][]byte{"/etc/passwd": []byte("root")}}
	if err := layers.EncodeCacheEntry(&buf, "k", idx, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add([]byte("\x07\xff\x82\x01\x00"))
	f.Fuzz(func(_ *testing.T, b []byte) {
		_, _, _, _ = layers.DecodeCacheEntry(bytes.NewReader(b))
	})
}
