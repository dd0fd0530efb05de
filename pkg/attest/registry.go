package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgaudit/imgaudit/pkg/fetch"
)

// Annotations of attestation layers and referrer manifests.
const (
	// AnnotationPredicateType names a layer's (and a referrer's) predicate
	// type, as cosign writes it and Kyverno reads it.
	AnnotationPredicateType = "predicateType"
	// annotationCosignSignature is present, empty, on every layer of a
	// cosign attestation image: the signature is inside the envelope.
	annotationCosignSignature = "dev.cosignproject.cosign/signature"
	// AnnotationImgaudit marks what imgaudit attached, so that attesting
	// again replaces imgaudit's own attestation and nobody else's.
	AnnotationImgaudit = "io.github.imgaudit.attestation"
	annotationCreated  = "org.opencontainers.image.created"
)

// Bounds on what a registry can make Discover read: the size of one
// envelope, and how many envelopes and referrers it reads at most.
const (
	maxEnvelope  = 16 << 20
	maxEnvelopes = 64
	maxReferrers = 256
)

// Attestation is one signed envelope and the predicate type of its
// statement.
type Attestation struct {
	PredicateType string
	Envelope      []byte
}

// AttachOptions say where Attach puts attestations. The zero value puts
// them in both places.
type AttachOptions struct {
	// NoTag skips cosign's "sha256-HEX.att" tag.
	NoTag bool
	// NoReferrer skips the OCI 1.1 referrer (and the referrers fallback
	// tag "sha256-HEX" on a registry without the referrers API).
	NoReferrer bool
	// Now dates the referrer manifests; zero means time.Now.
	Now time.Time
}

// Attach pushes atts next to the image subject (a repository and a
// manifest digest) through c: as layers of cosign's attestation image
// (tag "sha256-HEX.att", what `cosign verify-attestation` and Kyverno
// read) and as one OCI 1.1 referrer manifest per attestation. An earlier
// attestation of imgaudit's with the same predicate type is replaced in
// both places; every other layer and referrer is kept.
func Attach(ctx context.Context, c *fetch.Client, subject name.Digest, atts []Attestation, o AttachOptions) error {
	ref := subject.String()
	ropts := append(c.RemoteOptions(), remote.WithContext(ctx))
	if !o.NoReferrer {
		if err := attachReferrers(ctx, subject, atts, o.Now, ropts); err != nil {
			return fmt.Errorf("attaching the referrer: %w", c.Error(ref, err))
		}
	}
	if !o.NoTag {
		if err := attachTag(subject, atts, ropts); err != nil {
			return fmt.Errorf("attaching the attestation tag: %w", c.Error(ref, err))
		}
	}
	return nil
}

// attestationTag is cosign's tag for the attestations of d.
func attestationTag(d name.Digest) name.Tag {
	return d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + ".att")
}

func replaced(ann map[string]string, atts []Attestation) bool {
	if ann[AnnotationImgaudit] == "" {
		return false
	}
	for _, a := range atts {
		if ann[AnnotationPredicateType] == a.PredicateType {
			return true
		}
	}
	return false
}

func layerAnnotations(a Attestation) map[string]string {
	return map[string]string{
		AnnotationPredicateType:   a.PredicateType,
		annotationCosignSignature: "",
		AnnotationImgaudit:        "v1",
	}
}

// attachTag rewrites the attestation image: the layers kept, then atts.
func attachTag(subject name.Digest, atts []Attestation, ropts []remote.Option) error {
	tag := attestationTag(subject)
	var adds []mutate.Addendum
	old, err := remote.Image(tag, ropts...)
	switch {
	case isNotFound(err):
	case err != nil:
		return err
	default:
		m, err := old.Manifest()
		if err != nil {
			return err
		}
		for _, l := range m.Layers {
			if replaced(l.Annotations, atts) {
				continue
			}
			layer, err := old.LayerByDigest(l.Digest)
			if err != nil {
				return err
			}
			adds = append(adds, mutate.Addendum{Layer: layer, Annotations: l.Annotations, MediaType: l.MediaType})
		}
	}
	for _, a := range atts {
		adds = append(adds, mutate.Addendum{
			Layer:       static.NewLayer(a.Envelope, EnvelopeMediaType),
			Annotations: layerAnnotations(a),
			MediaType:   EnvelopeMediaType,
		})
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return err
	}
	return remote.Write(tag, img, ropts...)
}

