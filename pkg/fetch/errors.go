package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imgaudit/imgaudit/internal/oneline"
)

// Sentinel errors. Every error returned by this package wraps at most one of
// them; test with errors.Is.
var (
	// ErrInvalidReference means the image reference, repository or registry name
	// cannot be parsed.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrInvalidOption means an option was given a value it cannot take (a
	// malformed platform, a negative retry count, an unreadable CA file).
	ErrInvalidOption = errors.New("invalid option")
	// ErrNotFound means the image, tag, repository, file or directory does not
	// exist.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized means the registry refused the credentials, or asked for
	// some and none were given (HTTP 401 and 403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTLS means the TLS handshake failed, typically an unknown certificate
	// authority, an expired certificate, or a plain HTTP registry reached
	// without the insecure option.
	ErrTLS = errors.New("tls error")
	// ErrTimeout means a connection, a response or a read took longer than the
	// timeout, or the context's deadline passed.
	ErrTimeout = errors.New("timeout")
	// ErrNoPlatform means the image has no manifest for the requested platform.
	// The message lists the available platforms.
	ErrNoPlatform = errors.New("no matching platform")
	// ErrUnreachable means the registry cannot be reached at all (connection
	// refused, unknown host, no route).
	ErrUnreachable = errors.New("unreachable")
	// ErrUnavailable means the registry answered but kept failing (HTTP 429 or
	// 5xx) after the configured retries.
	ErrUnavailable = errors.New("registry unavailable")
	// ErrUnsupported means the reference names something this package cannot
	// audit (schema 1 manifest, non-image artifact, unknown media type,
	// compressed archive, unknown transport).
	ErrUnsupported = errors.New("unsupported")
	// ErrCorrupt means an image source is malformed: unparsable JSON, a blob
	// missing from a layout or archive, or a blob (local, or served by a
	// registry) whose digest or size does not match its descriptor.
	ErrCorrupt = errors.New("corrupt image")
)

// Error is the type of every error returned by this package. Its message is
// one line: "REF: KIND: DETAIL", with secrets removed.
type Error struct {
	// Ref is the reference as the user wrote it (or the registry or
	// repository for Catalog and Tags).
	Ref string
	// Kind is one of the sentinel errors of this package, context.Canceled,
	// or nil when the failure fits none of them.
	Kind error
	// Err is the underlying cause, or nil. Its own message is not sanitized;
	// print the Error itself.
	Err error

	detail string
}

// Error returns the one-line message.
func (e *Error) Error() string {
	parts := make([]string, 0, 3)
	if e.Ref != "" {
		parts = append(parts, safeRef(e.Ref))
	}
	if e.Kind != nil {
		parts = append(parts, e.Kind.Error())
	}
	if e.detail != "" && (e.Kind == nil || e.detail != e.Kind.Error()) {
		parts = append(parts, e.detail)
	}
	return strings.Join(parts, ": ")
}

// Unwrap returns the kind and the cause, so that errors.Is and errors.As see
// both.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// safeRef quotes a reference holding control or non-printable characters
// (a tag or repository name from a hostile registry's listing, say), so
// that a message stays one line and cannot drive a terminal.
func safeRef(ref string) string {
	for _, r := range ref {
		if !unicode.IsPrint(r) {
			return strconv.Quote(ref)
		}
	}
	return ref
}

// newError builds an *Error with a formatted detail. The detail is made one
// line but not redacted: callers only format values they control.
func newError(ref string, kind error, format string, args ...any) *Error {
	return &Error{Ref: ref, Kind: kind, detail: oneline.Fold(fmt.Sprintf(format, args...))}
}

// kindError builds an error of the given kind that names no reference yet;
// Open, Catalog and Tags put the reference in front. Errors returned later by
// image methods (a corrupt blob) are seen by callers as they are.
func kindError(kind error, format string, args ...any) error {
	return newError("", kind, format, args...)
}

