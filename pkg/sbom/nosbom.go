//go:build nosbom

package sbom

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Available reports whether this build catalogues packages. This one was
// built with the nosbom tag: syft is not linked, Catalog and Encode return
// ErrUnavailable.
const Available = false

// Result is what Catalog found in one image; a build without syft finds
// nothing.
type Result struct {
	// Summary is what every report carries.
	Summary Summary
	// NoFiles is as in the full build; nothing sets it here.
	NoFiles bool
}

// Catalog returns ErrUnavailable: this build has no cataloguer.
func Catalog(context.Context, Image, *layers.FS, Options) (*Result, error) {
	return nil, ErrUnavailable
}

// Prepare has nothing to prepare in this build.
func Prepare() error { return nil }

// Needs lists no capture patterns: nothing reads them in this build.
func Needs() []string { return nil }

// Packages returns nothing in this build.
func (r *Result) Packages() []Package { return nil }

// Owner returns nil in this build: no package database was read.
func (r *Result) Owner(string, ...string) *Package { return nil }

// CheckFormat rejects every format in this build, naming why.
func CheckFormat(format string) error {
	if !slices.Contains(Formats(), format) {
		return fmt.Errorf("unknown SBOM format %q (want %s)", format, strings.Join(Formats(), ", "))
	}
	return ErrUnavailable
}

// Encode returns ErrUnavailable.
func Encode(io.Writer, *Result, string) error { return ErrUnavailable }

// CacheVersion is the version of cached catalogues; none are made in this
// build.
const CacheVersion = 0

// Snapshot returns ErrUnavailable in this build.
func (r *Result) Snapshot() ([]byte, error) { return nil, ErrUnavailable }

// Restore returns ErrUnavailable in this build.
func Restore([]byte, *layers.FS) (*Result, error) { return nil, ErrUnavailable }

// SyftVersion is "none" in this build.
func SyftVersion() string { return "none" }
