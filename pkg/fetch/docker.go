package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgaudit/imgaudit/internal/ctxio"
)

// dockerEntry is one image of a docker-save manifest.json.
type dockerEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// openDockerArchive reads the image named by suffix ("REPO:TAG") or dgst
// (manifest or config digest) from a docker-save archive.
func openDockerArchive(ctx context.Context, ref string, a *archive, suffix string, dgst *v1.Hash, o *options) ([]Target, error) {
	raw, err := a.readFile("manifest.json", maxManifestSize)
	if err != nil {
		if isNotExist(err) {
			return nil, newError(ref, ErrUnsupported, "archive has no manifest.json; not a docker archive (for an OCI archive use oci-archive:)")
		}
		return nil, err
	}
	var entries []dockerEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, newError(ref, ErrCorrupt, "manifest.json: %v", err)
	}
	sel := &selector{ctx: ctx, ref: ref, source: SourceDockerArchive, o: o}

	switch {
	case suffix != "":
		want, err := name.NewTag(suffix, name.WeakValidation)
		if err != nil {
			return nil, newError(ref, ErrInvalidReference, "%q is not REPO:TAG: %v", suffix, err)
		}
		for _, e := range entries {
			for _, t := range e.RepoTags {
				if t == suffix || sameImageName(t, want.Name()) {
					return sel.dockerTarget(a, e)
				}
			}
		}
		return nil, newError(ref, ErrNotFound, "no image tagged %q in archive; it has %s", suffix, describeEntries(entries))
	case dgst != nil:
		for _, e := range entries {
			img, digest, err := dockerImage(ctx, a, e)
			if err != nil {
				return nil, err
			}
			cfg, err := img.ConfigName()
			if err != nil {
				return nil, err
			}
			if digest == *dgst || cfg == *dgst {
				return sel.fromImage(img, digest, nil, nil, "", true)
			}
		}
		return nil, newError(ref, ErrNotFound, "no image with manifest or config digest %s in archive", dgst)
	}
	switch len(entries) {
	case 0:
		return nil, newError(ref, ErrNotFound, "archive holds no images")
	case 1:
		return sel.dockerTarget(a, entries[0])
	}
	return nil, newError(ref, ErrInvalidReference, "archive holds %d images; name one with :REPO:TAG: %s", len(entries), describeEntries(entries))
}

func (s *selector) dockerTarget(a *archive, e dockerEntry) ([]Target, error) {
	img, digest, err := dockerImage(s.ctx, a, e)
	if err != nil {
		return nil, err
	}
	return s.fromImage(img, digest, nil, nil, "", true)
}

// describeEntries lists the images of a manifest.json by tag or config.
func describeEntries(entries []dockerEntry) string {
	var parts []string
	for _, e := range entries {
		if len(e.RepoTags) > 0 {
			parts = append(parts, strings.Join(e.RepoTags, ", "))
		} else {
			parts = append(parts, "untagged "+e.Config)
		}
	}
	if len(parts) == 0 {
		return "no images"
	}
	return strings.Join(parts, "; ")
}