// wrapError builds an *Error around err with a kind chosen by the caller;
// the detail is err's message, sanitized.
func wrapError(ref string, kind error, err error, secrets []string) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Ref: ref, Kind: kind, Err: err, detail: sanitize(err.Error(), secrets)}
}

// classify turns any error from go-containerregistry, net/http or the
// operating system into an *Error naming ref, with the best matching kind.
// secrets are scrubbed from the message.
func classify(ref string, err error, secrets []string) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		if fe.Ref == ref {
			return fe
		}
		// An error about an option or a part of the reference: keep its
		// subject in the detail and name the reference first.
		return &Error{Ref: ref, Kind: fe.Kind, Err: fe.Err, detail: strings.Join(nonEmpty(fe.Ref, fe.detail), ": ")}
	}
	kind, detail := kindOf(err)
	if detail == "" {
		detail = shortDetail(kind, err)
	}
	return &Error{Ref: ref, Kind: kind, Err: err, detail: sanitize(detail, secrets)}
}

// kindOf picks the sentinel for err and, for registry errors, a short
// detail built from the registry's error codes.
func kindOf(err error) (kind error, detail string) {
	var te *transport.Error
	if errors.As(err, &te) {
		if k := kindOfStatus(te); k != nil {
			return k, registryDetail(te)
		}
	}
	for _, k := range []error{ErrInvalidOption, ErrTimeout, ErrNotFound, ErrUnsupported, ErrCorrupt, ErrInvalidReference, ErrUnauthorized, ErrUnavailable, ErrNoPlatform} {
		if errors.Is(err, k) {
			return k, ""
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err) {
		return ErrTimeout, ""
	}
	if isVerifyError(err) {
		return ErrCorrupt, ""
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled, ""
	}
	if isTLSError(err) {
		return ErrTLS, ""
	}
	if isUnreachable(err) {
		return ErrUnreachable, ""
	}
	var bad *name.ErrBadName
	if errors.As(err, &bad) {
		return ErrInvalidReference, ""
	}
	return nil, ""
}

func kindOfStatus(te *transport.Error) error {
	for _, d := range te.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return ErrNotFound
		case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
			return ErrUnauthorized
		case transport.NameInvalidErrorCode, transport.TagInvalidErrorCode, transport.DigestInvalidErrorCode:
			return ErrInvalidReference
		case transport.TooManyRequestsErrorCode, transport.UnavailableErrorCode:
			return ErrUnavailable
		case transport.UnsupportedErrorCode:
			return ErrUnsupported
		}
	}
	switch {
	case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
		return ErrUnauthorized
	case te.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case te.StatusCode == http.StatusTooManyRequests || te.StatusCode >= 500:
		return ErrUnavailable
	case te.StatusCode == http.StatusRequestTimeout:
		return ErrTimeout
	}
	return nil
}

// shortDetail picks the most telling part of err for the message: the
// watchdog's own words for timeouts, the failed dial for unreachable hosts
// (go-containerregistry tries https and http and reports both), else the
// whole message.
func shortDetail(kind error, err error) string {
	switch kind {
	case ErrTimeout:
		var te *timeoutError
		if errors.As(err, &te) {
			return te.msg
		}
	case ErrTLS:
		var (
			verification *tls.CertificateVerificationError
			recordHeader tls.RecordHeaderError
		)
		switch {
		case errors.As(err, &verification):
			return verification.Error()
		case isPlainHTTP(err):
			return plainHTTPMessage + " (a plain HTTP registry needs the insecure option)"
		case errors.As(err, &recordHeader):
			return recordHeader.Error()
		}
	case ErrUnreachable:
		var oe *net.OpError
		if errors.As(err, &oe) {
			return oe.Error()
		}
	}
	return err.Error()
}

