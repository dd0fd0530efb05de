package regcache

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// blobStore keeps blobs as a distribution registry does: served without
// being checked against their digest, and never replaced by an upload of
// the same digest. Tamper changes what it serves.
type blobStore struct {
	mu sync.Mutex
	m  map[v1.Hash][]byte
}

func (s *blobStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[h]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(b)), nil
}

func (s *blobStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[h]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *blobStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; !ok {
		s.m[h] = b
	}
	return nil
}

// tamper flips a byte in the middle of blob h, keeping its size.
func (s *blobStore) tamper(t *testing.T, h v1.Hash) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append([]byte(nil), s.m[h]...)
	if len(b) == 0 {
		t.Fatalf("no blob %s to tamper with", h)
	}
	b[len(b)/2] ^= 0xff
	s.m[h] = b
}

type testRegistry struct {
	host  string
	blobs *blobStore
	reqs  atomic.Int64
}

// startRegistry runs go-containerregistry's registry in process.
func startRegistry(t testing.TB) *testRegistry {
	t.Helper()
	r := &testRegistry{blobs: &blobStore{m: map[v1.Hash][]byte{}}}
	h := registry.New(registry.WithBlobHandler(r.blobs), registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.reqs.Add(1)
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func open(t testing.TB, host string, o Options) *Cache {
	t.Helper()
	o.Fetch = append([]fetch.Option{fetch.WithInsecure(), fetch.WithRetries(0)}, o.Fetch...)
	c, err := Open(context.Background(), host+"/imgaudit/cache", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// testIndexes indexes the layers of a small image with a captured file.
func testIndexes(t testing.TB, files int) ([]*layers.LayerIndex, layers.Options) {
	t.Helper()
	items := []it.Item{it.Dir("etc", 0o755), it.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), it.Text("etc/group", "root:x:0:\n")}
	for i := range files {
		items = append(items, it.Text("usr/share/doc/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"/"+itoa(i), "x"))
	}
	img, err := it.Image(v1.Config{},
		it.Step("base", items...),
		it.Step("app", it.File("app", 0o755, it.ELF("", 10))),
	)
	if err != nil {
		t.Fatal(err)
	}
	lo := layers.Options{Capture: []string{"/etc/passwd", "/etc/group"}}
	idx, err := layers.IndexImage(context.Background(), img, layers.ImageOptions{Options: lo})
	if err != nil {
		t.Fatal(err)
	}
	return idx, lo
}

func itoa(i int) string {
	return string([]byte{byte('0' + i/1000%10), byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)})
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t)
	c := open(t, reg.host, Options{})
	idx, lo := testIndexes(t, 20)
	key := layers.CacheKey(idx[0].DiffID, lo)

	if got, err := c.Get(ctx, key); got != nil || err != nil {
		t.Fatalf("empty cache: Get = %v, %v", got, err)
	}
	if err := c.Put(ctx, key, idx[0]); err != nil {
		t.Fatal(err)
	}
	got, err := open(t, reg.host, Options{}).Get(ctx, key)
	if err != nil || !reflect.DeepEqual(got, idx[0]) {
		t.Fatalf("Get after Put = %+v, %v; want %+v", got, err, idx[0])
	}
	if err := c.PutBlob(ctx, "sbom-0123", []byte("catalogue")); err != nil {
		t.Fatal(err)
	}
	if b, err := c.GetBlob(ctx, "sbom-0123"); string(b) != "catalogue" || err != nil {
		t.Fatalf("GetBlob = %q, %v", b, err)
	}
	// A blob is no index, nor an index a blob.
	if got, err := c.Get(ctx, "sbom-0123"); got != nil || err != nil {
		t.Errorf("Get of a blob entry = %v, %v", got, err)
	}
	if b, err := c.GetBlob(ctx, key); b != nil || err != nil {
		t.Errorf("GetBlob of an index entry = %q, %v", b, err)
	}
	s := c.Stats()
	if s.Hits != 1 || s.Misses != 3 || s.Rejected != 2 || s.Writes != 2 || s.WriteErrors != 0 || s.ReadErrors != 0 {
		t.Errorf("stats = %+v", s)
	}

	// The entry is an OCI artifact under the key's tag, with the key and
	// version in its annotations.
	ref, _ := name.ParseReference(reg.host + "/imgaudit/cache:" + key)
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != ArtifactTypeIndex || m.Annotations[AnnotationKey] != key || m.Config.MediaType != types.OCIEmptyJSON ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != EntryMediaType {
		t.Errorf("manifest = %s", desc.Manifest)
	}
}

func TestTag(t *testing.T) {
	key := "sha256-" + strings.Repeat("ab", 32) + "-0123456789abcdef"
	if Tag(key) != key {
		t.Errorf("Tag(%q) = %q", key, Tag(key))
	}
	for _, k := range []string{"", "a/b", "with.dot", strings.Repeat("k", 129), "-lead", "ünïcode"} {
		tag := Tag(k)
		if !strings.HasPrefix(tag, "h.") || len(tag) > 128 {
			t.Errorf("Tag(%q) = %q", k, tag)
		}
		if _, err := name.NewTag("reg.example/r:"+tag, name.StrictValidation); err != nil {
			t.Errorf("Tag(%q) = %q: %v", k, tag, err)
		}
	}
	if Tag("a.b") == Tag("a.c") {
		t.Error("two keys share a tag")
	}
}

// pushEntry writes a hand-made entry under key's tag: a manifest mutated
// by edit, naming blob.
func pushEntry(t *testing.T, c *Cache, key string, blob []byte, edit func(*v1.Manifest)) v1.Hash {
	t.Helper()
	ropts := c.client.RemoteOptions()
	for _, l := range []v1.Layer{static.NewLayer([]byte("{}"), types.OCIEmptyJSON), static.NewLayer(blob, EntryMediaType)} {
		if err := remote.WriteLayer(c.repo, l, ropts...); err != nil {
			t.Fatal(err)
		}
	}
	d, _, _ := v1.SHA256(bytes.NewReader(blob))
	m := manifest(key, ArtifactTypeIndex, v1.Descriptor{MediaType: EntryMediaType, Digest: d, Size: int64(len(blob))})
	if edit != nil {
		edit(&m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(c.repo.Tag(Tag(key)), rawManifest(raw), ropts...); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRejectedEntries writes entries that must not be trusted under the
// key's tag: each is a miss, counted, and the next Put replaces it.
func TestRejectedEntries(t *testing.T) {
	ctx := context.Background()
	idx, lo := testIndexes(t, 5)
	key := layers.CacheKey(idx[0].DiffID, lo)
	other := layers.CacheKey(idx[1].DiffID, lo)
	encoded := func(k string, x *layers.LayerIndex) []byte {
		b, err := compress(k, x, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, reg *testRegistry, c *Cache)
		why   string
	}{
		{"tampered blob", func(t *testing.T, reg *testRegistry, c *Cache) {
			reg.blobs.tamper(t, pushEntry(t, c, key, encoded(key, idx[0]), nil))
		}, "checksum"},
		{"foreign key annotation", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, encoded(other, idx[1]), func(m *v1.Manifest) { m.Annotations[AnnotationKey] = other })
		}, "annotation key"},
		{"older analyzer", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, encoded(key, idx[0]), func(m *v1.Manifest) { m.Annotations[AnnotationAnalyzer] = "4" })
		}, "analyzer version"},
		{"other artifact type", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, encoded(key, idx[0]), func(m *v1.Manifest) { m.ArtifactType = "application/vnd.example" })
		}, "artifact type"},
		{"undecodable bytes", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, []byte("\x1f\x8b\x08\x00not gzip at all"), nil)
		}, "corrupt input"},
		{"gzip of garbage", func(t *testing.T, _ *testRegistry, c *Cache) {
			b, _ := compress("", nil, []byte("x"), "")
			b = append([]byte(nil), b...)
			pushEntry(t, c, key, b[:len(b)-6], nil) // cut short
		}, ""},
		{"decoded key differs", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, encoded(other, idx[0]), nil)
		}, "decoded key"},
		{"wrong diffID", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, encoded(key, idx[1]), nil)
		}, "diffID"},
		{"blob missing", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, encoded(key, idx[0]), func(m *v1.Manifest) { m.Layers[0].Digest.Hex = strings.Repeat("0", 64) })
		}, "not found"},
		{"oversized entry", func(t *testing.T, _ *testRegistry, c *Cache) {
			pushEntry(t, c, key, encoded(key, idx[0]), func(m *v1.Manifest) { m.Layers[0].Size = 2 << 30 })
		}, "bound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := startRegistry(t)
			var warnings []string
			var mu sync.Mutex
			c := open(t, reg.host, Options{Warn: func(err error) {
				mu.Lock()
				defer mu.Unlock()
				warnings = append(warnings, err.Error())
			}})
			tc.write(t, reg, c)
			if got, err := c.Get(ctx, key); got != nil || err != nil {
				t.Fatalf("Get = %v, %v; want a miss", got, err)
			}
			if s := c.Stats(); s.Rejected != 1 || s.Misses != 1 || s.ReadErrors != 0 {
				t.Errorf("stats = %+v", s)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "rejected") || !strings.Contains(warnings[0], tc.why) {
				t.Errorf("warnings = %q, want one naming %q", warnings, tc.why)
			}
			// Rewritten by the next Put, then read by anyone.
			if err := c.Put(ctx, key, idx[0]); err != nil {
				t.Fatal(err)
			}
			got, err := open(t, reg.host, Options{}).Get(ctx, key)
			if err != nil || !reflect.DeepEqual(got, idx[0]) {
				t.Fatalf("after the rewrite: Get = %v, %v", got, err)
			}
		})
	}
}

