package fetch

import (
	"context"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Session shares one HTTP transport (and so its connections) and one
// registry client (which remembers each repository's authentication) among
// many Open, Catalog and Tags calls, as a registry audit makes. Without it
// every call dials, pings and authenticates anew.
type Session struct {
	rt      http.RoundTripper
	cleanup func()
	puller  *remote.Puller
	// known are the credentials the session's keychain resolved; errors
	// of every call made with the session are scrubbed of them.
	known *secretSet
}

// NewSession builds a session from opts; calls given WithSession(s) use its
// transport and authentication and ignore their own network options
// (platform options still apply per call). Close it when done.
func NewSession(opts ...Option) (*Session, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	ropts, cleanup, err := o.remoteOptions(context.Background())
	if err != nil {
		return nil, err
	}
	p, err := remote.NewPuller(ropts...)
	if err != nil {
		cleanup()
		return nil, err
	}
	rt, _, _ := o.roundTripperCached()
	return &Session{rt: rt, cleanup: cleanup, puller: p, known: o.known}, nil
}

// Close releases the session's idle connections.
func (s *Session) Close() {
	if s != nil && s.cleanup != nil {
		s.cleanup()
	}
}

// WithSession makes a call use s's connections and authentication.
func WithSession(s *Session) Option {
	return func(o *options) error {
		o.session = s
		return nil
	}
}
