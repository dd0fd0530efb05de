package fetch

import (
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// registryImage is an image from a registry whose layers are described
// from its manifest and config, each parsed once. go-containerregistry's
// remote layers re-parse the whole manifest for their size, media type and
// blob (and the config too for their diffID) on every call: for an image
// of n layers that is O(n²) work (3,000 layers: 31 s of CPU).
type registryImage struct {
	v1.Image
	repo  name.Repository
	ropts []remote.Option

	once   sync.Once
	layers []v1.Layer
	err    error
}

// Layers lists the layers in manifest order.
func (r *registryImage) Layers() ([]v1.Layer, error) {
	r.once.Do(func() {
		m, err := r.Image.Manifest()
		if err != nil {
			r.err = err
			return
		}
		cfg, err := r.Image.ConfigFile()
		if err != nil {
			r.err = err
			return
		}
		for i, d := range m.Layers {
			if len(d.URLs) > 0 || d.Data != nil {
				// Foreign layers and inline data: the registry's own
				// image knows where to find them.
				l, err := r.Image.LayerByDigest(d.Digest)
				if err != nil {
					r.err = err
					return
				}
				r.layers = append(r.layers, l)
				continue
			}
			rl := &registryLayer{desc: d, img: r}
			if i < len(cfg.RootFS.DiffIDs) {
				rl.diffID = cfg.RootFS.DiffIDs[i]
			}
			l, err := partial.CompressedToLayer(rl)
			if err != nil {
				r.err = err
				return
			}
			r.layers = append(r.layers, l)
		}
	})
	if r.err != nil {
		return nil, r.err
	}
	return append([]v1.Layer(nil), r.layers...), nil
}

// registryLayer is a layer known by its manifest descriptor, its blob
// fetched by digest (and verified against it as it is read).
type registryLayer struct {
	desc   v1.Descriptor
	diffID v1.Hash
	img    *registryImage
}

func (l *registryLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *registryLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *registryLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

// Descriptor implements partial.Describable.
func (l *registryLayer) Descriptor() (*v1.Descriptor, error) { return l.desc.DeepCopy(), nil }

// DiffID is the config's, by position; a config that lists fewer diffIDs
// than the manifest has layers is corrupt.
func (l *registryLayer) DiffID() (v1.Hash, error) {
	if l.diffID == (v1.Hash{}) {
		return v1.Hash{}, kindError(ErrCorrupt, "config has no diff_id for layer %s", l.desc.Digest)
	}
	return l.diffID, nil
}

func (l *registryLayer) Compressed() (io.ReadCloser, error) {
	rl, err := remote.Layer(l.img.repo.Digest(l.desc.Digest.String()), l.img.ropts...)
	if err != nil {
		return nil, err
	}
	return rl.Compressed()
}