// TestConcurrentWriters has writers (each its own Cache and connections,
// as separate processes would) write the same key at once while readers
// read it: a reader sees nothing or the whole entry, never a rejected or
// partial one.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t)
	idx, lo := testIndexes(t, 200)
	want := idx[0]
	want.Files["/etc/extra"] = []byte("more than one captured file: maps iterate in any order")
	key := layers.CacheKey(want.DiffID, lo)
	const writers, readers = 12, 4
	var wg sync.WaitGroup
	start := make(chan struct{})
	done := make(chan struct{})
	var seen, rejected, failed atomic.Int64
	for range readers {
		c := open(t, reg.host, Options{ClaimTTL: -1}) // a reader that never analyses claims nothing
		wg.Go(func() {
			<-start
			for {
				got, err := c.Get(ctx, key)
				switch {
				case err != nil:
					failed.Add(1)
				case got != nil && !reflect.DeepEqual(got, want):
					t.Error("a reader saw another index")
				case got != nil:
					seen.Add(1)
				}
				select {
				case <-done:
					rejected.Add(c.Stats().Rejected)
					return
				default:
				}
			}
		})
	}
	var ww sync.WaitGroup
	for range writers {
		c := open(t, reg.host, Options{})
		ww.Go(func() {
			<-start
			if err := c.Put(ctx, key, want); err != nil {
				t.Errorf("Put: %v", err)
			}
		})
	}
	close(start)
	ww.Wait()
	time.Sleep(50 * time.Millisecond) // let the readers see the last write
	close(done)
	wg.Wait()
	if rejected.Load() != 0 || failed.Load() != 0 {
		t.Errorf("readers rejected %d entries and failed %d reads", rejected.Load(), failed.Load())
	}
	if seen.Load() == 0 {
		t.Error("no reader saw the entry")
	}
	got, err := open(t, reg.host, Options{}).Get(ctx, key)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after the writers: Get = %v, %v", got, err)
	}
}