// registryDetail renders a registry error without its URL: the error codes
// as words ("manifest unknown"), or the HTTP status. A code that only
// repeats the kind ("unauthorized") is followed by the registry's message.
func registryDetail(te *transport.Error) string {
	var parts []string
	for _, d := range te.Errors {
		code := strings.ToLower(strings.ReplaceAll(string(d.Code), "_", " "))
		msg := strings.TrimSpace(d.Message)
		switch {
		case code == "" || code == "unknown":
			code = msg
		case (code == "unauthorized" || code == "denied") && msg != "" && !strings.EqualFold(msg, code):
			code = msg
		}
		if code != "" && !contains(parts, code) {
			parts = append(parts, code)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	return fmt.Sprintf("http status %d (%s)", te.StatusCode, strings.ToLower(http.StatusText(te.StatusCode)))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isVerifyError reports go-containerregistry's failure of a blob read from
// a registry whose bytes do not match the digest or size it was asked by
// (its type is internal, its message is not).
func isVerifyError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "error verifying sha256 checksum") || strings.Contains(msg, "error verifying size") ||
		strings.Contains(msg, "manifest digest: ") && strings.Contains(msg, "does not match requested digest")
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalid          x509.CertificateInvalidError
		hostname         x509.HostnameError
		systemRoots      x509.SystemRootsError
		verification     *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
	)
	return isPlainHTTP(err) || errors.As(err, &unknownAuthority) || errors.As(err, &invalid) ||
		errors.As(err, &hostname) || errors.As(err, &systemRoots) ||
		errors.As(err, &verification) || errors.As(err, &recordHeader) ||
		errors.As(err, &alert)
}

// plainHTTPMessage is the error net/http returns when an https request is
// answered in plain HTTP (it replaces tls.RecordHeaderError).
const plainHTTPMessage = "server gave HTTP response to HTTPS client"

func isPlainHTTP(err error) bool { return strings.Contains(err.Error(), plainHTTPMessage) }

func isUnreachable(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}

// redacted replaces secrets in error messages.
const redacted = "[redacted]"

// urlQuery matches the query string of a URL inside a message.
var urlQuery = regexp.MustCompile(`(https?://[^\s"?]+)\?[^\s"]*`)

// authValue matches the credentials of an Authorization header (or of a
// token answer) that a registry echoed into an error body.
var authValue = regexp.MustCompile(`(?i)\b(basic|bearer)(\s+)[A-Za-z0-9+/=._~-]{4,}|("(?:access_)?token"\s*:\s*")[^"]+`)

// secretSet holds the credentials handed to registries under one set of
// options (given as an option, or resolved from the keychain while requests
// are made), so that every message built later, a blob read failing long
// after Open included, is scrubbed of them. It is safe for concurrent use.
type secretSet struct {
	mu   sync.Mutex
	list []string
}

// add remembers the non-empty strings of ss.
func (s *secretSet) add(ss ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range ss {
		if v != "" && !contains(s.list, v) {
			s.list = append(s.list, v)
		}
	}
}

// all returns a copy of the remembered secrets; nil for a nil set.
func (s *secretSet) all() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.list...)
}

// sanitize makes msg one line and removes every secret given from it, also
// in the base64 forms an Authorization header would carry, drops the values
// of Authorization headers and token fields a registry may echo, and drops
// URL query strings (presigned blob URLs carry signatures there).
func sanitize(msg string, secrets []string) string {
	msg = urlQuery.ReplaceAllString(msg, "$1?"+redacted)
	msg = authValue.ReplaceAllStringFunc(msg, func(m string) string {
		sub := authValue.FindStringSubmatch(m)
		if sub[3] != "" {
			return sub[3] + redacted
		}
		return sub[1] + sub[2] + redacted
	})
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, redacted)
		if enc := base64.StdEncoding.EncodeToString([]byte(s)); len(enc) > 3 {
			msg = strings.ReplaceAll(msg, enc, redacted)
		}
	}
	return oneline.Fold(msg)
}

func nonEmpty(ss ...string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
