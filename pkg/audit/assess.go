package audit

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// captures lists the files whose contents the report and the checks need.
func captures(cs []checks.Check) []string {
	return append(checks.ImageNeeds(), checks.Captures(cs)...)
}

// assess fills the user, base and findings of ri from the squashed image.
func assess(ctx context.Context, ri *report.Image, cs []checks.Check, cfg *v1.ConfigFile, fsys *layers.FS) error {
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
		return fmt.Errorf("running checks: %w", err)
	}
	ri.Findings = make([]report.Finding, 0, len(fs))
	for _, f := range fs {
		ri.Findings = append(ri.Findings, reportFinding(f))
	}
	return nil
}

func reportFinding(f checks.Finding) report.Finding {
	rf := report.Finding{
		ID:          f.ID,
		Category:    string(f.Category),
		Severity:    f.Severity.String(),
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
