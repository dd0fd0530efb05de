package layers_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Hostile layers: every case ends in a clear error (ErrLimit naming the
// limit, or ErrCorrupt) or in anomalies, within bounded time and memory,
// and never in a panic or a path outside the image root.

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bomb returns a gzip blob holding a tar with one file of size zero bytes
// (headerless: size zero bytes and no tar header at all).
func bomb(t testing.TB, size int64, header bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = zw
	var tw *tar.Writer
	if header {
		tw = tar.NewWriter(zw)
		if err := tw.WriteHeader(&tar.Header{Name: "zero", Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
			t.Fatal(err)
		}
		w = tw
	}
	if _, err := io.CopyN(w, zeros{}, size); err != nil {
		t.Fatal(err)
	}
	if tw != nil {
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bounded runs fn and fails the test when it takes longer than d or
// allocates more than maxAlloc bytes in all (a bound on peak memory too).
func bounded(t *testing.T, d time.Duration, maxAlloc uint64, fn func()) {
	t.Helper()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	fn()
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("took %s, allocated %d KiB", el.Round(time.Millisecond), alloc>>10)
	if el > d {
		t.Errorf("took %s, want < %s", el, d)
	}
	if maxAlloc > 0 && alloc > maxAlloc {
		t.Errorf("allocated %d MiB, want < %d MiB", alloc>>20, maxAlloc>>20)
	}
}

func wantErr(t *testing.T, err, kind error, fragments ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not name %q", err, f)
		}
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("error is not one line: %q", err)
	}
}

func TestGzipBomb(t *testing.T) {
	// A real bomb: 2 GiB of zeros in a ~2 MiB blob, against a 1 GiB limit.
	start := time.Now()
	big := bomb(t, 2<<30, true)
	t.Logf("2 GiB bomb: %d KiB blob, made in %s", len(big)>>10, time.Since(start).Round(time.Millisecond))
	if len(big) > 4<<20 {
		t.Fatalf("bomb blob is %d bytes", len(big))
	}
	for _, tc := range []struct {
		name  string
		blob  []byte
		limit int64
		time  time.Duration
	}{
		{"2 GiB in one file, 1 GiB limit", big, 1 << 30, 10 * time.Second},
		{"zeros without a tar header", bomb(t, 256<<20, false), 64 << 20, 2 * time.Second},
		{"zeros as a plain tar (no compression)", make([]byte, 8<<20), 1 << 20, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			bounded(t, tc.time, 16<<20, func() {
				_, err = layers.IndexStream(context.Background(), bytes.NewReader(tc.blob), layers.Options{Limits: layers.Limits{MaxLayerBytes: tc.limit}})
			})
			wantErr(t, err, layers.ErrLimit, "max-layer-size", fmt.Sprint(tc.limit))
		})
	}
	t.Run("gzip members concatenated", func(t *testing.T) {
		// Multistream gzip: 64 members of 16 MiB of zeros each.
		one := bomb(t, 16<<20, false)
		blob := bytes.Repeat(one, 64)
		var err error
		bounded(t, 2*time.Second, 16<<20, func() {
			_, err = layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Limits: layers.Limits{MaxLayerBytes: 100 << 20}})
		})
		wantErr(t, err, layers.ErrLimit, "max-layer-size")
	})
}

func TestZstdWindowBomb(t *testing.T) {
	// A frame that asks for a 512 MiB window makes a decoder hold up to
	// that much memory, whatever the layer's size: refused by name. The
	// frame is an ordinary one whose window descriptor is raised (blocks
	// valid in an 8 MiB window stay valid in a larger one).
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithSingleSegment(false), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(mustTar(t, it.Text("a", "a")))
	zw.Close()
	blob := buf.Bytes()
	if _, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{}); err != nil {
		t.Fatalf("ordinary zstd layer: %v", err)
	}
	if blob[4]&0x20 != 0 {
		t.Fatalf("frame is single-segment (descriptor %#x)", blob[4])
	}
	blob[5] = (29 - 10) << 3 // Window_Descriptor: 2^29 bytes
	bounded(t, time.Second, 16<<20, func() {
		_, err = layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{})
	})
	wantErr(t, err, layers.ErrLimit, "zstd window")
}

// tarStream writes a tar of n entries made by item(i) into a pipe, so that
// a large layer never sits in memory.
func tarStream(n int, item func(i int) *tar.Header) *io.PipeReader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		for i := 0; i < n; i++ {
			if err := tw.WriteHeader(item(i)); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(tw.Close())
	}()
	return pr
}

