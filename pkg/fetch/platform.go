package fetch

import (
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Bounds on what an index may make us walk.
const (
	maxIndexDepth    = 4
	maxIndexChildren = 4096
)

// selector turns indexes and images into Targets according to the platform
// options.
type selector struct {
	ctx    context.Context
	ref    string
	source Source
	o      *options
	// wrap, when set, wraps each selected image (registry images get
	// layers described once from their manifest).
	wrap func(v1.Image) v1.Image
}

// child is an image manifest found in an index.
type child struct {
	desc         v1.Descriptor
	parent       v1.ImageIndex
	parentDigest *v1.Hash
}

// defaultPlatform is taken from an index when no platform is asked for.
func defaultPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: "amd64"} }

// fromIndex selects the images of idx. idxDigest is nil for the index.json
// of a layout, which is not content-addressed.
func (s *selector) fromIndex(idx v1.ImageIndex, idxDigest *v1.Hash) ([]Target, error) {
	var children []child
	if err := s.collect(idx, idxDigest, 0, &children); err != nil {
		return nil, err
	}
	if len(children) == 0 {
		return nil, newError(s.ref, ErrUnsupported, "index has no image manifests")
	}
	switch {
	case s.o.allPlatforms:
		targets := make([]Target, 0, len(children))
		for _, c := range children {
			t, err := s.fromChild(c, "")
			if err != nil {
				return nil, err
			}
			targets = append(targets, t...)
		}
		return targets, nil
	case s.o.platform != nil:
		c, ok := pickPlatform(children, *s.o.platform)
		if !ok {
			return nil, newError(s.ref, ErrNoPlatform, "no %s in index; available: %s", formatPlatform(s.o.platform), available(children))
		}
		return s.fromChild(c, "")
	}
	n := len(children)
	if c, ok := pickPlatform(children, defaultPlatform()); ok {
		if n == 1 {
			return s.fromChild(c, formatPlatform(c.desc.Platform)+" (only platform)")
		}
		return s.fromChild(c, fmt.Sprintf("%s (default; index has %d platforms)", formatPlatform(c.desc.Platform), n))
	}
	c := children[0]
	if n == 1 {
		return s.fromChild(c, formatPlatform(c.desc.Platform)+" (only platform)")
	}
	return s.fromChild(c, fmt.Sprintf("%s (first of %d platforms; no linux/amd64)", formatPlatform(c.desc.Platform), n))
}

