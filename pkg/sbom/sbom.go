// Package sbom catalogues the packages of a scanned image with syft
// (github.com/anchore/syft) and ties them to imgaudit's findings.
//
// syft's own image path rereads every layer and rewrites it to disk as an
// uncompressed tar before it catalogues anything. This package does not: it
// hands syft a source whose file resolver is the squashed filesystem the
// scan already built (pkg/layers), with every entry's metadata and the
// contents of the files syft's catalogers read, which the scan captured in
// its single pass because [Needs] declared them. No layer is read twice and
// nothing is extracted.
//
// [Catalog] returns a [Result]: the [Summary] that every imgaudit report
// carries (distribution, package counts per type, which packages own which
// files), and the full syft document, which [Encode] writes as CycloneDX,
// SPDX or syft JSON with syft's own encoders.
//
// What is left out, by design: file digests (they would need every file's
// bytes), files above the capture caps (layers.Limits), and executables
// outside the paths [Needs] lists, whose embedded Go or Rust module lists
// are therefore not read. [Summary.Skipped] names the files syft asked for
// that the scan did not capture, so a report never overstates what it saw.
package sbom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	// syft needs a SQL driver for rpm databases in SQLite format (RHEL 9,
	// Fedora, Amazon Linux 2023); without one every SBOM fails.
	_ "modernc.org/sqlite"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/filecataloging"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Image identifies the image being catalogued. Only its manifest and config
// are read, never its layers.
type Image struct {
	// Reference names the image as the user gave it.
	Reference string
	// Digest is the manifest digest; zero when unknown.
	Digest v1.Hash
	// Image gives the manifest and config; nil describes the image by its
	// reference alone.
	Image v1.Image
}

// Options configure Catalog.
type Options struct {
	// ToolName and ToolVersion are recorded in full documents as their
	// creator.
	ToolName    string
	ToolVersion string
	// Parallelism is how many catalogers run at once; 0 means the number of
	// CPUs.
	Parallelism int
}

// Result is what Catalog found in one image.
type Result struct {
	// Summary is what every report carries.
	Summary Summary
	// Document is syft's full SBOM, for Encode.
	Document *syftsbom.SBOM

	owners *owners
}

// Summary is the package summary of an image.
type Summary struct {
	// Distro is the distribution as os-release names it, e.g. "debian",
	// and DistroVersion its version, e.g. "12"; both empty when unknown.
	Distro        string
	DistroVersion string
	// DistroName is the human-readable name, e.g. "Debian GNU/Linux 12
	// (bookworm)".
	DistroName string
	// Packages is the number of packages; ByType counts them per syft
	// package type ("deb", "apk", "rpm", "python", "go-module", "npm",
	// "java-archive", ...).
	Packages int
	ByType   map[string]int
	// Skipped lists the files syft asked to read whose contents the scan
	// did not capture (above a capture cap, or not in Needs), sorted; the
	// packages they hold are missing from the summary.
	Skipped []string
}

// Package identifies one package.
type Package struct {
	Name    string
	Version string
	// Type is syft's package type: deb, apk, rpm, python, go-module, ...
	Type string
	// Remove is the command that removes the package in a build step,
	// e.g. "apt-get purge -y curl"; empty when the image has no package
	// manager that can (Google distroless, a language package, a binary
	// copied in): such a file goes with a multi-stage build.
	Remove string
}

