//go:build !nosbom

package sbom

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	// syft needs a SQL driver for rpm databases in SQLite format (RHEL 9,
	// Fedora, Amazon Linux 2023); without one every SBOM fails.
	_ "modernc.org/sqlite"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/filecataloging"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/format/syftjson"
	"github.com/anchore/syft/syft/pkg"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Available reports whether this build catalogues packages: false in a build
// with the nosbom tag, which leaves syft out (a binary a fifth of the size,
// and about 70 MB less resident memory, for checks-only CI gates).
const Available = true

// Result is what Catalog found in one image.
type Result struct {
	// Summary is what every report carries.
	Summary Summary
	// Document is syft's full SBOM, for Encode; without its file
	// metadata when Options.Document was not set (see NoFiles).
	Document *syftsbom.SBOM
	// NoFiles says Document lacks the file metadata (Options.Document
	// was not set): Encode refuses it.
	NoFiles bool

	owners *owners
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
	doc, err := syft.CreateSBOM(withValues{ctx, lctx}, src, createConfig(o, src.resolver))
	if err != nil {
		return nil, fmt.Errorf("cataloguing packages: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Document: doc, NoFiles: !o.Document}
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
// bytes of every file; file metadata stays. syft's binary classifiers read
// r's files behind a pre-filter (see classify.go).
func createConfig(o Options, r *resolver) *syft.CreateSBOMConfig {
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
	if !o.Document {
		// Without a document to write, neither the file entries nor the
		// package-to-file relationships (one per owned file) are read:
		// package removal (binaries a distribution package owns) goes by
		// the package-to-package ownership overlap, which stays.
		fc.Selection = file.NoFilesSelection
		cfg = cfg.WithRelationshipsConfig(cfg.Relationships.WithPackageFileOwnership(false))
	}
	cfg = cfg.WithFilesConfig(fc)
	cfg = cfg.WithPackagesConfig(cfg.Packages.WithBinaryConfig(classifierConfig(r)))
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

// CacheVersion changes whenever Catalog would catalogue the same
// filesystem differently (resolver, needs, configuration), so cached results
// from older versions are not reused.
const CacheVersion = 2

// Snapshot encodes r for a cache: its summary and its document as syft JSON,
// which Restore reads back.
func (r *Result) Snapshot() ([]byte, error) {
	var doc bytes.Buffer
	if err := encode(&doc, r, FormatSyftJSON); err != nil {
		return nil, err
	}
	return json.Marshal(snapshot{Summary: r.Summary, Document: doc.Bytes(), NoFiles: r.NoFiles})
}

type snapshot struct {
	Summary  Summary         `json:"summary"`
	Document json.RawMessage `json:"document"`
	NoFiles  bool            `json:"noFiles,omitempty"`
}

// Restore rebuilds a Result from Snapshot's bytes; fsys is the filesystem
// it was catalogued from (file ownership is recomputed from it).
func Restore(b []byte, fsys *layers.FS) (*Result, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("restoring a catalogue: %w", err)
	}
	doc, _, _, err := syftjson.NewFormatDecoder().Decode(bytes.NewReader(s.Document))
	if err != nil {
		return nil, fmt.Errorf("restoring a catalogue: %w", err)
	}
	if doc == nil {
		return nil, errors.New("restoring a catalogue: empty document")
	}
	if s.Summary.ByType == nil {
		s.Summary.ByType = map[string]int{}
	}
	return &Result{Summary: s.Summary, Document: doc, NoFiles: s.NoFiles, owners: newOwners(fsys, doc)}, nil
}

// SyftVersion is the version of syft this binary catalogues with.
func SyftVersion() string {
	syftVersion.once.Do(func() {
		syftVersion.v = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range bi.Deps {
				if d.Path == "github.com/anchore/syft" {
					syftVersion.v = d.Version
				}
			}
		}
	})
	return syftVersion.v
}

var syftVersion struct {
	once sync.Once
	v    string
}
