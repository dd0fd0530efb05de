package fetch

import (
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// classifiedImage is the image a Target hands out: every error of its
// methods, of its layers and of the readers of their blobs (a download
// failing half way, a blob that does not match its digest) is an *Error
// that wraps the matching sentinel and is scrubbed of the credentials the
// options handed out, including those the keychain resolves later. Such
// errors name no reference: the caller knows which image and which layer
// it was reading and says so around them.
type classifiedImage struct {
	img     v1.Image
	secrets func() []string
}

var _ v1.Image = classifiedImage{}

// classifyImage wraps img so that its errors are classified where they
// happen; secrets is consulted at each error.
func classifyImage(img v1.Image, secrets func() []string) v1.Image {
	return classifiedImage{img: img, secrets: secrets}
}

// fail classifies err (nil stays nil; an *Error is kept as it is).
func (c classifiedImage) fail(err error) error {
	if err == nil {
		return nil
	}
	return classify("", err, c.secrets())
}

func (c classifiedImage) Layers() ([]v1.Layer, error) {
	ls, err := c.img.Layers()
	if err != nil {
		return nil, c.fail(err)
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = c.layer(l)
	}
	return out, nil
}

func (c classifiedImage) layer(l v1.Layer) v1.Layer { return classifiedLayer{l: l, c: c} }

func (c classifiedImage) MediaType() (types.MediaType, error) {
	mt, err := c.img.MediaType()
	return mt, c.fail(err)
}

func (c classifiedImage) Size() (int64, error) {
	n, err := c.img.Size()
	return n, c.fail(err)
}

func (c classifiedImage) ConfigName() (v1.Hash, error) {
	h, err := c.img.ConfigName()
	return h, c.fail(err)
}

func (c classifiedImage) ConfigFile() (*v1.ConfigFile, error) {
	cf, err := c.img.ConfigFile()
	return cf, c.fail(err)
}

func (c classifiedImage) RawConfigFile() ([]byte, error) {
	b, err := c.img.RawConfigFile()
	return b, c.fail(err)
}

func (c classifiedImage) Digest() (v1.Hash, error) {
	h, err := c.img.Digest()
	return h, c.fail(err)
}

func (c classifiedImage) Manifest() (*v1.Manifest, error) {
	m, err := c.img.Manifest()
	return m, c.fail(err)
}

func (c classifiedImage) RawManifest() ([]byte, error) {
	b, err := c.img.RawManifest()
	return b, c.fail(err)
}

func (c classifiedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := c.img.LayerByDigest(h)
	if err != nil {
		return nil, c.fail(err)
	}
	return c.layer(l), nil
}

func (c classifiedImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	l, err := c.img.LayerByDiffID(h)
	if err != nil {
		return nil, c.fail(err)
	}
	return c.layer(l), nil
}

// classifiedLayer is a layer of a classifiedImage.
type classifiedLayer struct {
	l v1.Layer
	c classifiedImage
}

var _ v1.Layer = classifiedLayer{}

func (l classifiedLayer) Digest() (v1.Hash, error) {
	h, err := l.l.Digest()
	return h, l.c.fail(err)
}

func (l classifiedLayer) DiffID() (v1.Hash, error) {
	h, err := l.l.DiffID()
	return h, l.c.fail(err)
}

func (l classifiedLayer) Size() (int64, error) {
	n, err := l.l.Size()
	return n, l.c.fail(err)
}

func (l classifiedLayer) MediaType() (types.MediaType, error) {
	mt, err := l.l.MediaType()
	return mt, l.c.fail(err)
}

func (l classifiedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.l.Compressed()
	if err != nil {
		return nil, l.c.fail(err)
	}
	return classifiedReader{rc: rc, c: l.c}, nil
}

func (l classifiedLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.l.Uncompressed()
	if err != nil {
		return nil, l.c.fail(err)
	}
	return classifiedReader{rc: rc, c: l.c}, nil
}

// classifiedReader classifies the errors of a blob's reader. io.EOF itself
// is passed on as it is, since readers compare it with ==.
type classifiedReader struct {
	rc io.ReadCloser
	c  classifiedImage
}

func (r classifiedReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF {
		err = r.c.fail(err)
	}
	return n, err
}

func (r classifiedReader) Close() error { return r.c.fail(r.rc.Close()) }
