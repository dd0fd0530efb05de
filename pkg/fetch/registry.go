package fetch

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// remoteOptions turns options into go-containerregistry remote options.
// Retries are done by our own transport (it honours Retry-After), so
// go-containerregistry's are switched off. cleanup releases idle
// connections.
func (o *options) remoteOptions(ctx context.Context) ([]remote.Option, func(), error) {
	if s := o.session; s != nil {
		return []remote.Option{
			remote.WithContext(ctx),
			remote.WithTransport(s.rt),
			remote.Reuse(s.puller),
			remote.WithPageSize(o.pageSize),
		}, func() {}, nil
	}
	rt, cleanup, err := o.roundTripperCached()
	if err != nil {
		return nil, nil, err
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithRetryStatusCodes(),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithPageSize(o.pageSize),
	}
	if o.hasCredentials {
		ropts = append(ropts, remote.WithAuth(&authn.Basic{Username: o.username, Password: o.password}))
	} else {
		ropts = append(ropts, remote.WithAuthFromKeychain(recordingKeychain{o.keychain, o.known}))
	}
	return ropts, cleanup, nil
}

// recordingKeychain remembers the credentials its keychain hands out in
// known, so that error messages can be scrubbed of them (see secretSet).
type recordingKeychain struct {
	inner authn.Keychain
	known *secretSet
}

func (k recordingKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, err := k.inner.Resolve(r)
	if err != nil || a == nil || a == authn.Anonymous {
		return a, err
	}
	return recordingAuth{a, k.known}, nil
}

type recordingAuth struct {
	authn.Authenticator
	known *secretSet
}

func (a recordingAuth) Authorization() (*authn.AuthConfig, error) {
	c, err := a.Authenticator.Authorization()
	if c != nil {
		a.known.add(c.Password, c.Auth, c.IdentityToken, c.RegistryToken)
		if c.Password != "" {
			a.known.add(c.Username + ":" + c.Password)
		}
	}
	return c, err
}

// roundTripperCached builds the transport stack once per options value.
func (o *options) roundTripperCached() (http.RoundTripper, func(), error) {
	if o.rt == nil {
		rt, cleanup, err := o.roundTripper()
		if err != nil {
			return nil, nil, err
		}
		o.rt, o.cleanup = rt, cleanup
	}
	return o.rt, o.cleanup, nil
}

func (o *options) nameOptions() []name.Option {
	nopts := []name.Option{name.WeakValidation}
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	return nopts
}

// looksLikeRegistryRef reports whether s parses as a registry reference.
func looksLikeRegistryRef(s string) bool {
	_, err := name.ParseReference(s, name.WeakValidation)
	return err == nil
}

func openRegistry(ctx context.Context, ref, s string, o *options, res *Result) ([]Target, error) {
	r, err := name.ParseReference(s, o.nameOptions()...)
	if err != nil {
		return nil, wrapError(ref, ErrInvalidReference, err, nil)
	}
	ropts, cleanup, err := o.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	res.onClose(func() error { cleanup(); return nil })

	desc, err := remote.Get(r, ropts...)
	if err != nil {
		return nil, err
	}
	// Layers are fetched by digest through one puller, so that the
	// registry's handshake and token are not redone per layer (a session
	// has its own).
	lopts := ropts
	if o.session == nil {
		p, err := remote.NewPuller(ropts...)
		if err != nil {
			return nil, err
		}
		lopts = append(append([]remote.Option(nil), ropts...), remote.Reuse(p))
	}
	sel := &selector{ctx: ctx, ref: ref, source: SourceRegistry, o: o, wrap: func(img v1.Image) v1.Image {
		return &registryImage{Image: img, repo: r.Context(), ropts: lopts}
	}}
	switch manifestKind(desc.MediaType, desc.Manifest) {
	case kindIndex:
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		d := desc.Digest
		return sel.fromIndex(idx, &d)
	case kindImage:
		img, err := desc.Image()
		if err != nil {
			return nil, err
		}
		return sel.fromImage(img, desc.Digest, nil, nil, "", true)
	case kindSchema1:
		return nil, newError(ref, ErrUnsupported, "schema 1 manifest (%s) is not supported", desc.MediaType)
	default:
		return nil, newError(ref, ErrUnsupported, "manifest media type %q is neither an image nor an index", desc.MediaType)
	}
}

type manifestKindT int

const (
	kindUnknown manifestKindT = iota
	kindImage
	kindIndex
	kindSchema1
)

// manifestKind classifies a manifest by media type, falling back to its
// JSON shape when the media type is missing or unknown (some registries and
// tools get Content-Type wrong).
func manifestKind(mt types.MediaType, raw []byte) manifestKindT {
	switch mt {
	case types.OCIImageIndex, types.DockerManifestList:
		return kindIndex
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
		return kindImage
	case types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return kindSchema1
	}
	var probe struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     types.MediaType   `json:"mediaType"`
		Manifests     []json.RawMessage `json:"manifests"`
		Layers        []json.RawMessage `json:"layers"`
		Config        json.RawMessage   `json:"config"`
		FSLayers      []json.RawMessage `json:"fsLayers"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &probe) != nil {
		return kindUnknown
	}
	if probe.MediaType != "" && probe.MediaType != mt {
		return manifestKind(probe.MediaType, nil)
	}
	switch {
	case probe.SchemaVersion == 1 || probe.FSLayers != nil:
		return kindSchema1
	case probe.Manifests != nil:
		return kindIndex
	case probe.Config != nil && probe.Layers != nil:
		return kindImage
	}
	return kindUnknown
}

// Catalog lists the repositories of a registry ("registry.example.com:5000"),
// following the pagination of /v2/_catalog. Many public registries disable
// this endpoint; they answer with ErrUnauthorized or ErrNotFound.
func Catalog(ctx context.Context, registry string, opts ...Option) ([]string, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, rehome(registry, err)
	}
	reg, err := name.NewRegistry(registry, o.nameOptions()...)
	if err != nil {
		return nil, wrapError(registry, ErrInvalidReference, err, nil)
	}
	ropts, cleanup, err := o.remoteOptions(ctx)
	if err != nil {
		return nil, rehome(registry, err)
	}
	defer cleanup()
	repos, err := remote.Catalog(ctx, reg, ropts...)
	if err != nil {
		return nil, classify(registry, err, o.secrets())
	}
	return repos, nil
}

// Tags lists the tags of a repository ("registry.example.com/team/app"),
// following pagination.
func Tags(ctx context.Context, repo string, opts ...Option) ([]string, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, rehome(repo, err)
	}
	r, err := name.NewRepository(repo, o.nameOptions()...)
	if err != nil {
		return nil, wrapError(repo, ErrInvalidReference, err, nil)
	}
	ropts, cleanup, err := o.remoteOptions(ctx)
	if err != nil {
		return nil, rehome(repo, err)
	}
	defer cleanup()
	tags, err := remote.List(r, ropts...)
	if err != nil {
		return nil, classify(repo, err, o.secrets())
	}
	return tags, nil
}
