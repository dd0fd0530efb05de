package layers_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// FuzzIndex feeds arbitrary bytes to the indexer as one layer, squashes the
// result over a fixed base layer, and resolves every path it produced. It must
// never panic, hang or exceed its limits.
func FuzzIndex(f *testing.F) {
	seeds := [][]it.Item{
		{it.Dir("bin", 0o755), it.File("bin/sh", 0o755, it.ELF("/lib/ld.so", 8)), it.Hardlink("bin/ash", "bin/sh")},
		{it.Symlink("bin", "usr/bin"), it.Text("bin/x", "x"), it.Whiteout("usr"), it.Opaque("etc")},
		{it.Text("../../etc/passwd", "root:x:0:0::/:/bin/sh"), it.Symlink("up", "../../.."), it.Symlink("a", "b"), it.Symlink("b", "a")},
		{it.Raw(tar.Header{Name: "/abs", Typeflag: tar.TypeLink, Linkname: "../../x"}, nil), it.Text("etc/.wh..wh..opq", "")},
		{it.Text("k", "-----BEGIN RSA PRIVATE KEY-----\n"), it.File("s", 0o4755, it.Script("/usr/bin/env -S python3", ""))},
		// A Go executable above the small pass's capture cap: its build
		// information blob is kept (layers.Partial).
		{it.File("app", 0o755, append(append(it.ELF("", 48), "\xff Go buildinf:\x08\x02"...), make([]byte, 64)...))},
		// A Go executable found by its build ID note, its section headers
		// declared past the build information; symlinks to captures.
		{it.Symlink("etc/ruby", "../usr/bin/ruby3"), it.Symlink("usr/bin/ruby3", "/opt/r"), it.Text("opt/r", "r"),
			it.File("usr/lib/go/gofmt", 0o755, goNoteELF())},
		// A Go executable linked without a build ID: its build
		// information starts its writable segment.
		{it.File("usr/bin/repro", 0o755, noBuildIDELF())},
	}
	for _, s := range seeds {
		b, err := it.Tar(s...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(gz(b))
	}
	base, err := it.Tar(it.Dir("usr/bin", 0o755), it.Symlink("bin", "usr/bin"), it.File("usr/bin/dash", 0o755, it.ELF("", 8)), it.Text("etc/passwd", "root:x:0:0::/:/bin/sh\n"))
	if err != nil {
		f.Fatal(err)
	}
	opts := layers.Options{
		Capture: []string{"/etc/passwd", "**/*.pem", "/etc/**", layers.CaptureGoExecutables},
		Limits:  layers.Limits{MaxEntries: 10000, MaxLayerBytes: 16 << 20, MaxPathLen: 4096},
	}
	ctx := context.Background()
	baseIdx, err := layers.IndexStream(ctx, bytes.NewReader(base), opts)
	if err != nil {
		f.Fatal(err)
	}
	// The same bytes with every file declared and a 16-byte cap: ELF files
	// go through the partial capture.
	small := opts
	small.Capture = []string{"/**", layers.CaptureGoExecutables}
	small.Limits.MaxCaptureBytes = 16
	f.Fuzz(func(t *testing.T, data []byte) {
		if idx, err := layers.IndexStream(ctx, bytes.NewReader(data), small); err == nil {
			for p, part := range idx.Partials {
				end := int64(0)
				for _, r := range part.Ranges {
					if r.Off < end || r.Off+int64(len(r.Data)) > part.Size {
						t.Fatalf("%s: range %d+%d outside %d bytes or before %d", p, r.Off, len(r.Data), part.Size, end)
					}
					end = r.Off + int64(len(r.Data))
				}
				buf := make([]byte, 32)
				part.Open().ReadAt(buf, 0)
				part.Open().ReadAt(buf, max(0, part.Size-8))
			}
		}
		idx, err := layers.IndexStream(ctx, bytes.NewReader(data), opts)
		if err != nil {
			return
		}
		fsys, err := layers.Squash([]*layers.LayerIndex{baseIdx, idx}, nil)
		if err != nil {
			t.Fatalf("squash: %v", err)
		}
		n := 0
		fsys.Walk(func(node *layers.Node) error {
			n++
			fsys.Stat(node.Path)
			fsys.ReadFile(node.Path)
			if node.Path == "" || node.Path[0] != '/' {
				t.Fatalf("non-absolute path %q", node.Path)
			}
			return nil
		})
		if n != fsys.Len() {
			t.Fatalf("walk saw %d entries, Len says %d", n, fsys.Len())
		}
		for _, e := range idx.Entries {
			fsys.Stat(e.Path)
			fsys.Lstat(e.Linkname)
		}
	})
}

// goNoteELF is a 64-bit ELF file with Go's build ID note in its head, build
// information after it and section headers declared at its end.
func goNoteELF() []byte {
	b := it.ELF("", 48)
	b = append(b, make([]byte, 0x100-len(b))...)
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = binary.LittleEndian.AppendUint32(b, 8)
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = append(b, "Go\x00\x00buildid!"...)
	b = append(b, make([]byte, 0x200-len(b))...)
	b = append(b, "\xff Go buildinf:\x08\x02"...)
	b = append(b, make([]byte, 0x400-len(b))...)
	binary.LittleEndian.PutUint64(b[0x28:], 0x300) // e_shoff
	binary.LittleEndian.PutUint16(b[0x3a:], 64)    // e_shentsize
	binary.LittleEndian.PutUint16(b[0x3c:], 4)     // e_shnum
	return b
}

// noBuildIDELF is an ELF file whose head shows nothing Go and whose one
// writable PT_LOAD segment, at 8 KiB, starts with Go build information.
func noBuildIDELF() []byte {
	b := it.WritableELF(8<<10, 64, 8<<10+64)
	copy(b[8<<10:], "\xff Go buildinf:\x08\x02")
	return b
}