// Catalog runs syft's image catalogers over the scanned filesystem fsys,
// which must come from a scan that captured [Needs].
func Catalog(ctx context.Context, img Image, fsys *layers.FS, o Options) (*Result, error) {
	if fsys == nil {
		return nil, errors.New("cataloguing packages: no filesystem")
	}
	src, err := newSource(img, fsys)
	if err != nil {
		return nil, fmt.Errorf("cataloguing packages: %w", err)
	}
	lctx, err := licenseContext()
	if err != nil {
		return nil, fmt.Errorf("cataloguing packages: %w", err)
	}
	doc, err := syft.CreateSBOM(withValues{ctx, lctx}, src, createConfig(o))
	if err != nil {
		return nil, fmt.Errorf("cataloguing packages: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Document: doc}
	res.Summary = summarize(doc, src.resolver)
	res.owners = newOwners(fsys, doc)
	return res, nil
}

// Prepare builds, once per process, what every Catalog call shares: syft's
// license scanner, whose construction costs about two seconds of CPU. A
// caller may run it in a goroutine while the scan reads layers; Catalog
// calls it anyway.
func Prepare() error {
	_, err := licenseContext()
	return err
}

var license struct {
	once sync.Once
	ctx  context.Context
	err  error
}

// licenseContext returns a context holding syft's license scanner, built
// once: syft would otherwise build one for every SBOM.
func licenseContext() (context.Context, error) {
	license.once.Do(func() {
		license.ctx, license.err = syft.SetContextLicenseScanner(context.Background(), cataloging.DefaultLicenseConfig())
	})
	return license.ctx, license.err
}

// withValues is the caller's context (its deadline, cancellation and
// values), falling back to extra's values.
type withValues struct {
	context.Context
	extra context.Context
}

func (c withValues) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.extra.Value(key)
}

// createConfig is syft's default configuration for an image, less what the
// scan cannot serve: file digests and the executable inventory need the
// bytes of every file; file metadata stays.
func createConfig(o Options) *syft.CreateSBOMConfig {
	cfg := syft.DefaultCreateSBOMConfig()
	name, version := o.ToolName, o.ToolVersion
	if name == "" {
		name = "imgaudit"
	}
	cfg = cfg.WithTool(name, version)
	p := o.Parallelism
	if p <= 0 {
		p = runtime.NumCPU()
	}
	cfg = cfg.WithParallelism(p)
	cfg = cfg.WithSearchConfig(cataloging.SearchConfig{Scope: source.SquashedScope})
	fc := filecataloging.DefaultConfig()
	fc.Hashers = nil
	fc.Selection = file.FilesOwnedByPackageSelection
	cfg = cfg.WithFilesConfig(fc)
	cfg = cfg.WithCatalogerSelection(cataloging.SelectionRequest{RemoveNamesOrTags: []string{"binary-metadata"}})
	return cfg
}

func summarize(doc *syftsbom.SBOM, r *resolver) Summary {
	s := Summary{ByType: map[string]int{}}
	if d := doc.Artifacts.LinuxDistribution; d != nil {
		s.Distro = d.ID
		s.DistroVersion = cmp.Or(d.VersionID, d.Version)
		s.DistroName = d.String()
	}
	for p := range doc.Artifacts.Packages.Enumerate() {
		s.Packages++
		s.ByType[string(p.Type)]++
	}
	s.Skipped = slices.Sorted(maps.Keys(r.missedFiles()))
	return s
}

// Packages returns the catalogued packages sorted by type, name and
// version, without duplicates.
func (r *Result) Packages() []Package {
	var out []Package
	for p := range r.Document.Artifacts.Packages.Enumerate() {
		out = append(out, Package{Name: p.Name, Version: p.Version, Type: string(p.Type)})
	}
	slices.SortFunc(out, comparePackages)
	return slices.Compact(out)
}

func comparePackages(a, b Package) int {
	return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version))
}

// Owner returns the package that installed the file at p, or that owns one
// of the other paths reaching the same file (aliases), nil when no package
// database lists any of them. The real path wins over aliases.
func (r *Result) Owner(p string, aliases ...string) *Package {
	if r == nil || r.owners == nil {
		return nil
	}
	return r.owners.owner(p, aliases)
}

// ownedFiles returns the files a package's database entry lists.
func ownedFiles(p pkg.Package) []string {
	if fo, ok := p.Metadata.(pkg.FileOwner); ok {
		return fo.OwnedFiles()
	}
	return nil
}
