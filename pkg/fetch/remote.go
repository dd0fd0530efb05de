package fetch

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client reaches one registry with the same transport, credentials, TLS
// settings, timeouts and retries as Open, for callers that also write to
// it (pkg/attest pushes attestations next to an image). Its errors are
// classified and scrubbed as Open's are ([Client.Error]). Close it when
// done.
type Client struct {
	o       *options
	ropts   []remote.Option
	cleanup func()
}

// NewClient builds a client from opts; platform options are ignored.
func NewClient(ctx context.Context, opts ...Option) (*Client, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	ropts, cleanup, err := o.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	return &Client{o: o, ropts: ropts, cleanup: cleanup}, nil
}

// Close releases the client's idle connections.
func (c *Client) Close() {
	if c != nil && c.cleanup != nil {
		c.cleanup()
	}
}

// RemoteOptions are the go-containerregistry options of the client.
func (c *Client) RemoteOptions() []remote.Option {
	return append([]remote.Option(nil), c.ropts...)
}

// ParseReference parses a registry reference as Open does (WithInsecure
// allows plain HTTP).
func (c *Client) ParseReference(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref, c.o.nameOptions()...)
	if err != nil {
		return nil, wrapError(ref, ErrInvalidReference, err, nil)
	}
	return r, nil
}

// Error classifies err (an *Error naming ref, with a sentinel kind) and
// scrubs the client's credentials from its message; nil stays nil.
func (c *Client) Error(ref string, err error) error {
	return classify(ref, err, c.o.secrets())
}
