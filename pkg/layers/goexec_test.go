package layers

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// goBinaries returns real Go executables of this machine: the test binary
// and, when the toolchain is at hand, gofmt.
func goBinaries(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if exe, err := os.Executable(); err == nil {
		if b, err := os.ReadFile(exe); err == nil {
			out["/usr/lib/go-x/pkg/tool/linux_amd64/test"] = b
		}
	}
	if b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "bin", "gofmt")); err == nil {
		out["/usr/lib/go-x/bin/gofmt"] = b
	}
	for p, b := range out {
		if _, err := buildinfo.Read(bytes.NewReader(b)); err != nil {
			t.Fatalf("%s has no Go build information: %v", p, err)
		}
	}
	if len(out) == 0 {
		t.Skip("no Go executable on this machine")
	}
	return out
}

// TestCaptureGoExecutables: with CaptureGoExecutables, what a reader of
// Go build information needs of a Go executable is kept wherever it lies
// (a Partial, whatever the caps), while ELF files of other languages, even
// large ones, and files that merely mention Go are not; without it,
// nothing is; a Go executable a pattern names is captured whole.
func TestCaptureGoExecutables(t *testing.T) {
	bins := goBinaries(t)
	items := []it.Item{
		it.File("usr/bin/c-app", 0o755, append(it.ELF("/lib64/ld-linux-x86-64.so.2", 64), make([]byte, 2<<20)...)),
		it.Text("usr/share/doc/go/notes.txt", "Go\x00\x00\x04\x00\x00\x00"+goBuildIDString+goBuildInfoMagic),
	}
	for p, b := range bins {
		items = append(items, it.File(p[1:], 0o755, b))
	}
	tarball, err := it.Tar(items...)
	if err != nil {
		t.Fatal(err)
	}
	index := func(capture []string, lim Limits) *LayerIndex {
		t.Helper()
		idx, err := IndexStream(context.Background(), bytes.NewReader(tarball), Options{Capture: capture, Limits: lim})
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}

	for _, lim := range []Limits{{}, {MaxCaptureBytes: 64 << 10}} {
		idx := index([]string{CaptureGoExecutables}, lim)
		if len(idx.Files) != 0 || len(idx.Partials) != len(bins) || len(idx.Anomalies) != 0 {
			t.Fatalf("cap %d: %d files, %d partials, anomalies %v, want %d partials", lim.MaxCaptureBytes, len(idx.Files), len(idx.Partials), idx.Anomalies, len(bins))
		}
		for p, b := range bins {
			part := idx.Partials[p]
			if part.kept() > 2*partialWindow+shstrtabWindow+64<<10 {
				t.Errorf("%s: kept %d bytes", p, part.kept())
			}
			want, _ := buildinfo.Read(bytes.NewReader(b))
			got, err := buildinfo.Read(part.Open())
			if err != nil || got.String() != want.String() {
				t.Errorf("%s: build information from the partial: %v", p, err)
			}
		}
		for _, e := range idx.Entries {
			if _, ok := bins[e.Path]; ok && e.Content.Kind != ContentELF {
				t.Errorf("%s: content %+v, want ELF", e.Path, e.Content)
			}
		}
	}

	if idx := index(nil, Limits{}); len(idx.Files)+len(idx.Partials) != 0 {
		t.Errorf("without the pattern, captured %d files and %d partials", len(idx.Files), len(idx.Partials))
	}

	idx := index([]string{CaptureGoExecutables, "/usr/lib/go-x/**"}, Limits{})
	for p, b := range bins {
		if !bytes.Equal(idx.Files[p], b) {
			t.Errorf("%s, named: captured %d bytes, want the whole file of %d", p, len(idx.Files[p]), len(b))
		}
	}
}

// TestGoExecutableHead: the head test accepts Go's build ID note only in
// its exact shape, and the build ID string only in executables.
func TestGoExecutableHead(t *testing.T) {
	note := func(order binary.AppendByteOrder, namesz, typ uint32, at int) []byte {
		h := append([]byte(elfMagic), 2, 1, 1)
		if order == binary.AppendByteOrder(binary.BigEndian) {
			h[5] = 2
		}
		h = append(h, make([]byte, at-len(h))...)
		h = order.AppendUint32(h, namesz)
		h = order.AppendUint32(h, 8)
		h = order.AppendUint32(h, typ)
		return append(h, "Go\x00\x00buildid!"...)
	}
	for _, tt := range []struct {
		name string
		head []byte
		want bool
	}{
		{"note", note(binary.LittleEndian, 4, goNoteType, 0xf9c), true},
		{"note, namesz 3", note(binary.LittleEndian, 3, goNoteType, 0xf78), true},
		{"note, big-endian", note(binary.BigEndian, 4, goNoteType, 0x100), true},
		{"note of another type", note(binary.LittleEndian, 4, 3, 0x100), false},
		{"note name too long", note(binary.LittleEndian, 5, goNoteType, 0x100), false},
		{"misaligned", note(binary.LittleEndian, 4, goNoteType, 0x101), false},
		{"UPX", append(it.ELF("/lib/ld.so", 256), "UPX!"...), true},
		{"other ELF", it.ELF("/lib/ld.so", 4000), false},
		{"PE", append([]byte("MZ\x90\x00"), goBuildIDString+"abc"...), true},
		{"text", []byte(goBuildIDString + goBuildInfoMagic), false},
		{"short", []byte(elfMagic), false},
		{"empty", nil, false},
	} {
		if got := goExecutable(tt.head); got != tt.want {
			t.Errorf("%s: goExecutable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCaptureFollowsSymlinks: the target of a symlink a capture pattern
// names is captured when it comes later in the layer, through a chain of
// links, whatever its name; a target already past in the stream is not.
func TestCaptureFollowsSymlinks(t *testing.T) {
	exe := it.ELF("/lib64/ld-linux-x86-64.so.2", 64)
	tarball, err := it.Tar(
		it.Symlink("usr/bin/gcc", "gcc-12"),
		it.Symlink("usr/bin/gcc-12", "/usr/lib/gcc/x86_64-linux-gnu-gcc-12"),
		it.File("usr/bin/redis-check-rdb", 0o755, exe),
		it.Symlink("usr/bin/redis-server", "redis-check-rdb"),
		it.Symlink("usr/bin/ruby", "../../../../usr/bin/ruby3.1"),
		it.Symlink("usr/bin/other", "unrelated"),
		it.File("usr/bin/ruby3.1", 0o755, exe),
		it.File("usr/bin/unrelated", 0o755, exe),
		it.File("usr/lib/gcc/x86_64-linux-gnu-gcc-12", 0o755, exe),
	)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := IndexStream(context.Background(), bytes.NewReader(tarball), Options{Capture: []string{"**/gcc", "**/redis-server", "**/ruby"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range idx.Files {
		got = append(got, p)
	}
	slices.Sort(got)
	want := []string{"/usr/bin/ruby3.1", "/usr/lib/gcc/x86_64-linux-gnu-gcc-12"}
	if !slices.Equal(got, want) {
		t.Errorf("captured %v, want %v", got, want)
	}
}
