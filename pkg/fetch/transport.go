package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// roundTripper builds the HTTP stack for one Open, Catalog or Tags call:
//
//	userAgent -> retry -> watchdog -> base
//
// base is the built-in *http.Transport (dial, TLS handshake and
// response-header timeouts, CA file, insecure TLS) or the caller's
// WithTransport. The returned cleanup closes idle connections of a built-in
// transport.
func (o *options) roundTripper() (http.RoundTripper, func(), error) {
	base := o.transport
	cleanup := func() {}
	if base == nil {
		t, err := o.httpTransport()
		if err != nil {
			return nil, nil, err
		}
		base, cleanup = t, t.CloseIdleConnections
	}
	var rt http.RoundTripper = &watchdogTransport{inner: base, timeout: o.timeout}
	rt = &retryTransport{inner: rt, retries: o.retries, backoff: o.backoff, maxBackoff: o.maxBackoff}
	rt = &userAgentTransport{inner: rt, userAgent: "imgaudit/" + o.version}
	return rt, cleanup, nil
}

func (o *options) httpTransport() (*http.Transport, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.insecure {
		tlsConfig.InsecureSkipVerify = true //nolint:gosec // asked for by the user with WithInsecure
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, newError("ca file", ErrInvalidOption, "%s", pathError(err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, newError("ca file", ErrInvalidOption, "%s: no PEM certificate found", o.caFile)
		}
		tlsConfig.RootCAs = pool
	}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   o.timeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   50,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.timeout,
		ResponseHeaderTimeout: o.timeout,
		ExpectContinueTimeout: 1 * time.Second,
	}, nil
}

// userAgentTransport sets the User-Agent on a copy of each request.
type userAgentTransport struct {
	inner     http.RoundTripper
	userAgent string
}

func (t *userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.userAgent)
	return t.inner.RoundTrip(r)
}

// timeoutError is returned when a watchdog fires. It is a net.Error with
// Timeout() true and matches ErrTimeout.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string        { return e.msg }
func (e *timeoutError) Timeout() bool        { return true }
func (e *timeoutError) Temporary() bool      { return true }
func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

// watchdogTransport enforces the timeout on any transport: the response
// headers must arrive within timeout of the request start, and each Read of
// the body must return within timeout. A slow but steady download is never
// cut; a stalled one is, by cancelling the request's context.
type watchdogTransport struct {
	inner   http.RoundTripper
	timeout time.Duration
}

func (t *watchdogTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	var fired atomic.Bool
	timer := time.AfterFunc(t.timeout, func() {
		fired.Store(true)
		cancel()
	})
	resp, err := t.inner.RoundTrip(req.WithContext(ctx))
	timer.Stop()
	if err != nil {
		cancel()
		if fired.Load() {
			return nil, &timeoutError{msg: fmt.Sprintf("%s %s: no response within %s", req.Method, redactURL(req.URL), t.timeout)}
		}
		return nil, err
	}
	if fired.Load() {
		// The headers came in just as the timer fired: the context is
		// cancelled, so the body is unusable.
		resp.Body.Close()
		cancel()
		return nil, &timeoutError{msg: fmt.Sprintf("%s %s: no response within %s", req.Method, redactURL(req.URL), t.timeout)}
	}
	resp.Body = &watchdogBody{body: resp.Body, timeout: t.timeout, cancel: cancel, what: redactURL(req.URL)}
	return resp, nil
}

// watchdogBody cancels the request when one Read blocks longer than
// timeout. Time spent by the consumer between Reads does not count.
type watchdogBody struct {
	body    io.ReadCloser
	timeout time.Duration
	cancel  context.CancelFunc
	what    string

	mu    sync.Mutex
	timer *time.Timer
	fired atomic.Bool
}

func (b *watchdogBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.timer == nil {
		b.timer = time.AfterFunc(b.timeout, b.expire)
	} else {
		b.timer.Reset(b.timeout)
	}
	b.mu.Unlock()
	n, err := b.body.Read(p)
	b.mu.Lock()
	b.timer.Stop()
	b.mu.Unlock()
	if err != nil && err != io.EOF && b.fired.Load() {
		err = &timeoutError{msg: fmt.Sprintf("reading %s: no data for %s", b.what, b.timeout)}
	}
	return n, err
}

func (b *watchdogBody) expire() {
	b.fired.Store(true)
	b.cancel()
}

func (b *watchdogBody) Close() error {
	b.mu.Lock()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.mu.Unlock()
	err := b.body.Close()
	b.cancel()
	return err
}

// retryTransport retries requests that failed with 408, 429 or 5xx, or with
// a transient network error (timeout, connection reset, early EOF), with
// exponential backoff capped at maxBackoff and honouring Retry-After within
// that cap. Connection refused, DNS and TLS errors are not retried: they do
// not heal in seconds.
type retryTransport struct {
	inner      http.RoundTripper
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration
}

// retryStatus reports the HTTP statuses worth retrying.
func retryStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	delay := t.backoff
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.inner.RoundTrip(r)
		if attempt >= t.retries || ctx.Err() != nil || !retryable(resp, err) {
			return resp, err
		}
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return resp, err // cannot replay the body
		}
		wait := delay
		if resp != nil {
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				wait = ra
			}
			// Drain a little so the connection can be reused, then drop it.
			_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
			resp.Body.Close()
		}
		wait = min(wait, t.maxBackoff)
		delay = min(delay*2, t.maxBackoff)
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil, ctx.Err()
			case <-timer.C:
			}
		}
	}
}

func retryable(resp *http.Response, err error) bool {
	if err != nil {
		var te *timeoutError
		var ne net.Error
		return errors.As(err, &te) ||
			(errors.As(err, &ne) && ne.Timeout()) ||
			errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
	}
	return retryStatus(resp.StatusCode)
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if when, err := http.ParseTime(v); err == nil {
		return max(when.Sub(now), 0), true
	}
	return 0, false
}

// redactURL renders u without credentials or query string (presigned blob
// URLs carry their signatures there).
func redactURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.Path
}

// pathError renders an os error without repeating the operation name.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}
