package fetch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Size caps for the JSON documents read whole into memory, from any
// source. Layers are always streamed.
//
// A manifest of 1,000 layers (pkg/layers' default layer cap) is about
// 200 KB, and containerd refuses manifests over 4 MiB: 8 MiB leaves room
// for large indexes. A real image config is a few KB to a few hundred KB;
// each of its history steps costs the checks work and may cost the report
// a finding, and a 42 MB config of 350,000 history steps made a scan take
// minutes and gigabytes, so configs are capped at 4 MiB (about 25,000
// steps of a long command line each).
const (
	maxManifestSize = 8 << 20
	maxConfigSize   = 4 << 20
)

// tooLarge is the error for a JSON document of size bytes over its cap,
// which it names.
func tooLarge(what string, size, limit int64) error {
	name := "manifest size limit"
	if limit == maxConfigSize {
		name = "image config size limit"
	}
	return kindError(ErrUnsupported, "%s is %d bytes, over the %s (%d bytes)", what, size, name, limit)
}

// blobSource opens the blobs of a local image store by digest.
type blobSource interface {
	// openBlob returns the blob and its size. A missing blob is an error
	// wrapping fs.ErrNotExist.
	openBlob(h v1.Hash) (io.ReadCloser, int64, error)
}

// dirStore is the blobs/ directory of an OCI image layout.
type dirStore struct{ root string }

func (d *dirStore) openBlob(h v1.Hash) (io.ReadCloser, int64, error) {
	// v1.Hash only holds a known algorithm and hex digits, so this path
	// cannot climb out of the layout.
	p := filepath.Join(d.root, "blobs", h.Algorithm, h.Hex)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, kindError(ErrCorrupt, "blob %s is not a regular file", h)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// readBlob reads a whole blob of at most limit bytes and checks it against
// desc (digest, and size when set).
func readBlob(src blobSource, desc v1.Descriptor, limit int64) ([]byte, error) {
	return readDescriptor(storeOpener(src), desc, limit)
}

// readDescriptor reads the blob desc describes through open, at most limit
// bytes, and checks it against desc.
func readDescriptor(open func(v1.Descriptor) (io.ReadCloser, int64, error), desc v1.Descriptor, limit int64) ([]byte, error) {
	rc, size, err := open(desc)
	if err != nil {
		return nil, blobError(desc.Digest, err)
	}
	defer rc.Close()
	if size > limit || desc.Size > limit {
		return nil, tooLarge("blob "+desc.Digest.String(), max(size, desc.Size), limit)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", desc.Digest, err)
	}
	if int64(len(b)) > limit {
		return nil, tooLarge("blob "+desc.Digest.String(), int64(len(b)), limit)
	}
	if err := checkBytes(b, desc); err != nil {
		return nil, err
	}
	return b, nil
}

func blobError(h v1.Hash, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return kindError(ErrCorrupt, "blob %s is missing", h)
	}
	return fmt.Errorf("opening blob %s: %w", h, err)
}

// checkBytes verifies b against desc's digest and size.
func checkBytes(b []byte, desc v1.Descriptor) error {
	if desc.Size > 0 && int64(len(b)) != desc.Size {
		return kindError(ErrCorrupt, "blob %s has %d bytes, descriptor says %d", desc.Digest, len(b), desc.Size)
	}
	h, err := v1.Hasher(desc.Digest.Algorithm)
	if err != nil {
		return kindError(ErrUnsupported, "blob %s: %v", desc.Digest, err)
	}
	h.Write(b)
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != desc.Digest.Hex {
		return kindError(ErrCorrupt, "blob %s does not match its digest (content hashes to %s:%s)", desc.Digest, desc.Digest.Algorithm, got)
	}
	return nil
}

// digestOf returns the sha256 digest of b.
func digestOf(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// verifyReader checks a streamed blob against its digest and size; the
// check fails the Read that reaches EOF.
type verifyReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	size int64 // expected size, or -1
	n    int64
}

func newVerifyReader(rc io.ReadCloser, want v1.Hash, size int64) (io.ReadCloser, error) {
	h, err := v1.Hasher(want.Algorithm)
	if err != nil {
		rc.Close()
		return nil, kindError(ErrUnsupported, "blob %s: %v", want, err)
	}
	if size <= 0 {
		size = -1
	}
	return &verifyReader{rc: rc, h: h, want: want, size: size}, nil
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.size >= 0 && v.n > v.size {
		return n, kindError(ErrCorrupt, "blob %s is longer than its %d bytes", v.want, v.size)
	}
	if err == io.EOF {
		if v.size >= 0 && v.n != v.size {
			return n, kindError(ErrCorrupt, "blob %s has %d bytes, descriptor says %d", v.want, v.n, v.size)
		}
		if got := fmt.Sprintf("%x", v.h.Sum(nil)); got != v.want.Hex {
			return n, kindError(ErrCorrupt, "blob %s does not match its digest (content hashes to %s:%s)", v.want, v.want.Algorithm, got)
		}
	}
	return n, err
}

