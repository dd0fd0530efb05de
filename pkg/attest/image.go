package attest

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/imgaudit/imgaudit/pkg/fetch"
)

// Subject is the image ref's repository at digest: where its
// attestations go.
func Subject(c *fetch.Client, ref, digest string) (name.Digest, error) {
	r, err := c.ParseReference(ref)
	if err != nil {
		return name.Digest{}, err
	}
	if _, err := v1.NewHash(digest); err != nil {
		return name.Digest{}, fmt.Errorf("%s: malformed digest: %w", ref, err)
	}
	return r.Context().Digest(digest), nil
}

// Target resolves ref to the image an audit of it reads (the platform
// fetch.Open picks from an index: opts' WithPlatform, else linux/amd64)
// and returns that image's manifest digest in ref's repository, the
// subject imgaudit attest wrote. ref must name one image in a registry.
func Target(ctx context.Context, c *fetch.Client, ref string, opts ...fetch.Option) (name.Digest, error) {
	res, err := fetch.Open(ctx, ref, opts...)
	if err != nil {
		return name.Digest{}, err
	}
	defer res.Close()
	if len(res.Targets) != 1 {
		return name.Digest{}, fmt.Errorf("%s names %d images; verify one (use --platform)", ref, len(res.Targets))
	}
	t := res.Targets[0]
	if t.Source != fetch.SourceRegistry {
		return name.Digest{}, fmt.Errorf("%s is not in a registry: it has no attestations", ref)
	}
	return Subject(c, ref, t.Digest.String())
}

// VerifyImage finds imgaudit's test-result attestations of the image d
// and verifies them (see Verify); o.Digest is set to d's digest.
func VerifyImage(ctx context.Context, c *fetch.Client, d name.Digest, v signature.Verifier, o VerifyOptions) (Verdict, error) {
	o.Digest = d.DigestStr()
	found, err := Discover(ctx, c, d, PredicateTestResult)
	if err != nil {
		return Verdict{}, err
	}
	return Verify(ctx, found, v, o)
}
