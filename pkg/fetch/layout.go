package fetch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Annotations naming an image in an OCI layout's index.json.
const (
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerName = "io.containerd.image.name"
)

// splitPathRef splits "PATH", "PATH:SUFFIX" or "PATH@DIGEST" where PATH may
// itself hold colons: the longest prefix that exists on disk is the path.
// dir says whether a directory (else a regular file) is wanted.
func splitPathRef(ref, s string, dir bool) (p, suffix string, dgst *v1.Hash, err error) {
	if s == "" {
		return "", "", nil, newError(ref, ErrInvalidReference, "missing path")
	}
	if i := strings.LastIndex(s, "@"); i > 0 {
		if h, err := v1.NewHash(s[i+1:]); err == nil {
			if _, err := os.Stat(s[:i]); err == nil {
				return s[:i], "", &h, checkKind(ref, s[:i], dir)
			}
		}
	}
	candidates := []int{len(s)}
	for i := len(s) - 1; i > 0; i-- {
		if s[i] == ':' {
			candidates = append(candidates, i)
		}
	}
	for _, i := range candidates {
		if _, err := os.Stat(s[:i]); err == nil {
			suffix := ""
			if i < len(s) {
				suffix = s[i+1:]
				if suffix == "" {
					return "", "", nil, newError(ref, ErrInvalidReference, "empty tag after %q", s[:i])
				}
			}
			return s[:i], suffix, nil, checkKind(ref, s[:i], dir)
		}
	}
	what := "file"
	if dir {
		what = "directory"
	}
	return "", "", nil, newError(ref, ErrNotFound, "no such %s", what)
}

func checkKind(ref, p string, dir bool) error {
	fi, err := os.Stat(p)
	if err != nil {
		return wrapError(ref, ErrNotFound, err, nil)
	}
	switch {
	case dir && !fi.IsDir():
		return newError(ref, ErrInvalidReference, "%s is not a directory (for an archive use oci-archive: or docker-archive:)", p)
	case !dir && !fi.Mode().IsRegular():
		return newError(ref, ErrInvalidReference, "%s is not a regular file (for a layout directory use oci:)", p)
	}
	return nil
}

func openLayoutRef(ctx context.Context, ref, rest string, o *options) ([]Target, error) {
	dir, tag, dgst, err := splitPathRef(ref, rest, true)
	if err != nil {
		return nil, err
	}
	return openLayoutDir(ctx, ref, dir, tag, dgst, o)
}

// openLayoutDir reads an OCI image layout directory.
func openLayoutDir(ctx context.Context, ref, dir, tag string, dgst *v1.Hash, o *options) ([]Target, error) {
	f, err := os.Open(filepath.Join(dir, "index.json"))
	if err != nil {
		if isNotExist(err) {
			return nil, newError(ref, ErrNotFound, "%s holds no index.json; not an OCI image layout", dir)
		}
		return nil, wrapError(ref, nil, err, nil)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, wrapError(ref, nil, err, nil)
	}
	return openLayout(ctx, ref, SourceOCILayout, &dirStore{root: dir}, raw, tag, dgst, o)
}

// openLayout resolves tag or digest (or neither) against the index.json
// of a layout whose blobs are in src.
func openLayout(ctx context.Context, ref string, source Source, src blobSource, rawIndex []byte, tag string, dgst *v1.Hash, o *options) ([]Target, error) {
	root, err := rootIndex(src, rawIndex)
	if err != nil {
		return nil, err
	}
	sel := &selector{ctx: ctx, ref: ref, source: source, o: o}
	descs := root.im.Manifests
	switch {
	case dgst != nil:
		for _, d := range descs {
			if d.Digest == *dgst {
				return sel.fromDescriptor(root, d, nil)
			}
		}
		// A platform image inside one of the indexes.
		for _, d := range descs {
			if manifestKind(d.MediaType, nil) != kindIndex {
				continue
			}
			sub, err := root.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			idx := sub.(*localIndex)
			for _, cd := range idx.im.Manifests {
				if cd.Digest == *dgst {
					pd := d.Digest
					return sel.fromDescriptor(idx, cd, &pd)
				}
			}
		}
		return nil, newError(ref, ErrNotFound, "no manifest %s in layout", dgst)
	case tag != "":
		for _, d := range descs {
			if tagMatches(d, tag) {
				return sel.fromDescriptor(root, d, nil)
			}
		}
		return nil, newError(ref, ErrNotFound, "no tag %q in layout; it has %s", tag, describeDescs(descs))
	}
	switch {
	case len(descs) == 0:
		return nil, newError(ref, ErrNotFound, "layout holds no manifests")
	case len(descs) == 1:
		return sel.fromDescriptor(root, descs[0], nil)
	case allPlatformImages(descs):
		// index.json itself lists the platform images of one image.
		return sel.fromIndex(root, nil)
	}
	return nil, newError(ref, ErrInvalidReference, "layout holds %d manifests; name one with :TAG or @DIGEST: %s", len(descs), describeDescs(descs))
}

