package inflate_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/klauspost/compress/gzip"

	"github.com/imgaudit/imgaudit/internal/e2e"
	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/inflate"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// children are igzip and pigz when installed (CI installs both; elsewhere
// a missing one is skipped with one line).
func children(t *testing.T) map[string]layers.Inflater {
	t.Helper()
	out := map[string]layers.Inflater{}
	for name, p := range e2e.Inflaters(t) {
		c, err := inflate.New(name, p)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = c
	}
	return out
}

func mustTar(t *testing.T, items ...it.Item) []byte {
	t.Helper()
	b, err := it.Tar(items...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestFind(t *testing.T) {
	found := func(name string) (string, error) { return "/opt/bin/" + name, nil }
	onlyPigz := func(name string) (string, error) {
		if name == "pigz" {
			return "/usr/bin/pigz", nil
		}
		return "", exec.ErrNotFound
	}
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	relative := func(name string) (string, error) { return "./" + name, nil }
	for _, c := range []struct {
		name    string
		look    func(string) (string, error)
		want    string
		wantErr string
	}{
		{name: "", look: none, want: "go"},
		{name: "go", look: none, want: "go"},
		{name: "igzip", look: found, want: "igzip /opt/bin/igzip"},
		{name: "pigz", look: found, want: "pigz /opt/bin/pigz"},
		{name: "auto", look: found, want: "igzip /opt/bin/igzip"},
		{name: "auto", look: onlyPigz, want: "pigz /usr/bin/pigz"},
		{name: "auto", look: none, want: "go"},
		{name: "/usr/local/isal/bin/igzip", look: none, want: "igzip /usr/local/isal/bin/igzip"},
		{name: "igzip", look: none, wantErr: "decompressor igzip: executable file not found"},
		{name: "pigz", look: relative, wantErr: "not an absolute path"},
		{name: "gzip", look: found, wantErr: `decompressor "gzip": want one of go, igzip, pigz, auto`},
		{name: "/bin/sh", look: found, wantErr: "absolute path to igzip or pigz"},
		{name: "bin/igzip", look: found, wantErr: "absolute path to igzip or pigz"},
	} {
		inf, err := inflate.Find(c.name, c.look)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Find(%q) = %v, %v; want error containing %q", c.name, inf, err, c.wantErr)
			}
			continue
		}
		got := "go"
		if inf != nil {
			got = inf.Name() + " " + inf.(*inflate.Child).Path()
		}
		if err != nil || got != c.want {
			t.Errorf("Find(%q) = %s, %v; want %s", c.name, got, err, c.want)
		}
	}
}

// TestDecompressorsAgree indexes the same layers with every decompressor:
// the indexes (digests, entries, captured files) are identical.
func TestDecompressorsAgree(t *testing.T) {
	raw := mustTar(t,
		it.Text("etc/passwd", strings.Repeat("root:x:0:0::/:/bin/sh\n", 100)),
		it.File("bin/sh", 0o4755, it.ELF("/lib/ld.so", 5000)),
		it.Whiteout("var/cache"),
	)
	synth, err := it.SynthLayer(it.SynthSpec{Seed: 9, Files: 300, Bytes: 3 << 20, Prefix: "usr/lib"})
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{
		"gzip":          gz(raw),
		"two members":   append(gz(raw[:1024]), gz(raw[1024:])...),
		"synthetic 3MB": synth,
		"best speed":    gzLevel(t, raw, gzip.BestSpeed),
	}
	rl, err := random.Layer(1<<20, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	rb := readAll(t, rl)
	blobs["random layer"] = rb

	opts := layers.Options{Capture: []string{"/etc/passwd"}}
	for name, blob := range blobs {
		want, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), opts)
		if err != nil {
			t.Fatalf("%s: go: %v", name, err)
		}
		for dn, d := range children(t) {
			o := opts
			o.Inflater = d
			got, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), o)
			if err != nil {
				t.Errorf("%s: %s: %v", name, dn, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s: index differs from Go's: digest %s/%s diffID %s/%s, %d/%d entries", name, dn, got.Digest, want.Digest, got.DiffID, want.DiffID, len(got.Entries), len(want.Entries))
			}
		}
	}
}

// fakeChild writes a shell script standing in for a decompressor (the
// tests own it; nothing from an image is ever run) and returns it as one.
func fakeChild(t *testing.T, body string) layers.Inflater {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	p := filepath.Join(t.TempDir(), "pigz")
	if err := os.WriteFile(p, []byte("#!"+sh+"\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := inflate.New("pigz", p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLyingChild runs decompressors that misbehave: each fails the layer
// as corrupt, never passes it, and never hangs.
func TestLyingChild(t *testing.T) {
	raw := mustTar(t, it.Text("etc/passwd", strings.Repeat("root:x:0:0::/:/bin/sh\n", 400)), it.File("bin/sh", 0o4755, it.ELF("", 200000)))
	blob := gz(raw)
	real := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(real, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.tar")
	if err := os.WriteFile(other, mustTar(t, it.Text("etc/passwd", "app:x:1000:1000::/:/nonexistent\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ body, want string }{
		// The compressed bytes back: not a tar stream.
		"echoes its input": {body: "exec cat", want: "corrupt"},
		// Another, clean layer: the diffID gives it away.
		"returns another layer": {body: "cat >/dev/null; cat " + other, want: "diffID"},
		// The right bytes, then more.
		"appends bytes": {body: "cat >/dev/null; cat " + real + "; echo extra", want: "diffID"},
		// Half the layer, then death by signal.
		"dies mid-stream": {body: "cat >/dev/null; head -c 300000 " + real + "; kill -9 $$", want: "decompressor pigz: failed: signal: killed"},
		// The whole layer, then a failing exit.
		"exits non-zero": {body: "cat >/dev/null; cat " + real + "; exit 3", want: "decompressor pigz: failed: exit status 3"},
		// The whole layer and a complaint on stderr, exit 0.
		"warns on stderr": {body: "cat >/dev/null; cat " + real + "; echo 'trailing junk ignored' >&2", want: "decompressor pigz: trailing junk ignored"},
		// Nothing at all.
		"writes nothing": {body: "cat >/dev/null", want: "corrupt"},
		// Does not read its input and exits: the blob is still read whole.
		"ignores its input": {body: "cat " + real, want: ""},
	}
	layer, err := it.LayerFromTar(raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := layers.Index(context.Background(), layer, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			idx, err := layers.Index(context.Background(), layer, layers.Options{Inflater: fakeChild(t, c.body)})
			if c.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if idx.Digest != want.Digest || idx.DiffID != want.DiffID || idx.CompressedSize != want.CompressedSize {
					t.Fatalf("digest %s diffID %s size %d; want %s %s %d", idx.Digest, idx.DiffID, idx.CompressedSize, want.Digest, want.DiffID, want.CompressedSize)
				}
				return
			}
			if !errors.Is(err, layers.ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want a corrupt layer mentioning %q", err, c.want)
			}
		})
	}

	t.Run("a child that hangs ends with the context", func(t *testing.T) {
		d := fakeChild(t, "exec sleep 60")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := layers.IndexStream(ctx, bytes.NewReader(blob), layers.Options{Inflater: d})
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("err = %v after %s; want the context's end, promptly", err, time.Since(start))
		}
	})
}

func gzLevel(t *testing.T, b []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func readAll(t *testing.T, l interface {
	Compressed() (io.ReadCloser, error)
}) []byte {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