// artifact is an OCI 1.1 artifact manifest: one envelope layer, the empty
// config, the image as subject.
type artifact struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// attachReferrers pushes one referrer per attestation, then deletes
// imgaudit's earlier ones of the same predicate types.
func attachReferrers(ctx context.Context, subject name.Digest, atts []Attestation, now time.Time, ropts []remote.Option) error {
	if now.IsZero() {
		now = time.Now()
	}
	head, err := remote.Head(subject, ropts...)
	if err != nil {
		return err
	}
	olds, err := referrers(subject, ropts)
	if err != nil {
		return err
	}
	repo := subject.Context()
	cfg := static.NewLayer([]byte("{}"), types.OCIEmptyJSON)
	if err := remote.WriteLayer(repo, cfg, ropts...); err != nil {
		return err
	}
	pushed := map[v1.Hash]bool{}
	for _, a := range atts {
		layer := static.NewLayer(a.Envelope, EnvelopeMediaType)
		if err := remote.WriteLayer(repo, layer, ropts...); err != nil {
			return err
		}
		ld, _ := layer.Digest()
		ann := layerAnnotations(a)
		delete(ann, annotationCosignSignature)
		m := artifact{
			SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: EnvelopeMediaType,
			Config:      v1.Descriptor{MediaType: types.OCIEmptyJSON, Digest: mustDigest(cfg), Size: 2, Data: []byte("{}")},
			Layers:      []v1.Descriptor{{MediaType: EnvelopeMediaType, Digest: ld, Size: int64(len(a.Envelope)), Annotations: ann}},
			Subject:     &v1.Descriptor{MediaType: head.MediaType, Digest: head.Digest, Size: head.Size},
			Annotations: map[string]string{AnnotationPredicateType: a.PredicateType, AnnotationImgaudit: "v1", annotationCreated: now.UTC().Format(time.RFC3339)},
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		h, _, err := v1.SHA256(strings.NewReader(string(raw)))
		if err != nil {
			return err
		}
		if err := remote.Put(repo.Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}, ropts...); err != nil {
			return err
		}
		pushed[h] = true
	}
	var gone []v1.Hash
	for _, d := range olds {
		if pushed[d.Digest] || !replaced(d.Annotations, atts) {
			continue
		}
		err := remote.Delete(repo.Digest(d.Digest.String()), ropts...)
		if isStatus(err, 405) {
			// The registry does not delete manifests: the old referrer
			// stays, and verification takes the newest verdict.
			continue
		}
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting the replaced referrer %s: %w", d.Digest, err)
		}
		gone = append(gone, d.Digest)
	}
	return pruneFallback(ctx, subject, gone, ropts)
}

// pruneFallback removes deleted referrers from the referrers fallback tag
// of a registry without the referrers API (go-containerregistry adds to
// it, never removes).
func pruneFallback(_ context.Context, subject name.Digest, gone []v1.Hash, ropts []remote.Option) error {
	if len(gone) == 0 {
		return nil
	}
	tag := subject.Context().Tag(strings.Replace(subject.DigestStr(), ":", "-", 1))
	idx, err := remote.Index(tag, ropts...)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	kept := im.Manifests[:0:0]
	for _, d := range im.Manifests {
		if !containsHash(gone, d.Digest) {
			kept = append(kept, d)
		}
	}
	if len(kept) == len(im.Manifests) {
		return nil
	}
	im.Manifests = kept
	raw, err := json.Marshal(im)
	if err != nil {
		return err
	}
	return remote.Put(tag, rawManifest{raw, types.OCIImageIndex}, ropts...)
}

func containsHash(hs []v1.Hash, h v1.Hash) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

func mustDigest(l v1.Layer) v1.Hash {
	h, _ := l.Digest() // a static layer's digest never fails
	return h
}

