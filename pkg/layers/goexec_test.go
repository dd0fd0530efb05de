package layers

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/binary"
	"os"
	"os/exec"
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

// goBuild links a tiny Go program with this machine's toolchain and flags,
// skipping the test without a toolchain (or, for external linking, without
// a C linker).
func goBuild(t *testing.T, cgo bool, flags ...string) []byte {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no Go toolchain")
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"go.mod": "module nobid\n\ngo 1.21\n", "main.go": "package main\n\nfunc main() { println(1) }\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goTool, append(append([]string{"build"}, flags...), "-o", "bin", ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOPROXY=off")
	if cgo {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		if cgo {
			t.Skipf("no external linker: %v\n%s", err, out)
		}
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoExecutablesWithoutBuildID: Go executables linked without a build
// ID (-ldflags=-buildid=, as reproducible builds link them) show nothing
// Go in their head, yet debug/buildinfo (so syft) reads their modules: the
// scan finds their build information in their writable segments (first in
// the first one, after the relocated read-only data of a
// position-independent executable, or after the C runtime's data when
// linked externally) and keeps them as Partials that read back the same,
// as it keeps a position-independent one with a build ID, whose build
// information debug/buildinfo finds by its section's name. ELF files whose
// writable segments hold no build information, or hold it misaligned or
// past their end, are not kept.
func TestGoExecutablesWithoutBuildID(t *testing.T) {
	bins := map[string][]byte{
		"/usr/bin/internal":     goBuild(t, false, "-ldflags=-buildid="),
		"/usr/bin/internal-pie": goBuild(t, false, "-ldflags=-buildid=", "-buildmode=pie"),
		"/usr/bin/pie-build-id": goBuild(t, false, "-buildmode=pie"),
	}
	t.Run("external", func(t *testing.T) {
		bins["/usr/bin/external"] = goBuild(t, true, "-ldflags=-buildid= -linkmode=external")
		bins["/usr/bin/external-pie"] = goBuild(t, true, "-ldflags=-buildid= -linkmode=external", "-buildmode=pie")
	})
	for p, b := range bins {
		if goExecutable(b[:sniffSize]) != (p == "/usr/bin/pie-build-id") {
			t.Fatalf("%s: goExecutable(head) = %v", p, !(p == "/usr/bin/pie-build-id"))
		}
		if _, err := buildinfo.Read(bytes.NewReader(b)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}

	// Synthetic ELF files: a writable PT_LOAD segment of size bytes at
	// seg (128 KiB, unless set), in a file of 256 KiB, a build information
	// blob at rel past its start (or none).
	synthAt := func(seg, size, rel int, blob bool) []byte {
		b := it.WritableELF(seg, size, 256<<10)
		if blob {
			copy(b[seg+rel:], goBuildInfoMagic+"\x08\x02")
		}
		return b
	}
	synth := func(size, rel int, blob bool) []byte { return synthAt(128<<10, size, rel, blob) }
	others := map[string][]byte{
		"/usr/bin/c-app":      append(it.ELF("/lib64/ld-linux-x86-64.so.2", 64), make([]byte, 2<<20)...),
		"/usr/bin/no-blob":    synth(128<<10, 0, false),
		"/usr/bin/unaligned":  synth(128<<10, 8, true),
		"/usr/bin/past-end":   synth(32<<10, 48<<10, true),
		"/usr/bin/straddling": synth(32<<10-8, 32<<10-16, true), // past its end
	}
	wantSynth := map[string][]byte{
		"/usr/bin/at-start":      synth(128<<10, 0, true),
		"/usr/bin/deep":          synth(128<<10, 96<<10, true),
		"/usr/bin/chunk-edge":    synthAt(128<<10+8, 96<<10, 64<<10-8, true), // across two reads
		"/usr/bin/past-chunk":    synth(128<<10, 64<<10, true),
		"/usr/bin/segment-start": synth(32, 0, true),
	}
	var items []it.Item
	for _, m := range []map[string][]byte{bins, others, wantSynth} {
		for p, b := range m {
			items = append(items, it.File(p[1:], 0o755, b))
		}
	}
	tarball, err := it.Tar(items...)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := IndexStream(context.Background(), bytes.NewReader(tarball), Options{Capture: []string{CaptureGoExecutables}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range idx.Partials {
		got = append(got, p)
	}
	slices.Sort(got)
	var want []string
	for _, m := range []map[string][]byte{bins, wantSynth} {
		for p := range m {
			want = append(want, p)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) || len(idx.Files) != 0 {
		t.Fatalf("partials %v and %d files, want %v", got, len(idx.Files), want)
	}
	for p, b := range bins {
		part := idx.Partials[p]
		for _, r := range part.Ranges {
			if !bytes.Equal(r.Data, b[r.Off:r.Off+int64(len(r.Data))]) {
				t.Errorf("%s: range at %d differs from the file", p, r.Off)
			}
		}
		if k := part.kept(); k > 2*partialWindow+shstrtabWindow+64<<10 {
			t.Errorf("%s: kept %d bytes", p, k)
		}
		want, _ := buildinfo.Read(bytes.NewReader(b))
		got, err := buildinfo.Read(part.Open())
		if err != nil || got.String() != want.String() {
			t.Errorf("%s: build information from the partial: %v", p, err)
		}
	}
	for p := range wantSynth {
		if part := idx.Partials[p]; part == nil || !part.GoBuildInfo() {
			t.Errorf("%s: no partial with the build information", p)
		}
	}
	// The same executables without the pattern: nothing kept.
	idx, err = IndexStream(context.Background(), bytes.NewReader(tarball), Options{})
	if err != nil || len(idx.Partials) != 0 {
		t.Errorf("without the pattern: %d partials, %v", len(idx.Partials), err)
	}
}
