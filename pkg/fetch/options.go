package fetch

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Defaults used when no option says otherwise.
const (
	// DefaultTimeout bounds connecting, the TLS handshake, waiting for
	// response headers, and any single stall while reading a body. It is
	// never a deadline on a whole download.
	DefaultTimeout = 60 * time.Second
	// DefaultRetries is how many times a request is retried after a 408,
	// 429 or 5xx answer or a transient network error.
	DefaultRetries = 3
	// DefaultBackoff is the wait before the first retry; it doubles on each
	// further retry.
	DefaultBackoff = 1 * time.Second
	// DefaultMaxBackoff caps the wait between retries, including waits asked
	// for by a Retry-After header.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultVersion is the version in the User-Agent when WithVersion is
	// not given.
	DefaultVersion = "dev"
)

// Option configures Open, Catalog and Tags.
type Option func(*options) error

type options struct {
	platform     *v1.Platform
	allPlatforms bool

	username, password string
	hasCredentials     bool
	keychain           authn.Keychain

	insecure bool
	caFile   string

	timeout    time.Duration
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration
	version    string
	transport  http.RoundTripper

	pageSize int // catalog page size; 0 leaves the registry's default

	session *Session // shared transport and authentication, if any
	rt      http.RoundTripper
	cleanup func()

	// known are the credentials these options handed out (see secretSet).
	known *secretSet
}

// makeOptions applies opts over the defaults. All defaults live here.
func makeOptions(opts []Option) (*options, error) {
	o := &options{
		keychain:   authn.DefaultKeychain,
		timeout:    DefaultTimeout,
		retries:    DefaultRetries,
		backoff:    DefaultBackoff,
		maxBackoff: DefaultMaxBackoff,
		version:    DefaultVersion,
		pageSize:   1000,
		known:      &secretSet{},
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// secrets returns the strings that must never appear in an error message:
// the credentials of these options and, with WithSession, those the
// session's keychain resolved.
func (o *options) secrets() []string {
	s := o.known.all()
	if o.session != nil {
		s = append(s, o.session.known.all()...)
	}
	return s
}

// optionError builds the error of a rejected option. Its Ref names the
// option; Open re-homes it under the image reference.
func optionError(option, format string, args ...any) error {
	return newError(option, ErrInvalidOption, format, args...)
}

// WithPlatform selects the platform to take from an index, written
// "os/arch" or "os/arch/variant" (e.g. "linux/arm64", "linux/arm/v7"). For a
// single-platform image it is checked against the image's configuration.
// A malformed value makes Open fail with ErrInvalidOption.
func WithPlatform(platform string) Option {
	return func(o *options) error {
		p, err := ParsePlatform(platform)
		if err != nil {
			return err
		}
		o.platform = p
		return nil
	}
}

// WithAllPlatforms makes Open return one Target per platform of an index
// (attestation manifests excluded). It overrides WithPlatform.
func WithAllPlatforms() Option {
	return func(o *options) error {
		o.allPlatforms = true
		return nil
	}
}

// WithCredentials sets basic-auth credentials for the registry. Without it,
// credentials come from the keychain (by default authn.DefaultKeychain, i.e.
// the Docker config file and its credential helpers).
func WithCredentials(username, password string) Option {
	return func(o *options) error {
		if username == "" && password == "" {
			return optionError("credentials", "empty username and password")
		}
		o.username, o.password, o.hasCredentials = username, password, true
		if password != "" {
			o.known.add(password, username+":"+password)
		}
		return nil
	}
}

// WithKeychain replaces authn.DefaultKeychain as the source of credentials
// when WithCredentials is not given.
func WithKeychain(kc authn.Keychain) Option {
	return func(o *options) error {
		if kc == nil {
			return optionError("keychain", "nil keychain")
		}
		o.keychain = kc
		return nil
	}
}

// WithInsecure allows plain HTTP registries and skips TLS certificate
// verification.
func WithInsecure() Option {
	return func(o *options) error {
		o.insecure = true
		return nil
	}
}

// WithCAFile adds the PEM certificates of path to the system roots used to
// verify registries. The file is read when the transport is built.
func WithCAFile(path string) Option {
	return func(o *options) error {
		if path == "" {
			return optionError("ca file", "empty path")
		}
		o.caFile = path
		return nil
	}
}

// WithTimeout sets the limit on connecting, the TLS handshake, waiting for
// response headers, and on any single stall while a body is read (an
// idle-read watchdog). A long download that keeps making progress is never
// cut. Default DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return optionError("timeout", "must be positive, got %s", d)
		}
		o.timeout = d
		return nil
	}
}

// WithRetries sets how many times a failed request is retried (0 disables
// retries). Default DefaultRetries.
func WithRetries(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return optionError("retries", "must not be negative, got %d", n)
		}
		o.retries = n
		return nil
	}
}

// WithBackoff sets the wait before the first retry (doubled on each further
// one) and the cap on any wait, including one asked for by Retry-After.
// Defaults DefaultBackoff and DefaultMaxBackoff.
func WithBackoff(initial, maximum time.Duration) Option {
	return func(o *options) error {
		if initial < 0 || maximum < initial {
			return optionError("backoff", "needs 0 <= initial <= maximum, got %s and %s", initial, maximum)
		}
		o.backoff, o.maxBackoff = initial, maximum
		return nil
	}
}

// WithVersion sets the version sent in the User-Agent header
// ("imgaudit/VERSION"). Default DefaultVersion.
func WithVersion(version string) Option {
	return func(o *options) error {
		if version == "" || strings.ContainsAny(version, " \t\r\n") {
			return optionError("version", "%q must be one non-empty word", version)
		}
		o.version = version
		return nil
	}
}

// WithTransport replaces the built-in HTTP transport, mainly for tests.
// Retries, timeouts (header and idle-read watchdogs), the User-Agent and
// authentication still apply on top of it; WithInsecure's and WithCAFile's
// TLS settings do not, since they configure the built-in transport.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return optionError("transport", "nil transport")
		}
		o.transport = rt
		return nil
	}
}

var platformPart = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ParsePlatform parses "os/arch" or "os/arch/variant" (lowercase). The
// error is an *Error wrapping ErrInvalidOption.
func ParsePlatform(s string) (*v1.Platform, error) {
	parts := strings.Split(s, "/")
	ok := len(parts) >= 2 && len(parts) <= 3
	for _, p := range parts {
		ok = ok && platformPart.MatchString(p)
	}
	if !ok {
		return nil, optionError(fmt.Sprintf("platform %q", s), "want os/arch[/variant]")
	}
	p := &v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