// dockerImage builds the image of one manifest.json entry and returns its
// manifest digest.
//
// Archives written by Docker 25 and later also hold an OCI layout: the real
// manifest is found there by its config digest and used as is. Legacy
// archives hold none, so one is synthesized: uncompressed layers (what
// docker save writes) are described by their DiffIDs, which are the digests
// of their bytes, and gzip/zstd layers (as written by some other tools) are
// hashed once here.
func dockerImage(ctx context.Context, a *archive, e dockerEntry) (v1.Image, v1.Hash, error) {
	rawConfig, err := a.readFile(e.Config, maxConfigSize)
	if err != nil {
		return nil, v1.Hash{}, memberError("config", e.Config, err)
	}
	cfgDigest := digestOf(rawConfig)
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, v1.Hash{}, kindError(ErrCorrupt, "config %s: %v", e.Config, err)
	}

	if a.has("index.json") {
		if desc, ok := findManifestByConfig(a, cfgDigest); ok {
			img, err := loadImage(a, desc)
			if err != nil {
				return nil, v1.Hash{}, err
			}
			return img, desc.Digest, nil
		}
	}

	type layerInfo struct {
		desc   v1.Descriptor
		member string
	}
	layers := make([]layerInfo, 0, len(e.Layers))
	zstd := false
	for i, lp := range e.Layers {
		m, err := a.lookup(lp)
		if err != nil {
			return nil, v1.Hash{}, memberError("layer", lp, err)
		}
		head := make([]byte, 4)
		n, _ := a.f.ReadAt(head, m.offset)
		head = head[:min(int64(n), m.size)]
		var d v1.Descriptor
		d.Size = m.size
		switch {
		case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
			d.MediaType = types.DockerLayer
		case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			d.MediaType, zstd = types.OCILayerZStd, true
		default:
			d.MediaType = types.DockerUncompressedLayer
		}
		if d.MediaType == types.DockerUncompressedLayer {
			if i >= len(cfg.RootFS.DiffIDs) {
				return nil, v1.Hash{}, kindError(ErrCorrupt, "manifest.json lists %d layers, config has %d diff_ids", len(e.Layers), len(cfg.RootFS.DiffIDs))
			}
			d.Digest = cfg.RootFS.DiffIDs[i]
		} else {
			sr := io.NewSectionReader(a.f, m.offset, m.size)
			if d.Digest, _, err = v1.SHA256(ctxio.Reader(ctx, sr)); err != nil {
				return nil, v1.Hash{}, fmt.Errorf("hashing layer %s: %w", lp, err)
			}
		}
		layers = append(layers, layerInfo{desc: d, member: lp})
	}

	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(rawConfig)), Digest: cfgDigest},
	}
	if zstd {
		m.MediaType, m.Config.MediaType = types.OCIManifestSchema1, types.OCIConfigJSON
	}
	members := map[v1.Hash]string{cfgDigest: e.Config}
	for _, l := range layers {
		d := l.desc
		if zstd {
			switch d.MediaType {
			case types.DockerLayer:
				d.MediaType = types.OCILayer
			case types.DockerUncompressedLayer:
				d.MediaType = types.OCIUncompressedLayer
			}
		}
		m.Layers = append(m.Layers, d)
		members[d.Digest] = l.member
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	desc := v1.Descriptor{MediaType: m.MediaType, Size: int64(len(raw)), Digest: digestOf(raw)}
	open := func(d v1.Descriptor) (io.ReadCloser, int64, error) {
		p, ok := members[d.Digest]
		if !ok {
			return nil, 0, kindError(ErrNotFound, "no member for blob %s", d.Digest)
		}
		return a.openMember(p)
	}
	img, err := newLocalImage(desc, raw, open)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	return img, desc.Digest, nil
}

func memberError(what, p string, err error) error {
	if isNotExist(err) {
		return kindError(ErrCorrupt, "%s %s is missing from the archive", what, p)
	}
	return fmt.Errorf("%s %s: %w", what, p, err)
}

// findManifestByConfig looks through the OCI layout of a Docker 25+
// archive for the image manifest whose config has the given digest.
func findManifestByConfig(a *archive, cfg v1.Hash) (v1.Descriptor, bool) {
	raw, err := a.readFile("index.json", maxManifestSize)
	if err != nil {
		return v1.Descriptor{}, false
	}
	root, err := rootIndex(a, raw)
	if err != nil {
		return v1.Descriptor{}, false
	}
	budget := maxIndexChildren
	var walk func(x *localIndex, depth int) (v1.Descriptor, bool)
	walk = func(x *localIndex, depth int) (v1.Descriptor, bool) {
		for _, d := range x.im.Manifests {
			if budget--; budget < 0 {
				return v1.Descriptor{}, false
			}
			switch manifestKind(d.MediaType, nil) {
			case kindIndex:
				if depth+1 >= maxIndexDepth {
					continue
				}
				sub, err := loadIndex(a, d)
				if err != nil {
					continue
				}
				if found, ok := walk(sub, depth+1); ok {
					return found, true
				}
			case kindImage:
				mraw, err := readBlob(a, d, maxManifestSize)
				if err != nil {
					continue
				}
				m, err := v1.ParseManifest(bytes.NewReader(mraw))
				if err == nil && m.Config.Digest == cfg {
					return d, true
				}
			}
		}
		return v1.Descriptor{}, false
	}
	return walk(root, 0)
}