func TestManyEntries(t *testing.T) {
	file := func(i int) *tar.Header {
		return &tar.Header{Name: fmt.Sprintf("d%d/f%d", i%100, i), Typeflag: tar.TypeReg, Mode: 0o644}
	}
	t.Run("1M entries, limit 50k", func(t *testing.T) {
		var err error
		r := tarStream(1_000_000, file)
		defer r.Close()
		bounded(t, 3*time.Second, 0, func() {
			_, err = layers.IndexStream(context.Background(), r, layers.Options{Limits: layers.Limits{MaxEntries: 50_000}})
		})
		wantErr(t, err, layers.ErrLimit, "max-entries", "50000")
	})
	t.Run("exactly at the limit", func(t *testing.T) {
		// 1,000 entries plus the 100 directories they imply.
		idx, err := layers.IndexStream(context.Background(), tarStream(1000, file), layers.Options{Limits: layers.Limits{MaxEntries: 1100}})
		if err != nil || len(idx.Entries) != 1000 {
			t.Fatalf("at the limit: %v", err)
		}
		r := tarStream(1000, file)
		defer r.Close()
		_, err = layers.IndexStream(context.Background(), r, layers.Options{Limits: layers.Limits{MaxEntries: 1099}})
		wantErr(t, err, layers.ErrLimit, "max-entries")
	})
}

// TestMillionEntries indexes and squashes a layer of 1,000,000 tiny entries
// at the default limits. It takes several seconds and a few hundred MB, so
// it runs only from scripts/bigimage.sh (IMGAUDIT_BIG=1).
func TestMillionEntries(t *testing.T) {
	if os.Getenv("IMGAUDIT_BIG") == "" {
		t.Skip("set IMGAUDIT_BIG=1 (scripts/bigimage.sh)")
	}
	const n = 1_000_000
	var err error
	var f *layers.FS
	bounded(t, 60*time.Second, 0, func() {
		var idx *layers.LayerIndex
		idx, err = layers.IndexStream(context.Background(), tarStream(n, func(i int) *tar.Header {
			return &tar.Header{Name: fmt.Sprintf("d%03d/f%07d", i%1000, i), Typeflag: tar.TypeReg, Mode: 0o644}
		}), layers.Options{})
		if err == nil {
			f, err = layers.Squash([]*layers.LayerIndex{idx}, nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != n+1000 {
		t.Errorf("Len = %d, want %d", f.Len(), n+1000)
	}
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	t.Logf("live heap after squash: %d MiB (%d bytes per entry)", m.HeapAlloc>>20, m.HeapAlloc/(n+1000))
	runtime.KeepAlive(f)

	// One entry past the default limit: 2,000,001 entries.
	if os.Getenv("IMGAUDIT_BIG") == "2" {
		r := tarStream(layers.DefaultLimits().MaxEntries+1, func(i int) *tar.Header {
			return &tar.Header{Name: fmt.Sprintf("f%07d", i), Typeflag: tar.TypeReg, Mode: 0o644}
		})
		defer r.Close()
		bounded(t, 120*time.Second, 0, func() { _, err = layers.IndexStream(context.Background(), r, layers.Options{}) })
		wantErr(t, err, layers.ErrLimit, "max-entries", fmt.Sprint(layers.DefaultLimits().MaxEntries))
	}
}

func TestLongNames(t *testing.T) {
	long := strings.Repeat("n", 64<<10)
	for _, tc := range []struct {
		name string
		item it.Item
	}{
		{"64 KiB file name", it.Text(long, "x")},
		{"64 KiB directory name", it.Dir(long, 0o755)},
		{"64 KiB symlink target", it.Symlink("l", long)},
		{"64 KiB hardlink target", it.Hardlink("h", long)},
		{"64 KiB whiteout", it.Whiteout(long)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blob := gz(mustTar(t, it.Text("ok", "ok"), tc.item))
			_, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{})
			wantErr(t, err, layers.ErrLimit, "max-path-length", "4096")
		})
	}
	t.Run("64 KiB names under a raised limit", func(t *testing.T) {
		blob := mustTar(t, it.Text(long, "x"), it.Symlink("l", long))
		idx, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Limits: layers.Limits{MaxPathLen: 1 << 20}})
		if err != nil {
			t.Fatal(err)
		}
		f, err := layers.Squash([]*layers.LayerIndex{idx}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.Stat("/l"); err != nil || n.Path != "/"+long {
			t.Errorf("Stat(/l) = %v, %v", n, err)
		}
	})
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("d/", 10_000) + "file"
	t.Run("10,000 deep at the default limits", func(t *testing.T) {
		_, err := layers.IndexStream(context.Background(), bytes.NewReader(mustTar(t, it.Text(deep, "x"))), layers.Options{})
		wantErr(t, err, layers.ErrLimit, "max-path-length")
	})
	t.Run("10,000 deep under a raised path limit", func(t *testing.T) {
		// One entry implies 10,000 directories: they count as entries.
		blob := mustTar(t, it.Text(deep, "x"), it.Symlink("up", strings.Repeat("../", 12_000)+"etc"))
		_, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Limits: layers.Limits{MaxPathLen: 1 << 20, MaxEntries: 5000}})
		wantErr(t, err, layers.ErrLimit, "max-entries", "implied parent directories")

		var f *layers.FS
		bounded(t, 2*time.Second, 64<<20, func() {
			var idx *layers.LayerIndex
			idx, err = layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Limits: layers.Limits{MaxPathLen: 1 << 20}})
			if err == nil {
				f, err = layers.Squash([]*layers.LayerIndex{idx}, nil)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if f.Len() != 10_002 {
			t.Errorf("Len = %d, want 10002", f.Len())
		}
		n, err := f.Stat(deep)
		if err != nil || n.Path != "/"+deep || n.Type != layers.TypeRegular {
			t.Fatalf("Stat(deep) = %v, %v", n, err)
		}
		// Climbing 12,000 levels from a 1-deep link stays at the root.
		if _, err := f.Stat("/up"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(/up) err = %v, want not exist", err)
		}
		if got := anomalyKinds(f); got != "escaping-link" {
			t.Errorf("anomalies = %s", got)
		}
		depth := 0
		f.Walk(func(n *layers.Node) error {
			if d := strings.Count(n.Path, "/"); d > depth {
				depth = d
			}
			return nil
		})
		if depth != 10_001 {
			t.Errorf("walk depth = %d", depth)
		}
	})
	t.Run("many distinct deep chains", func(t *testing.T) {
		// Each 2,040-deep entry is 4 KiB of tar header (a few bytes
		// gzipped) but 2,040 directories once squashed: without counting
		// them, 200 of these took 1 GiB. The implied directories hit
		// max-entries instead.
		blob := gz(tarBytes(t, 60, func(i int) *tar.Header {
			return &tar.Header{Name: fmt.Sprintf("c%d/", i) + strings.Repeat("a/", 2040) + "x", Typeflag: tar.TypeReg, Mode: 0o644}
		}))
		t.Logf("blob: %d KiB", len(blob)>>10)
		var err error
		bounded(t, 3*time.Second, 256<<20, func() {
			_, err = layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Limits: layers.Limits{MaxEntries: 100_000}})
		})
		wantErr(t, err, layers.ErrLimit, "max-entries")
	})
}

