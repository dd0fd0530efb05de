package attest

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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

// Resolve returns ref's manifest digest as the registry serves it now (a
// digest reference is taken as is).
func Resolve(ctx context.Context, c *fetch.Client, ref string) (name.Digest, error) {
	r, err := c.ParseReference(ref)
	if err != nil {
		return name.Digest{}, err
	}
	if d, ok := r.(name.Digest); ok {
		return d, nil
	}
	desc, err := remote.Head(r, append(c.RemoteOptions(), remote.WithContext(ctx))...)
	if err != nil {
		return name.Digest{}, c.Error(ref, err)
	}
	return r.Context().Digest(desc.Digest.String()), nil
}

// VerifyImage finds imgaudit's test-result attestations of the image ref
// names (tag or digest) and verifies them (see Verify); o.Digest is
// filled in from the registry when empty. The returned digest is the
// image's.
func VerifyImage(ctx context.Context, c *fetch.Client, ref string, v signature.Verifier, o VerifyOptions) (Verdict, name.Digest, error) {
	d, err := Resolve(ctx, c, ref)
	if err != nil {
		return Verdict{}, d, err
	}
	if o.Digest == "" {
		o.Digest = d.DigestStr()
	}
	found, err := Discover(ctx, c, d, PredicateTestResult)
	if err != nil {
		return Verdict{}, d, err
	}
	vd, err := Verify(ctx, found, v, o)
	return vd, d, err
}