// collect appends the image manifests of idx, descending into nested
// indexes, and skipping attestations and other non-image entries.
func (s *selector) collect(idx v1.ImageIndex, idxDigest *v1.Hash, depth int, out *[]child) error {
	if depth >= maxIndexDepth {
		return newError(s.ref, ErrUnsupported, "indexes nested more than %d deep", maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if len(*out) >= maxIndexChildren {
			return newError(s.ref, ErrUnsupported, "index has more than %d manifests", maxIndexChildren)
		}
		switch {
		case isAttestation(d):
			continue
		case d.MediaType == types.OCIImageIndex || d.MediaType == types.DockerManifestList:
			sub, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			dd := d.Digest
			if err := s.collect(sub, &dd, depth+1, out); err != nil {
				return err
			}
		case d.MediaType == types.OCIManifestSchema1 || d.MediaType == types.DockerManifestSchema2:
			*out = append(*out, child{desc: d, parent: idx, parentDigest: idxDigest})
		}
	}
	return nil
}

// isAttestation reports descriptors of BuildKit attestation manifests and
// similar "unknown/unknown" entries.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// pickPlatform returns the first child matching want. Without a variant in
// want, a child without variant (or with the architecture's default one) is
// preferred over other variants.
func pickPlatform(children []child, want v1.Platform) (child, bool) {
	var fallback *child
	for i, c := range children {
		p := c.desc.Platform
		if p == nil || p.OS != want.OS || p.Architecture != want.Architecture {
			continue
		}
		if want.Variant != "" {
			if normVariant(p.Architecture, p.Variant) == normVariant(want.Architecture, want.Variant) {
				return c, true
			}
			continue
		}
		if normVariant(p.Architecture, p.Variant) == "" {
			return c, true
		}
		if fallback == nil {
			fallback = &children[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return child{}, false
}

// normVariant maps a default variant to "" (arm64 is v8 unless said
// otherwise).
func normVariant(arch, variant string) string {
	if arch == "arm64" && variant == "v8" {
		return ""
	}
	return variant
}

// platformMatches reports whether got satisfies want.
func platformMatches(want, got v1.Platform) bool {
	if want.OS != got.OS || want.Architecture != got.Architecture {
		return false
	}
	return want.Variant == "" || normVariant(want.Architecture, want.Variant) == normVariant(got.Architecture, got.Variant)
}

// formatPlatform renders os/arch[/variant], or "unknown platform".
func formatPlatform(p *v1.Platform) string {
	if p == nil || (p.OS == "" && p.Architecture == "") {
		return "unknown platform"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// available lists the distinct platforms of children.
func available(children []child) string {
	var seen []string
	for _, c := range children {
		p := formatPlatform(c.desc.Platform)
		if !contains(seen, p) {
			seen = append(seen, p)
		}
	}
	return strings.Join(seen, ", ")
}

func (s *selector) fromChild(c child, note string) ([]Target, error) {
	img, err := c.parent.Image(c.desc.Digest)
	if err != nil {
		return nil, err
	}
	return s.fromImage(img, c.desc.Digest, c.parentDigest, c.desc.Platform, note, false)
}

// fromImage builds the Target of one image. platform comes from the index
// descriptor when there is one; otherwise it is read from the config, and
// checked against WithPlatform when check is set (single images, not
// index children, which were already selected by platform).
func (s *selector) fromImage(img v1.Image, digest v1.Hash, idxDigest *v1.Hash, platform *v1.Platform, note string, check bool) ([]Target, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	if !isImageConfig(m.Config.MediaType) {
		return nil, newError(s.ref, ErrUnsupported, "not a container image (config media type %q)", m.Config.MediaType)
	}
	// The config is read whole into memory: a manifest must not make that
	// unbounded (a negative size is read to the end by go-containerregistry,
	// which verifies the announced size as it reads). The manifest was read
	// whole too: a registry's is capped by go-containerregistry at 100 MiB
	// only.
	if raw, err := img.RawManifest(); err == nil && len(raw) > maxManifestSize {
		return nil, tooLarge("image manifest", int64(len(raw)), maxManifestSize)
	}
	if m.Config.Size < 0 {
		return nil, newError(s.ref, ErrUnsupported, "config %s is announced as %d bytes", m.Config.Digest, m.Config.Size)
	}
	if size := max(m.Config.Size, int64(len(m.Config.Data))); size > maxConfigSize {
		return nil, tooLarge("config "+m.Config.Digest.String(), size, maxConfigSize)
	}
	if platform == nil {
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		if cfg.OS != "" || cfg.Architecture != "" {
			platform = &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
		}
	} else {
		p := *platform
		platform = &p
	}
	if want := s.o.platform; check && want != nil && !s.o.allPlatforms && platform != nil && !platformMatches(*want, *platform) {
		return nil, newError(s.ref, ErrNoPlatform, "no %s: the image is %s", formatPlatform(want), formatPlatform(platform))
	}
	if digest == (v1.Hash{}) {
		if digest, err = img.Digest(); err != nil {
			return nil, err
		}
	}
	var id *v1.Hash
	if idxDigest != nil {
		d := *idxDigest
		id = &d
	}
	if s.wrap != nil {
		img = s.wrap(img)
	}
	return []Target{{
		Reference:    s.ref,
		Source:       s.source,
		Digest:       digest,
		IndexDigest:  id,
		Platform:     platform,
		PlatformNote: note,
		Image:        classifyImage(img, s.o.secrets),
	}}, nil
}

// isImageConfig reports whether a config media type is that of a container
// image (as opposed to a Helm chart, a signature, an SBOM...).
func isImageConfig(mt types.MediaType) bool {
	switch mt {
	case types.DockerConfigJSON, types.OCIConfigJSON, "", "application/octet-stream":
		return true
	}
	return false
}