func tarBytes(t testing.TB, n int, item func(i int) *tar.Header) []byte {
	t.Helper()
	b, err := io.ReadAll(tarStream(n, item))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func anomalyKinds(f *layers.FS) string {
	seen := map[layers.AnomalyKind]bool{}
	var out []string
	for _, a := range f.Anomalies() {
		if !seen[a.Kind] {
			seen[a.Kind] = true
			out = append(out, string(a.Kind))
		}
	}
	return strings.Join(out, ",")
}

func squashTar(t *testing.T, items ...it.Item) *layers.FS {
	t.Helper()
	idx, err := layers.IndexStream(context.Background(), bytes.NewReader(mustTar(t, items...)), layers.Options{Capture: []string{"/etc/passwd"}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := layers.Squash([]*layers.LayerIndex{idx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSymlinkChainsAndLoops(t *testing.T) {
	const n = 5000
	items := []it.Item{it.Dir("dir", 0o755), it.Text("dir/file", "x")}
	for i := 0; i < n; i++ {
		items = append(items, it.Symlink(fmt.Sprintf("c%d", i), fmt.Sprintf("c%d", i+1)))
		items = append(items, it.Symlink(fmt.Sprintf("d%d", i), fmt.Sprintf("d%d", i+1)))
	}
	items = append(items, it.Text(fmt.Sprintf("c%d", n), "end"), it.Symlink(fmt.Sprintf("d%d", n), "dir"))
	items = append(items,
		it.Symlink("self", "self"), it.Symlink("a", "b"), it.Symlink("b", "a"),
		it.Symlink("dot", "."), it.Symlink("up", ".."),
		it.Symlink("abs", "/abs"),
	)
	var f *layers.FS
	bounded(t, 2*time.Second, 0, func() { f = squashTar(t, items...) })

	for _, tc := range []struct {
		path string
		want error // nil: resolves
	}{
		{"/c0", layers.ErrLinkLoop},
		{fmt.Sprintf("/c%d", n-layers.MaxSymlinkHops), nil},
		{fmt.Sprintf("/c%d", n-layers.MaxSymlinkHops-1), layers.ErrLinkLoop},
		{"/d0/file", layers.ErrLinkLoop},
		{fmt.Sprintf("/d%d/file", n-layers.MaxSymlinkHops+1), nil},
		{"/self", layers.ErrLinkLoop},
		{"/a", layers.ErrLinkLoop},
		{"/abs", layers.ErrLinkLoop},
		{"/dot/dot/dot/dir/file", nil},
		{"/" + strings.Repeat("dot/", 41) + "dir/file", layers.ErrLinkLoop},
		{"/up/up/up/dir/file", nil},
	} {
		start := time.Now()
		_, err := f.Stat(tc.path)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Stat(%s) err = %v, want %v", tc.path, err, tc.want)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("Stat(%s) took %s", tc.path, d)
		}
	}

	t.Run("entries written through long link paths", func(t *testing.T) {
		// Every "s" below is a symlink whose 4 KiB target walks back and
		// forth: resolving each component with its own budget of 40 links
		// took 7 s and 400 MB for these 50 entries. One budget per path
		// (as Linux's namei) and one anomaly per entry keep it small.
		items := []it.Item{it.Dir("t", 0o755), it.Symlink("s", strings.Repeat("t/../", 800)+".")}
		for i := 0; i < 50; i++ {
			items = append(items, it.Text(strings.Repeat("s/", 2000)+fmt.Sprintf("x%d", i), ""))
		}
		var f *layers.FS
		bounded(t, 2*time.Second, 64<<20, func() {
			idx, err := layers.IndexStream(context.Background(), bytes.NewReader(mustTar(t, items...)), layers.Options{Limits: layers.Limits{MaxPathLen: 8192}})
			if err != nil {
				t.Fatal(err)
			}
			f, _ = layers.Squash([]*layers.LayerIndex{idx}, nil)
		})
		if len(f.Anomalies()) > 100 {
			t.Errorf("%d anomalies for 50 entries", len(f.Anomalies()))
		}
		checkInsideRoot(t, f)
	})
}

// checkInsideRoot walks f: every path is absolute, clean and below "/".
func checkInsideRoot(t *testing.T, f *layers.FS) {
	t.Helper()
	f.Walk(func(n *layers.Node) error {
		if !strings.HasPrefix(n.Path, "/") || strings.Contains(n.Path, "/../") || strings.HasSuffix(n.Path, "/..") || strings.Contains(n.Path, "//") {
			t.Errorf("path %q escapes or is not clean", n.Path)
		}
		return nil
	})
}

func TestHostilePaths(t *testing.T) {
	f := squashTar(t,
		it.Dir("etc", 0o755), it.Dir("usr/share", 0o755),
		it.Text("etc/passwd", "app:x:1000:1000::/:/sbin/nologin\n"),
		it.Text("../../../../tmp/imgaudit-escape", "pwned"),
		it.Text("/abs/file", "abs"),
		it.Text(`..\..\windows-style`, "w"),
		it.Symlink("host-passwd", "../../../../../../etc/passwd"),
		it.Symlink("tmp-link", "/../../tmp"),
		it.Symlink("evil-dir", "../../../../../usr/share"),
		it.Text("evil-dir/written-through", "through"),
		it.Hardlink("hl-escape", "../../../etc/shadow"),
		it.Hardlink("hl-missing", "nowhere"),
		it.Hardlink("hl-dir", "etc"),
		it.Raw(tar.Header{Name: "", Typeflag: tar.TypeReg}, nil),
		it.Whiteout(".."),
	)
	checkInsideRoot(t, f)
	want := map[string]string{
		"/tmp/imgaudit-escape":       "file",
		"/abs/file":                  "file",
		`/..\..\windows-style`:       "file", // a backslash is an ordinary byte on Linux
		"/usr/share/written-through": "file", // through the symlink, inside the root
		"/evil-dir":                  "symlink",
		"/host-passwd":               "symlink",
		"/hl-missing":                "hardlink",
		"/hl-dir":                    "hardlink",
		"/hl-escape":                 "hardlink",
		"/etc/passwd":                "file",
		"/tmp-link":                  "symlink",
		"/usr/share":                 "dir",
	}
	for p, typ := range want {
		n, err := f.Lstat(p)
		if err != nil || n.Type.String() != typ {
			t.Errorf("Lstat(%s) = %v, %v; want a %s", p, n, err, typ)
		}
	}
	// The escaping link resolves to the image's own /etc/passwd.
	b, err := f.ReadFile("/host-passwd")
	if err != nil || !strings.HasPrefix(string(b), "app:x:1000") {
		t.Errorf("ReadFile(/host-passwd) = %q, %v; want the image's /etc/passwd", b, err)
	}
	if n, err := f.Stat("/tmp-link"); err == nil && n.Path != "/tmp" {
		t.Errorf("Stat(/tmp-link) = %s", n)
	}
	got := map[layers.AnomalyKind][]string{}
	for _, a := range f.Anomalies() {
		got[a.Kind] = append(got[a.Kind], a.Path)
	}
	for kind, paths := range map[layers.AnomalyKind][]string{
		layers.AnomalyEscapingName:    {"/tmp/imgaudit-escape"},
		layers.AnomalyAbsoluteName:    {"/abs/file"},
		layers.AnomalyEscapingLink:    {"/host-passwd", "/evil-dir", "/hl-escape"},
		layers.AnomalyThroughSymlink:  {"/evil-dir/written-through"},
		layers.AnomalyHardlinkMissing: {"/hl-escape", "/hl-missing", "/hl-dir"},
		layers.AnomalyEmptyName:       {"/"},
		layers.AnomalyBadWhiteout:     {"/.wh..."},
	} {
		for _, p := range paths {
			found := false
			for _, g := range got[kind] {
				found = found || g == p
			}
			if !found {
				t.Errorf("no %s anomaly for %s; anomalies: %v", kind, p, got)
			}
		}
	}
}

// TestCorruptBlobs feeds broken blobs to every decompressor: each must
// fail the layer as corrupt (and a failing reader as itself).
func TestCorruptBlobs(t *testing.T) {
	for name, d := range decompressors(t) {
		t.Run(name, func(t *testing.T) { testCorruptBlobs(t, d) })
	}
}

func testCorruptBlobs(t *testing.T, d layers.Inflater) {
	raw := mustTar(t, it.Text("etc/passwd", strings.Repeat("root:x:0:0::/:/bin/sh\n", 100)), it.File("bin/x", 0o755, it.ELF("", 3000)))
	gzBlob, zsBlob := gz(raw), zst(raw)
	cases := map[string][]byte{
		"gzip header only":       gzBlob[:10],
		"gzip cut in the middle": gzBlob[:len(gzBlob)/2],
		"gzip without trailer":   gzBlob[:len(gzBlob)-4],
		"zstd cut":               zsBlob[:len(zsBlob)/2],
		"tar cut in a header":    raw[:700],
		"tar cut in file data":   raw[:1100],
		"gzip magic then junk":   append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, bytes.Repeat([]byte{0xa5}, 4096)...),
		"zstd magic then junk":   append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte{0x5a}, 4096)...),
		"random bytes":           bytes.Repeat([]byte("garbage!"), 1000),
	}
	// A gzip blob whose checksum is wrong.
	bad := bytes.Clone(gzBlob)
	bad[len(bad)-8] ^= 0xff
	cases["gzip bad crc"] = bad
	for name, blob := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Capture: []string{"/etc/passwd"}, Inflater: d})
			wantErr(t, err, layers.ErrCorrupt)
			if errors.Is(err, layers.ErrLimit) {
				t.Errorf("corrupt blob reported as a limit: %v", err)
			}
		})
	}

	good, err := it.LayerFromTar(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]v1.Layer{
		"diffID does not match":  lyingLayer{good},
		"digest does not match":  lyingDigest{good},
		"blob truncated to zero": blobLayer{good, nil},
		"blob truncated":         blobLayer{good, gzBlob[:len(gzBlob)/3]},
		"blob of another layer":  blobLayer{good, gz(mustTar(t, it.Text("other", "x")))},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := layers.Index(context.Background(), l, layers.Options{Inflater: d})
			wantErr(t, err, layers.ErrCorrupt)
		})
	}

	t.Run("failing blob reader is not corrupt", func(t *testing.T) {
		_, err := layers.Index(context.Background(), failingLayer{good}, layers.Options{Inflater: d})
		if err == nil || errors.Is(err, layers.ErrCorrupt) || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("err = %v, want the reader's own error, not ErrCorrupt", err)
		}
	})
}