// TestRegistryDown: a registry that fails is a miss and a lost write,
// warned about once per kind, and after MaxFailures in a row it is not
// asked again.
func TestRegistryDown(t *testing.T) {
	ctx := context.Background()
	var reqs atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reqs.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var warnings []string
	var mu sync.Mutex
	c := open(t, strings.TrimPrefix(srv.URL, "http://"), Options{MaxFailures: 2, Timeout: 5 * time.Second, Warn: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, err.Error())
	}})
	local, err := layers.NewDiskCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	tc := NewTiered(local, c)
	idx, lo := testIndexes(t, 1)
	key := layers.CacheKey(idx[0].DiffID, lo)
	for range 5 {
		if got, err := tc.Get(ctx, "sha256-"+strings.Repeat("0", 64)+"-0000000000000000"); got != nil || err != nil {
			t.Fatalf("Get = %v, %v", got, err)
		}
		if err := tc.Put(ctx, key, idx[0]); err != nil {
			t.Fatalf("Put = %v", err)
		}
	}
	n := reqs.Load()
	if got, _ := tc.Get(ctx, key); got == nil {
		t.Error("the local cache did not keep the entry")
	}
	if _, err := c.Get(ctx, key); err != nil || reqs.Load() != n {
		t.Errorf("after 2 failures the registry was asked again (%d requests, then %d; %v)", n, reqs.Load(), err)
	}
	s := c.Stats()
	if s.ReadErrors != 2 || s.WriteErrors != 5 || s.Hits != 0 {
		t.Errorf("stats = %+v", s)
	}
	if len(warnings) != 4 || !strings.Contains(strings.Join(warnings, "\n"), "registry unavailable") {
		t.Errorf("warnings = %q", warnings)
	}
	if !strings.Contains(s.Problems(), "2 reads failed, 5 writes failed") {
		t.Errorf("problems = %q", s.Problems())
	}
}

