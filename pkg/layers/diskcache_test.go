package layers_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// gatedCache is a DiskCache whose Get of an entry it holds waits until
// open is closed: it shows which layers a scan reads before it has decoded
// a cached one.
type gatedCache struct {
	*layers.DiskCache
	open <-chan struct{}
}

func (g gatedCache) Get(ctx context.Context, key string) (*layers.LayerIndex, error) {
	if !g.Has(ctx, key) {
		return nil, nil
	}
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	return g.DiskCache.Get(ctx, key)
}

// TestScanReadsMissesFirst: a rebuilt image's new top layer is read at
// once, not after the cached layers under it are decoded (the cache says
// it lacks the layer before any entry is read), and the squash is the
// same as without a cache.
func TestScanReadsMissesFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := it.Step("base", it.Dir("etc", 0o755), it.Text("etc/passwd", "root:x:0:0::/:/bin/sh\n"))
	mid := it.Step("mid", it.Dir("usr", 0o755), it.File("usr/bin", 0o755, it.ELF("", 10)))
	old, err := it.Image(v1.Config{}, base, mid, it.Step("app", it.Text("app", "old")))
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := it.Image(v1.Config{}, base, mid, it.Step("app", it.Text("app", "new"), it.Whiteout("etc/passwd")))
	if err != nil {
		t.Fatal(err)
	}
	want, err := layers.Scan(ctx, rebuilt, layers.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, memory := range []bool{false, true} {
		disk, err := layers.NewDiskCache(t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := layers.Scan(ctx, old, layers.ImageOptions{Cache: disk}); err != nil {
			t.Fatal(err)
		}
		open := make(chan struct{})
		var once sync.Once
		var order []string
		var mu sync.Mutex
		opts := layers.ImageOptions{Concurrency: 1, Cache: gatedCache{disk, open}}
		if memory {
			opts.Cache = layers.NewMemoryCache(opts.Cache, 1000)
		}
		opts.OnLayer = func(i int, _ *layers.LayerIndex, cached bool) {
			mu.Lock()
			order = append(order, fmt.Sprintf("%d %t", i, cached))
			mu.Unlock()
			if !cached {
				once.Do(func() { close(open) })
			}
		}
		got, err := layers.Scan(ctx, rebuilt, opts)
		if err != nil {
			t.Fatalf("%T: %v (layers done: %q)", opts.Cache, err, order)
		}
		if len(order) != 3 || order[0] != "2 false" {
			t.Errorf("%T: layers done in the order %q, want the uncached top layer first", opts.Cache, order)
		}
		if !reflect.DeepEqual(tree(got), tree(want)) || got.Len() != want.Len() {
			t.Errorf("%T: tree %v, want %v", opts.Cache, tree(got), tree(want))
		}
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

// richIndex uses every field of a LayerIndex, strings repeated across
// fields as real indexes repeat them.
func richIndex() *layers.LayerIndex {
	return &layers.LayerIndex{
		Digest:           v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)},
		DiffID:           v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)},
		CompressedSize:   1234,
		UncompressedSize: 1 << 40,
		Entries: []layers.Entry{
			{Path: "/", Type: layers.TypeDir, Mode: 0o755},
			{Path: "/usr/bin/env", Type: layers.TypeRegular, Mode: 0o755 | fs.ModeSetuid, UID: -1, GID: 1 << 40, Size: 99,
				Xattrs:  map[string]string{"security.capability": "\x01\x00\x00\x02", "user.x": ""},
				Content: layers.Content{Kind: layers.ContentScript, Interpreter: "/usr/bin/env", Extra: &layers.ContentExtra{ScriptArg: "python3"}}},
			{Path: "/root/.ssh/id_rsa", Type: layers.TypeRegular, Mode: 0o600, Size: 3000,
				Content: layers.Content{Extra: &layers.ContentExtra{PrivateKey: "RSA PRIVATE KEY"}}},
			{Path: "/bin/sh", Type: layers.TypeSymlink, Mode: 0o777, Linkname: "/usr/bin/env"},
			{Path: "/usr/bin/python3", Type: layers.TypeHardlink, Linkname: "/usr/bin/env"},
			{Path: "/etc/gone", Type: layers.TypeWhiteout},
			{Path: "/opt", Type: layers.TypeOpaque},
			{Path: "/dev/x", Type: layers.TypeCharDevice, Mode: 0o666, Content: layers.Content{Extra: &layers.ContentExtra{}}},
		},
		Files:    map[string][]byte{"/etc/passwd": []byte("root:x:0:0::/:/bin/sh\n"), "/etc/empty": {}},
		Partials: map[string]*layers.Partial{"/usr/bin/app": {Size: 1 << 30, Ranges: []layers.Range{{Off: 0, Data: []byte("\x7fELF")}, {Off: 1 << 29, Data: []byte{}}}}},
		Anomalies: []layers.Anomaly{
			{Kind: layers.AnomalyEscapingLink, Path: "/bin/sh", Detail: "../../../x", Layer: -1},
			{Kind: layers.AnomalyDuplicate, Path: "/usr/bin/env", Layer: -1},
		},
	}
}

