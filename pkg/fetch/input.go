package fetch

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// URL schemes a user may put in front of a registry or an image reference
// (copied from a browser or from a registry's web page).
const (
	schemeHTTPS = "https://"
	schemeHTTP  = "http://"
)

// TrimScheme removes an http:// or https:// scheme from a registry target
// or an image reference ("https://ghcr.io/org/app:1" → "ghcr.io/org/app:1")
// and a trailing slash after the host. https:// is what a registry speaks
// anyway; http:// asks for plain HTTP, which is taken for a registry that
// is spoken to in plain HTTP anyway (localhost, a loopback address) or
// when the insecure option (WithInsecure) is among opts, and is otherwise
// refused with the hint to give it. A string without a scheme is returned as it is.
func TrimScheme(s string, opts ...Option) (string, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return "", rehome(s, err)
	}
	return trimScheme(s, o.insecure)
}

func trimScheme(s string, insecure bool) (string, error) {
	lower := strings.ToLower(s)
	var rest string
	switch {
	case strings.HasPrefix(lower, schemeHTTPS):
		rest = s[len(schemeHTTPS):]
	case strings.HasPrefix(lower, schemeHTTP):
		rest = s[len(schemeHTTP):]
		if !insecure && !plainHTTPHost(rest) {
			return "", newError(s, ErrInvalidReference,
				"a plain HTTP registry needs the insecure option (--insecure %s)", strings.TrimSuffix(rest, "/"))
		}
	default:
		return s, nil
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.HasPrefix(rest, "/") {
		return "", newError(s, ErrInvalidReference, "no registry host after the scheme")
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		return "", newError(s, ErrInvalidReference, "a registry reference has no query or fragment (%q)", rest[i:])
	}
	return rest, nil
}

// plainHTTPHost reports whether the registry of ref is one that is spoken
// to in plain HTTP without the insecure option: localhost, a loopback
// address or a .local name, as go-containerregistry decides.
func plainHTTPHost(ref string) bool {
	host, _, _ := strings.Cut(ref, "/")
	reg, err := name.NewRegistry(host, name.WeakValidation)
	return err == nil && reg.Scheme() == "http"
}

// looksLikePath reports whether ref, which names no existing file, was
// meant as a local path rather than a registry reference: it starts with
// ./, ../, / or ~/, ends with a path separator, or has a slash, no tag or
// digest, and its parent directory exists here (testdata/images/nope). Such a reference
// is reported as a missing file, not looked up in a registry (Docker
// Hub, for a name without a host); docker:// forces the registry.
func looksLikePath(ref string) bool {
	switch {
	case explicitPath(ref), strings.HasSuffix(ref, "/"):
		return true
	case !strings.Contains(ref, "/"), strings.ContainsAny(ref[strings.LastIndex(ref, "/"):], ":@"):
		// No slash, or a tag or digest: an image name.
		return false
	}
	fi, err := os.Stat(filepath.Dir(ref))
	return err == nil && fi.IsDir()
}

// explicitPath reports whether ref can only be a path: ./x, ../x, /x, ~/x.
func explicitPath(ref string) bool {
	return ref == "." || ref == ".." || ref == "~" ||
		strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") ||
		strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "~/")
}

// missingPath is the error for a path-looking reference that names nothing.
func missingPath(ref string) error {
	hint := ""
	if !explicitPath(ref) && looksLikeRegistryRef(strings.TrimSuffix(ref, "/")) {
		hint = " (to read it from a registry, write docker://" + ref + ")"
	}
	return newError(ref, ErrNotFound, "no such file or directory%s", hint)
}
