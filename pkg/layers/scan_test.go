package layers_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

func mustTar(t testing.TB, items ...it.Item) []byte {
	t.Helper()
	b, err := it.Tar(items...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := zstd.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestIndexStreamFormats(t *testing.T) {
	raw := mustTar(t,
		it.Dir("bin", 0o755),
		it.File("bin/app", 0o755, it.ELF("", 100)),
		it.File("bin/dyn", 0o755, it.ELF("/lib64/ld-linux-x86-64.so.2", 100)),
		it.File("bin/tool", 0o755, it.Script("/usr/bin/env python3", "print(1)\n")),
		it.Text("etc/key.pem", "junk\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"),
		it.Text("etc/empty", ""),
		it.Whiteout("etc/gone"),
		it.Opaque("var"),
	)
	for name, blob := range map[string][]byte{"tar": raw, "gzip": gz(raw), "zstd": zst(raw)} {
		t.Run(name, func(t *testing.T) {
			idx, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if idx.UncompressedSize < int64(len(raw)) || idx.CompressedSize != int64(len(blob)) {
				t.Errorf("sizes = %d/%d, want >= %d / %d", idx.UncompressedSize, idx.CompressedSize, len(raw), len(blob))
			}
			got := map[string]layers.Content{}
			for _, e := range idx.Entries {
				got[e.Path] = e.Content
			}
			want := map[string]layers.Content{
				"/bin":         {},
				"/bin/app":     {Kind: layers.ContentELF},
				"/bin/dyn":     {Kind: layers.ContentELF, Interpreter: "/lib64/ld-linux-x86-64.so.2"},
				"/bin/tool":    {Kind: layers.ContentScript, Interpreter: "/usr/bin/env", Extra: &layers.ContentExtra{ScriptArg: "python3"}},
				"/etc/key.pem": {Extra: &layers.ContentExtra{PrivateKey: "OPENSSH PRIVATE KEY"}},
				"/etc/empty":   {Kind: layers.ContentEmpty},
			}
			for p, w := range want {
				if !reflect.DeepEqual(got[p], w) {
					t.Errorf("%s content = %+v, want %+v", p, got[p], w)
				}
			}
			var marks []string
			for _, e := range idx.Entries {
				if e.Type == layers.TypeWhiteout || e.Type == layers.TypeOpaque {
					marks = append(marks, e.Type.String()+" "+e.Path)
				}
			}
			if strings.Join(marks, ",") != "whiteout /etc/gone,opaque /var" {
				t.Errorf("whiteout markers %v", marks)
			}
		})
	}
}

func TestIndexLimitsAndCorruption(t *testing.T) {
	many := make([]it.Item, 0, 101)
	for i := 0; i < 101; i++ {
		many = append(many, it.Text("f"+itoa(i), ""))
	}
	long := strings.Repeat("a/", 3000) + "x"
	big := mustTar(t, it.File("big", 0o644, make([]byte, 1<<20)))
	raw := mustTar(t, it.Text("a", strings.Repeat("hello", 400)))
	tests := []struct {
		name string
		blob []byte
		lim  layers.Limits
		want error
		msg  string
	}{
		{"too many entries", mustTar(t, many...), layers.Limits{MaxEntries: 100}, layers.ErrLimit, "max-entries"},
		{"path too long", mustTar(t, it.Text(long, "")), layers.Limits{}, layers.ErrLimit, "max-path-length"},
		{"gzip bomb", gz(big), layers.Limits{MaxLayerBytes: 64 << 10}, layers.ErrLimit, "max-layer-size"},
		{"truncated gzip", gz(raw)[:30], layers.Limits{}, layers.ErrCorrupt, ""},
		{"truncated tar", raw[:1200], layers.Limits{}, layers.ErrCorrupt, ""},
		{"garbage", []byte("this is not a layer at all, not even close......................" + strings.Repeat("x", 600)), layers.Limits{}, layers.ErrCorrupt, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := layers.IndexStream(context.Background(), bytes.NewReader(tc.blob), layers.Options{Limits: tc.lim})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestIndexVerifiesDiffID(t *testing.T) {
	good, err := it.Layer(it.Text("a", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := layers.Index(context.Background(), good, layers.Options{}); err != nil {
		t.Fatalf("good layer: %v", err)
	}
	bad := lyingLayer{good}
	if _, err := layers.Index(context.Background(), bad, layers.Options{}); !errors.Is(err, layers.ErrCorrupt) {
		t.Fatalf("lying diffID: err = %v, want ErrCorrupt", err)
	}
}

func TestCaptureCaps(t *testing.T) {
	blob := mustTar(t, it.Text("etc/passwd", strings.Repeat("x", 2000)), it.Text("etc/group", "g"))
	idx, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{
		Capture: []string{"/etc/*"}, Limits: layers.Limits{MaxCaptureBytes: 1000},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := idx.Files["/etc/passwd"]; ok {
		t.Error("oversized file was captured")
	}
	if string(idx.Files["/etc/group"]) != "g" {
		t.Errorf("group = %q", idx.Files["/etc/group"])
	}
	if len(idx.Anomalies) != 1 || idx.Anomalies[0].Kind != layers.AnomalyCaptureTruncated {
		t.Errorf("anomalies = %+v", idx.Anomalies)
	}
}

func TestUnsupportedTypeIsAnomaly(t *testing.T) {
	blob := mustTar(t, it.Raw(tar.Header{Name: "x", Typeflag: 'V', Mode: 0o644}, nil), it.Text("y", "y"))
	idx, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Entries) != 1 || len(idx.Anomalies) != 1 {
		t.Errorf("entries %+v anomalies %+v", idx.Entries, idx.Anomalies)
	}
}
