package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// captures lists the files whose contents the report and the checks need.
func captures(cs []checks.Check) []string {
	return checks.Captures(cs) // includes checks.ImageNeeds()
}

// assess fills the user, base and findings of ri from the squashed image,
// and returns the checks' view of it.
func assess(ctx context.Context, ri *report.Image, cs []checks.Check, cfg *v1.ConfigFile, fsys *layers.FS) (*checks.Image, error) {
	img := checks.NewImage(ri.Reference, cfg, fsys)
	u := checks.ResolveUser(img)
	ri.User = report.User{Configured: u.Configured, UID: u.UID, Root: u.Root, Verifiable: u.Verifiable}
	b := checks.ClassifyBase(img)
	ri.Base = report.Base{Kind: b.Kind, Distroless: b.Distroless}
	if b.OSRelease != (checks.OSRelease{}) {
		ri.Base.OSRelease = &report.OSRelease{ID: b.OSRelease.ID, VersionID: b.OSRelease.VersionID, PrettyName: b.OSRelease.PrettyName}
	}
	fs, err := checks.Run(ctx, img, cs)
	if err != nil {
		return nil, fmt.Errorf("running checks: %w", err)
	}
	ri.Findings = make([]report.Finding, 0, len(fs))
	for _, f := range fs {
		ri.Findings = append(ri.Findings, reportFinding(f))
	}
	return img, nil
}

func reportFinding(f checks.Finding) report.Finding {
	rf := report.Finding{
		ID:          f.ID,
		Category:    string(f.Category),
		Severity:    f.Severity,
		Title:       f.Title,
		Path:        f.Path,
		Aliases:     f.Aliases,
		Name:        f.Name,
		Detail:      f.Detail,
		Deleted:     f.Deleted,
		Remediation: f.Remediation,
	}
	if f.Layer != nil {
		rf.Layer = &report.LayerRef{Index: f.Layer.Index, Digest: f.Layer.Digest, DiffID: f.Layer.DiffID, CreatedBy: f.Layer.CreatedBy}
	}
	return rf
}

// ownedCategory reports the finding categories about a file some package may
// have installed: for them the report names the package and how to remove
// it.
func ownedCategory(category string) bool {
	switch checks.Category(category) {
	case checks.CategoryShell, checks.CategoryPackageManager, checks.CategoryNetworkTool,
		checks.CategoryPermissionTool, checks.CategoryPrivilegeTool, checks.CategoryDebugTool,
		checks.CategoryBuildTool, checks.CategorySSHServer, checks.CategorySetuid,
		checks.CategorySetgid:
		return true
	}
	return false
}

// catalog lists the image's packages with syft over the scanned
// filesystem, fills ri's SBOM summary, and names the package that owns each
// tool finding's file, with removal advice.
func catalog(ctx context.Context, ri *report.Image, t fetch.Target, fsys *layers.FS, lo layers.Options, o Options) (*sbom.Result, error) {
	res, err := cachedCatalog(ctx, t, fsys, lo, o)
	if err != nil {
		return nil, err
	}
	s := res.Summary
	ri.SBOM = &report.SBOM{
		Distro: s.DistroName, DistroID: s.Distro, DistroVersion: s.DistroVersion,
		Packages: s.Packages, ByType: s.ByType, Skipped: s.Skipped,
	}
	for i := range ri.Findings {
		f := &ri.Findings[i]
		if f.Path == "" || f.Deleted || !ownedCategory(f.Category) {
			continue
		}
		p := res.Owner(f.Path, f.Aliases...)
		if p == nil {
			continue
		}
		f.Package = &report.PackageRef{Name: p.Name, Version: p.Version, Type: p.Type, Remove: p.Remove, Essential: p.Essential}
		// The tool checks already name the removal command when they read
		// the same database (dpkg, apk).
		if !namesPackage(f.Remediation, p) {
			f.Remediation = packageRemediation(p) + " " + f.Remediation
		}
	}
	return res, nil
}

// cachedCatalog catalogues the image, or restores the catalogue from the
// layer cache when it can hold one (layers.BlobCache): a warm re-scan then
// reads no layer and runs no cataloguer. The key covers syft's version, the
// catalogue format, the tool version, the image (reference and digest) and
// every layer's cache key (diffID, analyzer version, captures, limits). A
// cache entry that cannot be read is a miss.
func cachedCatalog(ctx context.Context, t fetch.Target, fsys *layers.FS, lo layers.Options, o Options) (*sbom.Result, error) {
	bc := o.blobCache()
	var key string
	if bc != nil && t.Digest.Hex != "" {
		h := sha256.New()
		fmt.Fprintf(h, "sbom v%d\nsyft %s\nimgaudit %s\n%s\n%s\n", sbom.CacheVersion, sbom.SyftVersion(), o.toolVersion(), t.Reference, t.Digest)
		for _, l := range fsys.Layers() {
			fmt.Fprintln(h, layers.CacheKey(l.DiffID, lo))
		}
		key = "sbom-" + hex.EncodeToString(h.Sum(nil))[:32]
		if b, err := bc.GetBlob(ctx, key); err == nil && b != nil {
			// A catalogue made without file metadata cannot serve a full
			// document; one made with it serves both.
			if res, err := sbom.Restore(b, fsys); err == nil && (!res.NoFiles || o.OnSBOM == nil) {
				return res, nil
			}
		}
	}
	res, err := sbom.Catalog(ctx, sbom.Image{Reference: t.Reference, Digest: t.Digest, Image: t.Image}, fsys,
		sbom.Options{ToolName: "imgaudit", ToolVersion: o.toolVersion(), Document: o.OnSBOM != nil})
	if err != nil {
		return nil, err
	}
	if key != "" {
		if b, err := res.Snapshot(); err == nil {
			_ = bc.PutBlob(ctx, key, b) // a cache that cannot be written costs the next run time, not this one
		}
	}
	return res, nil
}

// namesPackage reports whether a check's remediation already says what to
// do about package p (the tool checks read the same dpkg and apk
// databases): its removal command, or that it is essential.
func namesPackage(remediation string, p *sbom.Package) bool {
	switch {
	case p.Remove != "":
		return strings.Contains(remediation, "`"+p.Remove+"`")
	case p.Essential:
		return strings.Contains(remediation, "Package "+p.Name+" ships it and the distribution marks it essential")
	}
	return false
}

// packageRemediation says how to remove the package that ships a file.
func packageRemediation(p *sbom.Package) string {
	if p.Remove != "" {
		return fmt.Sprintf("Package %s (%s) ships this file: remove it with `%s` in the step that installed it, or leave it out of the final stage.",
			p.Name, p.Type, p.Remove)
	}
	if p.Essential {
		return fmt.Sprintf("Package %s (%s) ships this file and the distribution marks it essential (removing it breaks the package system): "+
			"build the final stage on a distroless or minimal base that copies in only what the application needs.", p.Name, p.Type)
	}
	return fmt.Sprintf("Package %s (%s) ships this file and the image has no package manager to remove it: "+
		"build the final stage without it (a multi-stage build that copies only what the application needs).", p.Name, p.Type)
}
