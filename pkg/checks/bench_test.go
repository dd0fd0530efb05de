package checks

import (
	"context"
	"fmt"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// bigImage is a usrmerge distribution-like filesystem with n files spread
// over PATH and library directories, squashed without tar streams.
func bigImage(b testing.TB, n int) *Image {
	b.Helper()
	idx := &layers.LayerIndex{Files: map[string][]byte{}}
	add := func(e layers.Entry) { idx.Entries = append(idx.Entries, e) }
	dir := func(p string) { add(layers.Entry{Path: p, Type: layers.TypeDir, Mode: 0o755}) }
	dir("/usr")
	dir("/usr/bin")
	dir("/usr/lib")
	add(layers.Entry{Path: "/bin", Type: layers.TypeSymlink, Linkname: "usr/bin"})
	exe := layers.Content{Kind: layers.ContentELF, Interpreter: "/lib64/ld-linux-x86-64.so.2"}
	for _, t := range []string{"dash", "bash", "apt", "curl", "chmod", "su"} {
		add(layers.Entry{Path: "/usr/bin/" + t, Type: layers.TypeRegular, Mode: 0o755, Size: 100, Content: exe})
	}
	add(layers.Entry{Path: "/usr/bin/sh", Type: layers.TypeSymlink, Linkname: "dash"})
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("/usr/lib/pkg%d", i/100)
		if i%100 == 0 {
			dir(d)
		}
		mode := fsMode(0o644)
		if i%10 == 0 {
			add(layers.Entry{Path: fmt.Sprintf("/usr/bin/tool%d", i), Type: layers.TypeRegular, Mode: 0o755, Size: 10, Content: exe})
		}
		add(layers.Entry{Path: fmt.Sprintf("%s/file%d.so", d, i), Type: layers.TypeRegular, Mode: mode, Size: 10})
	}
	f, err := layers.Squash([]*layers.LayerIndex{idx}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return NewImage("big", &v1.ConfigFile{}, f)
}

func BenchmarkRunAll(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				img := bigImage(b, n)
				b.StartTimer()
				if _, err := Run(context.Background(), img, All()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