// TestTieredFillsLocal: a registry hit is kept in the local cache, and two
// scans with separate local caches read each layer once between them.
func TestTieredFillsLocal(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t)
	img, err := it.Image(v1.Config{},
		it.Step("base", it.Dir("etc", 0o755), it.Text("etc/passwd", "root:x:0:0::/:/bin/sh\n")),
		it.Step("app", it.File("app", 0o755, it.ELF("", 10))),
	)
	if err != nil {
		t.Fatal(err)
	}
	scan := func() (int, *Cache) {
		local, err := layers.NewDiskCache(t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		shared := open(t, reg.host, Options{})
		var cached atomic.Int64
		opts := layers.ImageOptions{Options: layers.Options{Capture: []string{"/etc/passwd"}}, Cache: NewTiered(local, shared)}
		opts.OnLayer = func(_ int, _ *layers.LayerIndex, c bool) {
			if c {
				cached.Add(1)
			}
		}
		for range 2 {
			fsys, err := layers.Scan(ctx, img, opts)
			if err != nil {
				t.Fatal(err)
			}
			if b, err := fsys.ReadFile("/etc/passwd"); err != nil || len(b) == 0 {
				t.Fatalf("captured file: %q, %v", b, err)
			}
		}
		return int(cached.Load()), shared
	}
	if n, s := scan(); n != 2 || s.Stats().Writes != 2 || s.Stats().Hits != 0 {
		t.Errorf("first process: %d layers cached, stats %+v", n, s.Stats())
	}
	// Another process, its own empty disk: the registry serves both
	// layers once, the disk the second scan.
	if n, s := scan(); n != 4 || s.Stats().Writes != 0 || s.Stats().Hits != 2 {
		t.Errorf("second process: %d layers cached, stats %+v", n, s.Stats())
	}
}

func TestOpenRejectsReferences(t *testing.T) {
	for _, r := range []string{"cache", "reg.example/cache:tag", "reg.example/cache@sha256:" + strings.Repeat("0", 64), "reg.example/UPPER"} {
		if _, err := Open(context.Background(), r, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", r)
		}
	}
}

// TestClaims: a miss claims the layer; another process's Get waits for
// the claimant's entry, not for a claim gone stale; the claimant's own
// Gets do not wait.
func TestClaims(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t)
	idx, lo := testIndexes(t, 5)
	key, key2 := layers.CacheKey(idx[0].DiffID, lo), layers.CacheKey(idx[1].DiffID, lo)
	a := open(t, reg.host, Options{})
	if got, err := a.Get(ctx, key); got != nil || err != nil {
		t.Fatalf("Get = %v, %v", got, err)
	}
	start := time.Now()
	if got, err := a.Get(ctx, key); got != nil || err != nil || time.Since(start) > time.Second {
		t.Fatalf("own claim: Get = %v, %v after %s", got, err, time.Since(start))
	}
	if s := a.Stats(); s.Claims != 1 || s.Waits != 0 {
		t.Errorf("claimant: %+v", s)
	}
	b := open(t, reg.host, Options{})
	type result struct {
		idx *layers.LayerIndex
		err error
	}
	got := make(chan result, 1)
	go func() {
		x, err := b.Get(ctx, key)
		got <- result{x, err}
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-got:
		t.Fatalf("another process did not wait for the claim: %v, %v", r.idx, r.err)
	default:
	}
	if err := a.Put(ctx, key, idx[0]); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.err != nil || !reflect.DeepEqual(r.idx, idx[0]) {
		t.Fatalf("waiter: Get = %v, %v", r.idx, r.err)
	}
	if s := b.Stats(); s.Waits != 1 || s.WaitHits != 1 || s.Hits != 1 || s.Claims != 0 {
		t.Errorf("waiter: %+v", s)
	}

	// A claimant that never writes holds the others up for ClaimTTL only,
	// then the layer is theirs.
	if _, err := a.Get(ctx, key2); err != nil {
		t.Fatal(err)
	}
	c := open(t, reg.host, Options{ClaimTTL: 400 * time.Millisecond})
	start = time.Now()
	if x, err := c.Get(ctx, key2); x != nil || err != nil {
		t.Fatalf("stale claim: Get = %v, %v", x, err)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 5*time.Second {
		t.Errorf("waited %s for a claim of 400ms", d)
	}
	if s := c.Stats(); s.Waits != 1 || s.WaitHits != 0 || s.Claims != 1 {
		t.Errorf("after a stale claim: %+v", s)
	}

	// No claims: a miss writes nothing.
	d := open(t, reg.host, Options{ClaimTTL: -1})
	key3 := layers.CacheKey(idx[0].DiffID, layers.Options{})
	if _, err := d.Get(ctx, key3); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Get(d.repo.Tag(Tag(key3)), d.client.RemoteOptions()...); err == nil {
		t.Error("a miss without claims wrote a tag")
	}
}
