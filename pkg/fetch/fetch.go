package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/internal/oneline"
)

// Source says where an image was read from.
type Source string

// Sources of images.
const (
	SourceRegistry      Source = "registry"
	SourceOCILayout     Source = "oci"
	SourceOCIArchive    Source = "oci-archive"
	SourceDockerArchive Source = "docker-archive"
)

// Transport prefixes recognised in references.
const (
	prefixOCI           = "oci:"
	prefixOCIArchive    = "oci-archive:"
	prefixDockerArchive = "docker-archive:"
	prefixDocker        = "docker://"
)

// unsupportedPrefixes are transports of other tools that a user may try.
func unsupportedPrefixes() []string {
	return []string{"docker-daemon:", "containers-storage:", "podman:", "dir:", "tarball:"}
}

// Target is one image to audit.
type Target struct {
	// Reference is what the user wrote, e.g. "alpine:3.20" or
	// "oci:/path:tag".
	Reference string
	// Source says where the image was read from.
	Source Source
	// Digest is the digest of the image manifest. For legacy docker
	// archives, which carry no manifest, it is the digest of the manifest
	// this package synthesizes from the archive (see Open).
	Digest v1.Hash
	// IndexDigest is the digest of the index the image was picked from, or
	// nil. The index.json of an OCI layout has no digest of its own and is
	// never reported here.
	IndexDigest *v1.Hash
	// Platform is the image's platform, from the index descriptor or else
	// from the image configuration; nil when neither says.
	Platform *v1.Platform
	// PlatformNote explains a platform chosen by default, e.g.
	// "linux/amd64 (default; index has 3 platforms)" or
	// "linux/arm64 (only platform)". It is empty when the platform was
	// requested or the image is not from an index.
	PlatformNote string
	// Image reads the image. For registry sources its requests use the
	// context given to Open; for archives it reads the archive file, which
	// stays open until Result.Close. Every error of its methods, of its
	// layers and of their blob readers is an *Error wrapping one of the
	// sentinels and scrubbed of credentials; it names no reference (the
	// caller says which image and layer it was reading).
	Image v1.Image
}

// Result holds the targets of one Open and the resources behind them.
type Result struct {
	// Targets are the images to audit, in index order for all-platforms.
	Targets []Target

	mu      sync.Mutex
	closers []func() error
	closed  bool
}

// Close releases the files and connections behind the targets; their images
// must not be used afterwards. It is safe to call more than once.
func (r *Result) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	r.closers = nil
	if err := errors.Join(errs...); err != nil {
		return &Error{Kind: nil, Err: err, detail: "closing: " + oneline.Fold(err.Error())}
	}
	return nil
}

func (r *Result) onClose(f func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closers = append(r.closers, f)
}

// Open resolves ref to the images it names. ref is a registry reference
// ("alpine", "host:5000/team/app:1.2", "repo@sha256:..."), "oci:DIR[:TAG|@DIGEST]",
// "oci-archive:FILE[:TAG|@DIGEST]", "docker-archive:FILE[:REPO:TAG]", or a
// bare path to an OCI layout directory or an archive file.
//
// An index yields the image of the platform asked for with WithPlatform,
// every platform with WithAllPlatforms, or by default linux/amd64 when
// present, else the only or the first platform.
//
// For registry sources ctx also governs the blob reads done later through
// the returned images, so keep it alive until done with them. The caller
// must Close the Result.
//
// Legacy docker archives (docker save before Docker 25) hold no manifest:
// one is synthesized from manifest.json and the config, with uncompressed
// layers described by their DiffIDs (so Compressed() returns the raw tar and
// Digest() matches it) and compressed layers hashed once at Open.
//
// Errors are *Error values naming ref and wrapping one of the sentinels.
func Open(ctx context.Context, ref string, opts ...Option) (*Result, error) {
	display := ref
	if strings.TrimSpace(ref) == "" {
		display = strconv.Quote(ref)
	}
	o, err := makeOptions(opts)
	if err != nil {
		return nil, rehome(display, err)
	}
	res := &Result{}
	targets, err := open(ctx, ref, o, res)
	if err != nil {
		_ = res.Close()
		return nil, classify(display, err, o.secrets())
	}
	res.Targets = targets
	return res, nil
}

// rehome moves an option error under the image reference.
func rehome(ref string, err error) error { return classify(ref, err, nil) }

func open(ctx context.Context, ref string, o *options, res *Result) ([]Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(ref) == "" {
		return nil, newError(strconv.Quote(ref), ErrInvalidReference, "empty reference")
	}
	switch {
	case strings.HasPrefix(ref, prefixOCI):
		return openLayoutRef(ctx, ref, strings.TrimPrefix(ref, prefixOCI), o)
	case strings.HasPrefix(ref, prefixOCIArchive):
		return openArchiveRef(ctx, ref, strings.TrimPrefix(ref, prefixOCIArchive), SourceOCIArchive, o, res)
	case strings.HasPrefix(ref, prefixDockerArchive):
		return openArchiveRef(ctx, ref, strings.TrimPrefix(ref, prefixDockerArchive), SourceDockerArchive, o, res)
	case strings.HasPrefix(ref, prefixDocker):
		return openRegistry(ctx, ref, strings.TrimPrefix(ref, prefixDocker), o, res)
	case strings.HasPrefix(strings.ToLower(ref), schemeHTTP), strings.HasPrefix(strings.ToLower(ref), schemeHTTPS):
		s, err := trimScheme(ref, o.insecure)
		if err != nil {
			return nil, err
		}
		return openRegistry(ctx, ref, s, o, res)
	}
	for _, p := range unsupportedPrefixes() {
		if strings.HasPrefix(ref, p) {
			return nil, newError(ref, ErrUnsupported, "transport %q is not supported; use a registry reference, oci:, oci-archive: or docker-archive:", strings.TrimSuffix(p, ":"))
		}
	}
	fi, err := os.Stat(ref)
	if err != nil && looksLikePath(ref) {
		return nil, missingPath(ref)
	}
	if err == nil {
		switch {
		case fi.IsDir() && isLayoutDir(ref):
			return openLayoutDir(ctx, ref, ref, "", nil, o)
		case fi.Mode().IsRegular():
			return openArchiveFile(ctx, ref, ref, "", nil, "", o, res)
		}
		// A directory that is not a layout: it may still be meant as an
		// image name ("alpine" next to a folder "alpine").
		if !looksLikeRegistryRef(ref) || looksLikePath(ref) {
			return nil, newError(ref, ErrUnsupported, "%s is neither an OCI image layout directory nor an archive file", ref)
		}
	}
	return openRegistry(ctx, ref, ref, o, res)
}

// isLayoutDir reports whether dir holds an OCI image layout.
func isLayoutDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "index.json"))
	return err == nil && fi.Mode().IsRegular()
}