func (v *verifyReader) Close() error { return v.rc.Close() }

// localImage is an image whose manifest is known and whose blobs come from
// a local store. It implements partial.CompressedImageCore.
type localImage struct {
	desc     v1.Descriptor // of the manifest
	raw      []byte
	manifest *v1.Manifest
	open     func(d v1.Descriptor) (io.ReadCloser, int64, error)

	configOnce sync.Once
	rawConfig  []byte
	config     *v1.ConfigFile
	configErr  error

	// byDigest maps a layer digest to its first position in the manifest,
	// built once: a per-layer scan of the manifest is quadratic work in
	// the number of layers.
	byDigestOnce sync.Once
	byDigest     map[v1.Hash]int
}

var _ partial.CompressedImageCore = (*localImage)(nil)

// newLocalImage parses a manifest and wraps it into a v1.Image.
func newLocalImage(desc v1.Descriptor, raw []byte, open func(v1.Descriptor) (io.ReadCloser, int64, error)) (v1.Image, error) {
	li, err := parseLocalImage(desc, raw, open)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(li)
}

func parseLocalImage(desc v1.Descriptor, raw []byte, open func(v1.Descriptor) (io.ReadCloser, int64, error)) (*localImage, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, kindError(ErrCorrupt, "manifest %s: %v", desc.Digest, err)
	}
	if desc.MediaType == "" {
		desc.MediaType = m.MediaType
	}
	return &localImage{desc: desc, raw: raw, manifest: m, open: open}, nil
}

// storeOpener serves descriptors from a blobSource by digest.
func storeOpener(src blobSource) func(v1.Descriptor) (io.ReadCloser, int64, error) {
	return func(d v1.Descriptor) (io.ReadCloser, int64, error) { return src.openBlob(d.Digest) }
}

