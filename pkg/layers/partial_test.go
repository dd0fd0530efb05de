package layers

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"io"
	"os"
	"testing"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// TestPartialGoBinary: a Go executable above the capture cap keeps 128 KiB
// (its head and its build information blob), and debug/buildinfo reads the
// same modules from that as from the whole file.
func TestPartialGoBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Skip(err)
	}
	want, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("the test binary has no build information: %v", err)
	}
	tarball, err := it.Tar(it.Dir("usr/local/bin", 0o755), it.File("usr/local/bin/app", 0o755, bin),
		it.File("usr/local/bin/c-app", 0o755, append(it.ELF("/lib/ld.so", 64), make([]byte, 3<<20)...)))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := IndexStream(context.Background(), bytes.NewReader(tarball), Options{
		Capture: []string{"/usr/local/bin/*"},
		Limits:  Limits{MaxCaptureBytes: 1 << 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := idx.Files["/usr/local/bin/app"]; ok {
		t.Fatal("a file above the cap was captured whole")
	}
	p := idx.Partials["/usr/local/bin/app"]
	if p == nil || !p.GoBuildInfo() || p.Size != int64(len(bin)) {
		t.Fatalf("partial = %+v, want the head and the build information of %d bytes", p, len(bin))
	}
	kept := 0
	for _, r := range p.Ranges {
		kept += len(r.Data)
		if !bytes.Equal(r.Data, bin[r.Off:r.Off+int64(len(r.Data))]) {
			t.Errorf("range at %d differs from the file", r.Off)
		}
	}
	if kept > 2*partialWindow {
		t.Errorf("kept %d bytes, want at most %d", kept, 2*partialWindow)
	}
	got, err := buildinfo.Read(p.Open())
	if err != nil {
		t.Fatalf("build information from the partial file: %v", err)
	}
	if got.String() != want.String() {
		t.Errorf("build information differs:\n%s\nwant\n%s", got, want)
	}
	if c := idx.Partials["/usr/local/bin/c-app"]; c == nil || c.GoBuildInfo() || len(c.Ranges) != 1 {
		t.Errorf("non-Go ELF above the cap: partial %+v, want its head only", c)
	}
	for _, e := range idx.Entries {
		if e.Path == "/usr/local/bin/app" && e.Content.Kind != ContentELF {
			t.Errorf("app sniffed as %v", e.Content.Kind)
		}
	}

	// The squashed node carries it; ReadFile still says not captured.
	fsys, err := Squash([]*LayerIndex{idx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := fsys.Stat("/usr/local/bin/app")
	if err != nil || n.Partial() != p || n.Captured() {
		t.Fatalf("node %+v: partial %v, captured %v", n, n.Partial() != nil, n.Captured())
	}
	if _, err := fsys.ReadFile("/usr/local/bin/app"); err == nil {
		t.Error("ReadFile of a partial file succeeded")
	}
}

func TestPartialReader(t *testing.T) {
	p := &Partial{Size: 100, Ranges: []Range{{Off: 0, Data: []byte("head")}, {Off: 50, Data: []byte("middle")}}}
	full := make([]byte, 100)
	copy(full, "head")
	copy(full[50:], "middle")
	r := p.Open()
	for _, tc := range []struct{ off, n int }{{0, 10}, {2, 4}, {48, 10}, {53, 3}, {95, 10}, {0, 100}, {99, 1}} {
		b := make([]byte, tc.n)
		n, err := r.ReadAt(b, int64(tc.off))
		wantN := min(tc.n, 100-tc.off)
		if n != wantN || !bytes.Equal(b[:n], full[tc.off:tc.off+wantN]) || (wantN < tc.n) != (err == io.EOF) {
			t.Errorf("ReadAt(%d, %d) = %d %q %v", tc.n, tc.off, n, b[:n], err)
		}
	}
	if _, err := r.ReadAt(make([]byte, 1), 100); err != io.EOF {
		t.Errorf("ReadAt at the end: %v", err)
	}
	all, err := io.ReadAll(p.Open())
	if err != nil || !bytes.Equal(all, full) {
		t.Errorf("ReadAll = %q, %v", all, err)
	}
	if pos, err := r.Seek(-6, io.SeekEnd); pos != 94 || err != nil {
		t.Errorf("Seek = %d, %v", pos, err)
	}
}

// TestPartialSectionHeadersAtEnd: a Go executable linked externally (as Go
// 1.19 and older linked every executable) has its section headers and
// their name table at the end of the file; above the cap, the partial
// keeps them too, and debug/buildinfo reads its modules back.
func TestPartialSectionHeadersAtEnd(t *testing.T) {
	bin := goBuild(t, true, "-ldflags=-linkmode=external")
	if off, _, ok := sectionHeaderTable(bin); !ok || off < int64(len(bin))/2 {
		t.Skipf("section headers at %d of %d bytes: not at the end", off, len(bin))
	}
	want, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	tarball, err := it.Tar(it.File("usr/lib/go-1.19/bin/ext", 0o755, bin))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := IndexStream(context.Background(), bytes.NewReader(tarball), Options{
		Capture: []string{CaptureGoExecutables},
		Limits:  Limits{MaxCaptureBytes: 256 << 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := idx.Partials["/usr/lib/go-1.19/bin/ext"]
	if p == nil {
		t.Fatalf("no partial; files %d", len(idx.Files))
	}
	for _, r := range p.Ranges {
		if !bytes.Equal(r.Data, bin[r.Off:r.Off+int64(len(r.Data))]) {
			t.Errorf("range at %d differs from the file", r.Off)
		}
	}
	if k := p.kept(); k > 2*partialWindow+shstrtabWindow+64<<10 {
		t.Errorf("kept %d bytes", k)
	}
	got, err := buildinfo.Read(p.Open())
	if err != nil {
		t.Fatalf("build information from the partial: %v", err)
	}
	if got.String() != want.String() {
		t.Errorf("build information from the partial:\n%s\nwant:\n%s", got, want)
	}
}
