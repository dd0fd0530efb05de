// Package imagetest builds small container images in memory, entry by entry,
// for tests and for the generated example images under testdata/.
//
// A layer is a list of [Item]s written in order into a tar stream; an image is
// a config plus layers, each with its own history step.
//
//	img := imagetest.Image(cfg,
//		imagetest.Step("RUN apk add curl",
//			imagetest.Dir("/usr/bin", 0o755),
//			imagetest.File("/usr/bin/curl", 0o755, imagetest.ELF),
//		),
//	)
package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Item is one tar entry.
type Item struct {
	Header tar.Header
	Body   []byte
}

// Epoch is the fixed modification time of every generated entry, so images
// are reproducible.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func hdr(name string, typ byte, mode int64) tar.Header {
	return tar.Header{Name: name, Typeflag: typ, Mode: mode, ModTime: Epoch, Format: tar.FormatPAX}
}

// File is a regular file owned by root.
func File(name string, mode int64, body []byte) Item {
	h := hdr(name, tar.TypeReg, mode)
	h.Size = int64(len(body))
	return Item{Header: h, Body: body}
}

// Text is a regular file with a string body and mode 0644.
func Text(name, body string) Item { return File(name, 0o644, []byte(body)) }

// Dir is a directory owned by root.
func Dir(name string, mode int64) Item { return Item{Header: hdr(name, tar.TypeDir, mode)} }

// Symlink is a symbolic link to target.
func Symlink(name, target string) Item {
	h := hdr(name, tar.TypeSymlink, 0o777)
	h.Linkname = target
	return Item{Header: h}
}

// Hardlink is a hard link to target (a path inside the image).
//
// Its header says mode 0755: runtimes apply a hardlink header's mode, owner
// and extended attributes to the file it shares (see HardlinkMode).
func Hardlink(name, target string) Item {
	return HardlinkMode(name, target, 0o755)
}

// HardlinkMode is a hardlink whose header carries mode, as tar writers
// record the shared file's own mode: containerd chmods the file to it.
func HardlinkMode(name, target string, mode int64) Item {
	h := hdr(name, tar.TypeLink, mode)
	h.Linkname = target
	return Item{Header: h}
}

// Whiteout deletes name from lower layers.
func Whiteout(name string) Item {
	dir, base := splitDir(name)
	return Item{Header: hdr(dir+".wh."+base, tar.TypeReg, 0o644)}
}

// Opaque hides the lower-layer contents of directory dir.
func Opaque(dir string) Item {
	return Item{Header: hdr(trimSlash(dir)+"/.wh..wh..opq", tar.TypeReg, 0o644)}
}

// Owned returns it with the given owner.
func Owned(it Item, uid, gid int) Item {
	it.Header.Uid, it.Header.Gid = uid, gid
	return it
}

// Xattr returns it with the extended attribute name set to value, as a PAX
// SCHILY.xattr record (what GNU tar, BuildKit and containerd write).
func Xattr(it Item, name, value string) Item {
	recs := map[string]string{}
	for k, v := range it.Header.PAXRecords {
		recs[k] = v
	}
	recs["SCHILY.xattr."+name] = value
	it.Header.PAXRecords = recs
	it.Header.Format = tar.FormatPAX
	return it
}

// CapSetuidDacOverride is a security.capability value (vfs_cap_data
// revision 2, effective bit set) granting cap_setuid and cap_dac_override:
// what `setcap cap_setuid,cap_dac_override=ep FILE` writes.
const CapSetuidDacOverride = "\x01\x00\x00\x02\x82\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// Raw is an item with a header taken as is (for hostile names and types).
func Raw(h tar.Header, body []byte) Item {
	if h.Typeflag == tar.TypeReg && h.Size == 0 {
		h.Size = int64(len(body))
	}
	if h.ModTime.IsZero() {
		h.ModTime = Epoch
	}
	return Item{Header: h, Body: body}
}

func trimSlash(s string) string {
	for len(s) > 1 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

func splitDir(name string) (string, string) {
	name = trimSlash(name)
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[:i+1], name[i+1:]
		}
	}
	return "", name
}

// Tar writes items as an uncompressed tar stream.
func Tar(items ...Item) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, it := range items {
		h := it.Header
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("writing header %q: %w", h.Name, err)
		}
		if len(it.Body) > 0 {
			if _, err := tw.Write(it.Body); err != nil {
				return nil, fmt.Errorf("writing %q: %w", h.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Layer builds a gzip-compressed layer from items.
func Layer(items ...Item) (v1.Layer, error) {
	b, err := Tar(items...)
	if err != nil {
		return nil, err
	}
	return LayerFromTar(b)
}

// LayerFromTar builds a gzip-compressed layer from an uncompressed tar stream.
func LayerFromTar(b []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithMediaType(types.OCILayer))
}

// LayerStep is one layer with the history step that made it.
type LayerStep struct {
	CreatedBy string
	Items     []Item
	// Empty marks a history step that made no layer (ENV, USER, ...).
	Empty bool
}

// Step is a layer made by the history step createdBy.
func Step(createdBy string, items ...Item) LayerStep {
	return LayerStep{CreatedBy: createdBy, Items: items}
}

// Meta is a history step that made no layer, such as "USER 65532".
func Meta(createdBy string) LayerStep { return LayerStep{CreatedBy: createdBy, Empty: true} }

// Image builds an OCI image from cfg and steps, with one history entry per
// step. cfg may be the zero value.
func Image(cfg v1.Config, steps ...LayerStep) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, s := range steps {
		h := v1.History{CreatedBy: s.CreatedBy, Created: v1.Time{Time: Epoch}, EmptyLayer: s.Empty}
		add := mutate.Addendum{History: h, MediaType: types.OCILayer}
		if s.Empty {
			var err error
			img, err = mutate.Append(img, mutate.Addendum{History: h})
			if err != nil {
				return nil, err
			}
			continue
		}
		l, err := Layer(s.Items...)
		if err != nil {
			return nil, err
		}
		add.Layer = l
		img, err = mutate.Append(img, add)
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: Epoch}
	return mutate.ConfigFile(img, cf)
}

// Mode returns it with the header mode set to mode (a hardlink's own mode,
// for instance, which containerd applies to the shared inode).
func Mode(it Item, mode int64) Item {
	it.Header.Mode = mode
	return it
}