// lyingDigest claims a blob digest its bytes do not have.
type lyingDigest struct{ v1.Layer }

func (lyingDigest) Digest() (v1.Hash, error) {
	return v1.NewHash("sha256:1111111111111111111111111111111111111111111111111111111111111111")
}

// blobLayer serves other bytes than the layer's own under its digests.
type blobLayer struct {
	v1.Layer
	blob []byte
}

func (l blobLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}

// failingLayer's blob breaks off after a few bytes, like a dropped download.
type failingLayer struct{ v1.Layer }

func (l failingLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return io.NopCloser(io.MultiReader(io.LimitReader(rc, 100), errReader{errors.New("read tcp: connection reset by peer")})), nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestCancelStopsIndexing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := tarStream(10_000_000, func(i int) *tar.Header {
		if i == 1000 {
			cancel()
		}
		return &tar.Header{Name: fmt.Sprintf("f%d", i), Typeflag: tar.TypeReg, Mode: 0o644}
	})
	defer r.Close()
	var err error
	bounded(t, time.Second, 0, func() { _, err = layers.IndexStream(ctx, r, layers.Options{}) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestPathsThroughSymlinks: directories made below a symlink to a deep
// directory cannot share their path with the entry's name, so each costs a
// path string of its own. A small layer of deep entries through such links
// once took gigabytes; now the bytes of those paths are bounded and the
// squash stops with a limit error naming them.
func TestPathsThroughSymlinks(t *testing.T) {
	deep := strings.Repeat("a/", 1000) + "a" // 2 KiB, 1,001 directories
	items := []it.Item{it.Dir(deep, 0o755), it.Symlink("s", deep)}
	deepB := strings.Repeat("b/", 900)
	for i := 0; i < 400; i++ {
		items = append(items, it.Text(fmt.Sprintf("s/c%d/%sx", i, deepB), ""))
	}
	blob := gz(mustTar(t, items...))
	t.Logf("layer: %d KiB compressed", len(blob)>>10)
	var err error
	bounded(t, 10*time.Second, 1<<30, func() {
		var idx *layers.LayerIndex
		idx, err = layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{})
		if err == nil {
			_, err = layers.Squash([]*layers.LayerIndex{idx}, nil)
		}
	})
	wantErr(t, err, layers.ErrLimit, "through symlinks")

	// A few such entries are fine, and land below the link's target.
	small := []it.Item{it.Dir(deep, 0o755), it.Symlink("s", deep), it.Text("s/c/"+deepB+"x", "")}
	idx, err := layers.IndexStream(context.Background(), bytes.NewReader(mustTar(t, small...)), layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := layers.Squash([]*layers.LayerIndex{idx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// 1,001 directories of the link's target, then 901 made through it
	// (paths of 2-4 KiB each).
	t.Logf("live heap: %d bytes per directory made through the link", (after.HeapAlloc-before.HeapAlloc)/(1001+901))
	if _, err := f.Lstat("/" + deep + "/c/" + deepB + "x"); err != nil {
		t.Error(err)
	}
	runtime.KeepAlive(f)
}

// TestManyHardlinks: every hardlink header sets the metadata of the file it
// shares, so a naive squash rewrites every earlier name for each new one:
// 40,000 links to one file took 4 s, 100,000 would take 25. The metadata is
// now computed once per inode and written once per layer.
func TestManyHardlinks(t *testing.T) {
	const n = 100_000
	blob := tarBytes(t, n+1, func(i int) *tar.Header {
		if i == 0 {
			return &tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o4755}
		}
		return &tar.Header{Name: fmt.Sprintf("bin/l%06d", i), Typeflag: tar.TypeLink, Linkname: "bin/busybox", Mode: 0o4755}
	})
	var f *layers.FS
	bounded(t, 10*time.Second, 1<<30, func() {
		idx, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if f, err = layers.Squash([]*layers.LayerIndex{idx}, nil); err != nil {
			t.Fatal(err)
		}
	})
	bb, err := f.Lstat("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.Links(bb)); got != n+1 {
		t.Errorf("links of busybox = %d, want %d", got, n+1)
	}
	last, err := f.Lstat(fmt.Sprintf("/bin/l%06d", n))
	if err != nil || last.Mode&fs.ModeSetuid == 0 || bb.Mode&fs.ModeSetuid == 0 {
		t.Errorf("setuid lost: %v %v, %v", bb, last, err)
	}
}