// fromDescriptor opens the image or index that d (a child of parent)
// describes.
func (s *selector) fromDescriptor(parent *localIndex, d v1.Descriptor, parentDigest *v1.Hash) ([]Target, error) {
	kind := manifestKind(d.MediaType, nil)
	if kind == kindUnknown {
		// Descriptor without a known media type: look at the document.
		raw, err := readBlob(parent.src, d, maxManifestSize)
		if err != nil {
			return nil, err
		}
		kind = manifestKind(d.MediaType, raw)
	}
	switch kind {
	case kindIndex:
		idx, err := parent.ImageIndex(d.Digest)
		if err != nil {
			return nil, err
		}
		dd := d.Digest
		return s.fromIndex(idx, &dd)
	case kindImage:
		img, err := parent.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		return s.fromImage(img, d.Digest, parentDigest, d.Platform, "", true)
	case kindSchema1:
		return nil, newError(s.ref, ErrUnsupported, "schema 1 manifest %s is not supported", d.Digest)
	}
	return nil, newError(s.ref, ErrUnsupported, "manifest %s has media type %q, neither an image nor an index", d.Digest, d.MediaType)
}

// tagMatches reports whether a layout descriptor carries tag, as the
// ref.name annotation ("3.20") or as containerd's full image name
// ("docker.io/library/alpine:3.20", also matched by "alpine:3.20").
func tagMatches(d v1.Descriptor, tag string) bool {
	if d.Annotations[annotationRefName] == tag {
		return true
	}
	full := d.Annotations[annotationContainerName]
	if full == "" {
		return false
	}
	return full == tag || sameImageName(full, tag)
}

// sameImageName compares two image names after normalization
// ("alpine:3.20" and "index.docker.io/library/alpine:3.20" are the same).
func sameImageName(a, b string) bool {
	ra, err := name.ParseReference(a, name.WeakValidation)
	if err != nil {
		return false
	}
	rb, err := name.ParseReference(b, name.WeakValidation)
	if err != nil {
		return false
	}
	return ra.Name() == rb.Name()
}

// allPlatformImages reports whether descs are image manifests that all
// carry a platform: the index.json of a layout that is itself the index.
func allPlatformImages(descs []v1.Descriptor) bool {
	for _, d := range descs {
		if manifestKind(d.MediaType, nil) != kindImage || d.Platform == nil {
			return false
		}
	}
	return true
}

// describeDescs lists layout entries as "TAG (DIGEST)" or "DIGEST".
func describeDescs(descs []v1.Descriptor) string {
	const maxListed = 20
	var parts []string
	for i, d := range descs {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(descs)-maxListed))
			break
		}
		short := d.Digest.String()
		if tag := d.Annotations[annotationRefName]; tag != "" {
			parts = append(parts, fmt.Sprintf("%s (%s)", tag, short))
		} else {
			parts = append(parts, short)
		}
	}
	if len(parts) == 0 {
		return "no tags"
	}
	return strings.Join(parts, ", ")
}

func openArchiveRef(ctx context.Context, ref, rest string, source Source, o *options, res *Result) ([]Target, error) {
	p, suffix, dgst, err := splitPathRef(ref, rest, false)
	if err != nil {
		return nil, err
	}
	return openArchiveFile(ctx, ref, p, suffix, dgst, source, o, res)
}

// openArchiveFile indexes the archive at p and reads it as source, or as
// what its members say when source is "".
func openArchiveFile(ctx context.Context, ref, p, suffix string, dgst *v1.Hash, source Source, o *options, res *Result) ([]Target, error) {
	f, err := os.Open(p)
	if err != nil {
		if isNotExist(err) {
			return nil, newError(ref, ErrNotFound, "%s: no such file", p)
		}
		return nil, wrapError(ref, nil, err, nil)
	}
	a, err := indexArchive(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	res.onClose(f.Close)
	if source == "" {
		switch {
		case a.has("manifest.json"):
			source = SourceDockerArchive
		case a.has("index.json"):
			source = SourceOCIArchive
		default:
			return nil, newError(ref, ErrUnsupported, "%s is a tar archive without manifest.json or index.json; neither a docker nor an OCI archive", p)
		}
	}
	if source == SourceDockerArchive {
		return openDockerArchive(ctx, ref, a, suffix, dgst, o)
	}
	raw, err := a.readFile("index.json", maxManifestSize)
	if err != nil {
		if isNotExist(err) {
			return nil, newError(ref, ErrUnsupported, "%s has no index.json; not an OCI archive", p)
		}
		return nil, err
	}
	return openLayout(ctx, ref, SourceOCIArchive, a, raw, suffix, dgst, o)
}