// TestCacheEntryRoundTrip: every field comes back as it was, and every
// prefix of the encoding, or the encoding with bytes after it, is an error.
func TestCacheEntryRoundTrip(t *testing.T) {
	want := richIndex()
	var buf bytes.Buffer
	if err := layers.EncodeCacheEntry(&buf, "sha256-"+want.DiffID.Hex+"-0123", want, nil); err != nil {
		t.Fatal(err)
	}
	key, got, blob, err := layers.DecodeCacheEntry(bytes.NewReader(buf.Bytes()))
	if err != nil || key != "sha256-"+want.DiffID.Hex+"-0123" || blob != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %q %+v %q %v,\nwant %+v", key, got, blob, err, want)
	}
	for n := range buf.Len() {
		if _, _, _, err := layers.DecodeCacheEntry(bytes.NewReader(buf.Bytes()[:n])); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, buf.Len())
		}
	}
	if _, _, _, err := layers.DecodeCacheEntry(bytes.NewReader(append(buf.Bytes(), 0))); err == nil {
		t.Error("an entry with a byte after it decoded")
	}
	if err := layers.EncodeCacheEntry(&buf, "k", nil, nil); err == nil {
		t.Error("an entry of neither an index nor a blob encoded")
	}
	if err := layers.EncodeCacheEntry(&buf, "k", want, []byte("x")); err == nil {
		t.Error("an entry of both an index and a blob encoded")
	}
}

// TestDiskCacheOldEntriesMiss: an entry an earlier version wrote (gob),
// an entry of another key, and an index of another diffID than its key
// names are misses, and removed.
func TestDiskCacheOldEntriesMiss(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cache, err := layers.NewDiskCache(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	idx := richIndex()
	key := layers.CacheKey(idx.DiffID, layers.Options{})
	// The earlier format: gob of {Key, Index, Blob}.
	var old bytes.Buffer
	if err := gob.NewEncoder(&old).Encode(struct {
		Key   string
		Index *layers.LayerIndex
		Blob  []byte
	}{Key: key, Index: idx}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, key+".idx")
	if err := os.WriteFile(p, old.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if !cache.Has(ctx, key) {
		t.Error("Has: false for a file that is there")
	}
	if got, err := cache.Get(ctx, key); got != nil || err != nil {
		t.Errorf("gob entry: %+v, %v; want a miss", got, err)
	}
	if _, err := os.Stat(p); err == nil || cache.Has(ctx, key) {
		t.Error("gob entry not removed")
	}
	// The right encoding, under another key.
	var buf bytes.Buffer
	if err := layers.EncodeCacheEntry(&buf, "other", idx, nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, buf.Bytes(), 0o600)
	if got, _ := cache.Get(ctx, key); got != nil {
		t.Error("an entry of another key was a hit")
	}
	// Under its key, but another diffID's index.
	other := richIndex()
	other.DiffID.Hex = strings.Repeat("ef", 32)
	if err := cache.Put(ctx, key, other); err != nil {
		t.Fatal(err)
	}
	if got, _ := cache.Get(ctx, key); got != nil {
		t.Error("an index of another diffID was a hit")
	}
	if err := cache.Put(ctx, key, idx); err != nil {
		t.Fatal(err)
	}
	if got, err := cache.Get(ctx, key); err != nil || !reflect.DeepEqual(got, idx) {
		t.Errorf("Get = %+v, %v", got, err)
	}
	// A blob is not an index, nor removed by asking for one.
	if err := cache.PutBlob(ctx, "blob", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, _ := cache.Get(ctx, "blob"); got != nil {
		t.Error("a blob read as an index")
	}
	if b, _ := cache.GetBlob(ctx, "blob"); string(b) != "x" {
		t.Errorf("GetBlob = %q", b)
	}
	if cache.Has(ctx, "missing") {
		t.Error("Has: true for a key never stored")
	}
}

// FuzzDecodeCacheEntry: bytes from a shared cache are hostile; decoding
// them never panics, and what decodes encodes again and decodes the same.
func FuzzDecodeCacheEntry(f *testing.F) {
	for _, idx := range []*layers.LayerIndex{
		{Entries: []layers.Entry{{Path: "/etc/passwd"}}, Files: map[string][]byte{"/etc/passwd": []byte("root")}},
		richIndex(),
	} {
		var buf bytes.Buffer
		if err := layers.EncodeCacheEntry(&buf, "k", idx, nil); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	var buf bytes.Buffer
	if err := layers.EncodeCacheEntry(&buf, "k", nil, []byte("blob")); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add([]byte("\x07\xff\x82\x01\x00"))
	f.Add([]byte("IACE\x01\x01\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, idx, blob, err := layers.DecodeCacheEntry(bytes.NewReader(b))
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := layers.EncodeCacheEntry(&again, key, idx, blob); err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		key2, idx2, blob2, err := layers.DecodeCacheEntry(bytes.NewReader(again.Bytes()))
		if err != nil || key2 != key || !reflect.DeepEqual(idx2, idx) || !bytes.Equal(blob2, blob) {
			t.Fatalf("re-encoded entry decodes differently: %v", err)
		}
	})
}