// referrers lists the DSSE-envelope referrers of subject (the referrers
// API, else the fallback tag). What they hold is checked when read.
func referrers(subject name.Digest, ropts []remote.Option) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(subject, ropts...)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		// Some registries (go-containerregistry's) report the config's
		// media type instead of the manifest's artifactType.
		if d.ArtifactType == EnvelopeMediaType || (d.ArtifactType == string(types.OCIEmptyJSON) && d.Annotations[AnnotationPredicateType] != "") {
			out = append(out, d)
		}
	}
	return out, nil
}

func isNotFound(err error) bool { return isStatus(err, 404) }

func isStatus(err error, code int) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == code
}

// Found is an envelope found next to an image.
type Found struct {
	// Where says where: "tag sha256-….att" or "referrer sha256:…".
	Where         string
	PredicateType string
	Envelope      []byte
	// Imgaudit says whether imgaudit's annotation marks it.
	Imgaudit bool
}

// Discover returns the envelopes of predicateType ("" for all) attached
// to subject, from cosign's attestation tag and the OCI 1.1 referrers.
// None is not an error.
func Discover(ctx context.Context, c *fetch.Client, subject name.Digest, predicateType string) ([]Found, error) {
	ref := subject.String()
	ropts := append(c.RemoteOptions(), remote.WithContext(ctx))
	var out []Found
	tag := attestationTag(subject)
	img, err := remote.Image(tag, ropts...)
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("reading the attestation tag: %w", c.Error(ref, err))
	default:
		found, err := envelopes(img, "tag "+tag.TagStr(), predicateType)
		if err != nil {
			return nil, fmt.Errorf("reading the attestation tag: %w", c.Error(ref, err))
		}
		out = append(out, found...)
	}
	ds, err := referrers(subject, ropts)
	if err != nil {
		return nil, fmt.Errorf("listing referrers: %w", c.Error(ref, err))
	}
	if len(ds) > maxReferrers {
		return nil, fmt.Errorf("%s has %d attestation referrers, more than %d", ref, len(ds), maxReferrers)
	}
	for _, d := range ds {
		if predicateType != "" && d.Annotations[AnnotationPredicateType] != "" && d.Annotations[AnnotationPredicateType] != predicateType {
			continue
		}
		img, err := remote.Image(subject.Context().Digest(d.Digest.String()), ropts...)
		if isNotFound(err) {
			continue // listed in a fallback tag, since deleted
		}
		if err != nil {
			return nil, fmt.Errorf("reading referrer %s: %w", d.Digest, c.Error(ref, err))
		}
		found, err := envelopes(img, "referrer "+d.Digest.String(), predicateType)
		if err != nil {
			return nil, fmt.Errorf("reading referrer %s: %w", d.Digest, c.Error(ref, err))
		}
		out = append(out, found...)
		if len(out) > maxEnvelopes {
			return nil, fmt.Errorf("%s has more than %d attestations", ref, maxEnvelopes)
		}
	}
	return out, nil
}

// envelopes reads the DSSE layers of an attestation image or artifact.
func envelopes(img v1.Image, where, predicateType string) ([]Found, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var out []Found
	for _, l := range m.Layers {
		pt := l.Annotations[AnnotationPredicateType]
		if l.MediaType != EnvelopeMediaType || (predicateType != "" && pt != predicateType) {
			continue
		}
		if len(out) == maxEnvelopes {
			return nil, fmt.Errorf("more than %d attestation layers", maxEnvelopes)
		}
		if l.Size > maxEnvelope {
			return nil, fmt.Errorf("envelope %s is %d bytes, more than %d", l.Digest, l.Size, maxEnvelope)
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return nil, err
		}
		b, err := readAll(layer)
		if err != nil {
			return nil, err
		}
		if sha256Digest(b) != l.Digest.String() {
			return nil, fmt.Errorf("envelope %s does not match its digest", l.Digest)
		}
		out = append(out, Found{Where: where, PredicateType: pt, Envelope: b, Imgaudit: l.Annotations[AnnotationImgaudit] != ""})
	}
	return out, nil
}

func readAll(l v1.Layer) ([]byte, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxEnvelope+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxEnvelope {
		return nil, fmt.Errorf("envelope larger than %d bytes", maxEnvelope)
	}
	return b, nil
}
