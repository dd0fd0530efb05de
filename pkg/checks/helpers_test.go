package checks

import (
	"archive/tar"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

var (
	elf    = it.ELF("/lib64/ld-linux-x86-64.so.2", 32) // a dynamically linked executable
	static = it.ELF("", 32)                            // a statically linked executable
)

// build makes an image from cfg and steps, scans it with the catalogue's
// captures and returns it ready for checks.
func build(t *testing.T, cfg v1.Config, steps ...it.LayerStep) *Image {
	t.Helper()
	img, err := it.Image(cfg, steps...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := layers.Scan(context.Background(), img, layers.ImageOptions{Options: layers.Options{Capture: Captures(All())}})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return NewImage("test", cf, f)
}

// run runs one check and renders its findings as rows (see row).
func run(t *testing.T, c Check, img *Image) []string {
	t.Helper()
	fs, err := Run(context.Background(), img, []Check{c})
	if err != nil {
		t.Fatal(err)
	}
	return rows(fs)
}

// rows renders findings compactly: "PATH NAME [aliases=A,B] L<layer> [deleted]".
func rows(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		s := f.Path
		if s == "" {
			s = "-"
		}
		s += " " + f.Name
		if len(f.Aliases) > 0 {
			s += " aliases=" + strings.Join(f.Aliases, ",")
		}
		switch {
		case f.Layer == nil:
			s += " L?"
		case f.Layer.Index < 0:
			s += fmt.Sprintf(" H%d", f.Layer.HistoryIndex)
		default:
			s += fmt.Sprintf(" L%d", f.Layer.Index)
		}
		if f.Deleted {
			s += " deleted"
		}
		out = append(out, s)
	}
	return out
}

// usrmerge is a merged-/usr layout: /bin, /sbin and /lib link into /usr.
func usrmerge() []it.Item {
	return []it.Item{
		it.Dir("usr/bin", 0o755), it.Dir("usr/sbin", 0o755), it.Dir("usr/lib", 0o755),
		it.Symlink("bin", "usr/bin"), it.Symlink("sbin", "usr/sbin"), it.Symlink("lib", "usr/lib"),
	}
}

// items concatenates item lists.
func items(lists ...[]it.Item) []it.Item {
	var out []it.Item
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// device is a character device node.
func device(name string, mode int64) it.Item {
	return it.Raw(tar.Header{Name: name, Typeflag: tar.TypeChar, Mode: mode, Devmajor: 1, Devminor: 3}, nil)
}

// fifo is a named pipe.
func fifo(name string, mode int64) it.Item {
	return it.Raw(tar.Header{Name: name, Typeflag: tar.TypeFifo, Mode: mode}, nil)
}

// busyboxLayer is busybox with hardlinked applets, as the busybox image
// ships it.
func busyboxLayer(applets ...string) it.LayerStep {
	is := []it.Item{it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, static)}
	for _, a := range applets {
		is = append(is, it.Hardlink("bin/"+a, "bin/busybox"))
	}
	return it.Step("ADD busybox.tar.xz /", is...)
}

// zeroConfig is an empty container config.
var zeroConfig = v1.Config{}

// elfEntry is a non-empty regular file entry with no special content.
func elfEntry(size int64) layers.Entry {
	return layers.Entry{Path: "/x", Type: layers.TypeRegular, Mode: 0o644, Size: size}
}

func fsMode(m uint32) fs.FileMode { return fs.FileMode(m) }