func (li *localImage) MediaType() (types.MediaType, error) {
	if li.desc.MediaType != "" {
		return li.desc.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (li *localImage) RawManifest() ([]byte, error) { return li.raw, nil }

// Manifest returns a copy of the parsed manifest.
func (li *localImage) Manifest() (*v1.Manifest, error) { return li.manifest.DeepCopy(), nil }

func (li *localImage) loadConfig() {
	li.configOnce.Do(func() {
		li.rawConfig, li.configErr = readDescriptor(li.open, li.manifest.Config, maxConfigSize)
		if li.configErr != nil {
			return
		}
		li.config, li.configErr = v1.ParseConfigFile(bytes.NewReader(li.rawConfig))
		if li.configErr != nil {
			li.configErr = kindError(ErrCorrupt, "config %s: %v", li.manifest.Config.Digest, li.configErr)
		}
	})
}

func (li *localImage) RawConfigFile() ([]byte, error) {
	li.loadConfig()
	return li.rawConfig, li.configErr
}

// ConfigFile returns a copy of the parsed config.
func (li *localImage) ConfigFile() (*v1.ConfigFile, error) {
	li.loadConfig()
	if li.configErr != nil {
		return nil, li.configErr
	}
	return li.config.DeepCopy(), nil
}

func (li *localImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == li.manifest.Config.Digest {
		return &localBlob{img: li, desc: li.manifest.Config}, nil
	}
	if i, ok := li.layerIndex(h); ok {
		return &localLayer{localBlob{img: li, desc: li.manifest.Layers[i]}, i}, nil
	}
	return nil, kindError(ErrNotFound, "no blob %s in image", h)
}

// layerIndex returns the first manifest position of the layer h.
func (li *localImage) layerIndex(h v1.Hash) (int, bool) {
	li.byDigestOnce.Do(func() {
		li.byDigest = make(map[v1.Hash]int, len(li.manifest.Layers))
		for i, d := range li.manifest.Layers {
			if _, ok := li.byDigest[d.Digest]; !ok {
				li.byDigest[d.Digest] = i
			}
		}
	})
	i, ok := li.byDigest[h]
	return i, ok
}

// localBlob is a blob of a localImage, verified as it is read.
type localBlob struct {
	img  *localImage
	desc v1.Descriptor
}

func (b *localBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *localBlob) Size() (int64, error)                { return b.desc.Size, nil }
func (b *localBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }

// Descriptor implements partial.Describable's fast path.
func (b *localBlob) Descriptor() (*v1.Descriptor, error) { return b.desc.DeepCopy(), nil }

// Compressed returns the blob exactly as stored. Its digest and size are
// checked when the end is read.
func (b *localBlob) Compressed() (io.ReadCloser, error) {
	rc, size, err := b.img.open(b.desc)
	if err != nil {
		return nil, blobError(b.desc.Digest, err)
	}
	if b.desc.Size > 0 && size >= 0 && size != b.desc.Size {
		rc.Close()
		return nil, kindError(ErrCorrupt, "blob %s has %d bytes, descriptor says %d", b.desc.Digest, size, b.desc.Size)
	}
	return newVerifyReader(rc, b.desc.Digest, b.desc.Size)
}

// localLayer is a layer of a localImage, at position index of its
// manifest; its DiffID comes from the config.
type localLayer struct {
	localBlob
	index int
}

// DiffID implements partial.WithDiffID from the config's rootfs, by
// position, like partial.BlobToDiffID but without copying the manifest and
// the config for each layer.
func (l *localLayer) DiffID() (v1.Hash, error) {
	l.img.loadConfig()
	if l.img.configErr != nil {
		return v1.Hash{}, l.img.configErr
	}
	ids := l.img.config.RootFS.DiffIDs
	if len(ids) != len(l.img.manifest.Layers) {
		return v1.Hash{}, kindError(ErrCorrupt, "manifest lists %d layers, config has %d diff_ids", len(l.img.manifest.Layers), len(ids))
	}
	return ids[l.index], nil
}

// localIndex is an index whose children come from a blobSource.
type localIndex struct {
	desc v1.Descriptor
	raw  []byte
	im   *v1.IndexManifest
	src  blobSource
}

var _ v1.ImageIndex = (*localIndex)(nil)

func parseLocalIndex(src blobSource, desc v1.Descriptor, raw []byte) (*localIndex, error) {
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, kindError(ErrCorrupt, "index %s: %v", desc.Digest, err)
	}
	return &localIndex{desc: desc, raw: raw, im: im, src: src}, nil
}

func (x *localIndex) MediaType() (types.MediaType, error) {
	if x.desc.MediaType != "" {
		return x.desc.MediaType, nil
	}
	if x.im.MediaType != "" {
		return x.im.MediaType, nil
	}
	return types.OCIImageIndex, nil
}

func (x *localIndex) Digest() (v1.Hash, error) { return x.desc.Digest, nil }
func (x *localIndex) Size() (int64, error)     { return x.desc.Size, nil }
func (x *localIndex) RawManifest() ([]byte, error) {
	return x.raw, nil
}

// IndexManifest returns a copy of the parsed index.
func (x *localIndex) IndexManifest() (*v1.IndexManifest, error) { return x.im.DeepCopy(), nil }

func (x *localIndex) child(h v1.Hash) (v1.Descriptor, error) {
	for _, d := range x.im.Manifests {
		if d.Digest == h {
			return d, nil
		}
	}
	return v1.Descriptor{}, kindError(ErrNotFound, "no manifest %s in index", h)
}

func (x *localIndex) Image(h v1.Hash) (v1.Image, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	return loadImage(x.src, d)
}

func (x *localIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	return loadIndex(x.src, d)
}

func loadImage(src blobSource, d v1.Descriptor) (v1.Image, error) {
	raw, err := readBlob(src, d, maxManifestSize)
	if err != nil {
		return nil, err
	}
	return newLocalImage(d, raw, storeOpener(src))
}

func loadIndex(src blobSource, d v1.Descriptor) (*localIndex, error) {
	raw, err := readBlob(src, d, maxManifestSize)
	if err != nil {
		return nil, err
	}
	return parseLocalIndex(src, d, raw)
}

// rootIndex wraps the index.json of a layout. It is not content-addressed;
// its descriptor carries the digest of its bytes only so that the
// v1.ImageIndex methods have something to say.
func rootIndex(src blobSource, raw []byte) (*localIndex, error) {
	if len(raw) > maxManifestSize {
		return nil, tooLarge("index.json", int64(len(raw)), maxManifestSize)
	}
	var probe struct {
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, kindError(ErrCorrupt, "index.json: %v", err)
	}
	desc := v1.Descriptor{MediaType: types.OCIImageIndex, Digest: digestOf(raw), Size: int64(len(raw))}
	return parseLocalIndex(src, desc, raw)
}
