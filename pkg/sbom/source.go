//go:build !nosbom

package sbom

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"

	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/source"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// imageSource is the syft source of one scanned image: its description
// comes from the manifest and config (no layer is read), its only scope is
// the squashed filesystem the scan built.
type imageSource struct {
	id       artifact.ID
	desc     source.Description
	resolver *resolver
}

var _ source.Source = (*imageSource)(nil)

func (s *imageSource) ID() artifact.ID              { return s.id }
func (s *imageSource) Describe() source.Description { return s.desc }
func (s *imageSource) Close() error                 { return nil }

// FileResolver returns the resolver over the squashed filesystem. Only the
// squashed scope exists: the scan keeps no per-layer view of contents.
func (s *imageSource) FileResolver(scope source.Scope) (file.Resolver, error) {
	if scope != source.SquashedScope && scope != source.UnknownScope {
		return nil, fmt.Errorf("scope %q is not supported: only %q", scope, source.SquashedScope)
	}
	return s.resolver, nil
}

// newSource describes img the way syft's own image source does, so that
// encoded documents name and identify the image alike.
func newSource(img Image, fsys *layers.FS) (*imageSource, error) {
	meta := source.ImageMetadata{UserInput: img.Reference, Tags: []string{}, RepoDigests: []string{}}
	if img.Image != nil {
		id, err := img.Image.ConfigName()
		if err != nil {
			return nil, fmt.Errorf("reading config digest: %w", err)
		}
		meta.ID = id.String()
		if meta.RawConfig, err = img.Image.RawConfigFile(); err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		if meta.RawManifest, err = img.Image.RawManifest(); err != nil {
			return nil, fmt.Errorf("reading manifest: %w", err)
		}
		mt, err := img.Image.MediaType()
		if err != nil {
			return nil, fmt.Errorf("reading manifest media type: %w", err)
		}
		meta.MediaType = string(mt)
		if m, err := img.Image.Manifest(); err == nil {
			for i, l := range m.Layers {
				lm := source.LayerMetadata{MediaType: string(l.MediaType)}
				if i < len(fsys.Layers()) {
					lm.Digest = fsys.Layers()[i].DiffID.String()
					lm.Size = fsys.Layers()[i].UncompressedSize
				}
				meta.Size += lm.Size
				meta.Layers = append(meta.Layers, lm)
			}
		}
		if cfg, err := img.Image.ConfigFile(); err == nil {
			meta.Architecture, meta.Variant, meta.OS = cfg.Architecture, cfg.Variant, cfg.OS
			meta.Labels = cfg.Config.Labels
		}
	}
	if img.Digest != (v1.Hash{}) {
		meta.ManifestDigest = img.Digest.String()
	} else if len(meta.RawManifest) > 0 {
		meta.ManifestDigest = digest.FromBytes(meta.RawManifest).String()
	}
	if ref, err := reference.ParseNormalizedNamed(img.Reference); err == nil {
		if t, ok := ref.(reference.NamedTagged); ok {
			meta.Tags = append(meta.Tags, t.String())
		}
		if meta.ManifestDigest != "" {
			meta.RepoDigests = append(meta.RepoDigests, ref.Name()+"@"+meta.ManifestDigest)
		}
	}

	// The artifact ID is the manifest digest, as for syft's image source.
	id := meta.ManifestDigest
	if len(meta.RawManifest) > 0 {
		id = digest.FromBytes(meta.RawManifest).String()
	}
	if id == "" {
		id = digest.FromString(img.Reference).String()
	}
	name, version := img.Reference, meta.ManifestDigest
	if ref, err := reference.Parse(img.Reference); err == nil {
		if n, ok := ref.(reference.Named); ok {
			name = n.Name()
		}
		if t, ok := ref.(reference.NamedTagged); ok && t.Tag() != "latest" {
			version = t.Tag()
		}
	}
	return &imageSource{
		id: artifact.ID(strings.TrimPrefix(id, "sha256:")),
		desc: source.Description{
			ID:       strings.TrimPrefix(id, "sha256:"),
			Name:     name,
			Version:  version,
			Metadata: meta,
		},
		resolver: newResolver(fsys),
	}, nil
}
