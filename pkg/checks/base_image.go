package checks

import (
	"context"
	"fmt"
	"strings"
)

type baseImage struct{}

var _ Check = (*baseImage)(nil)

// BaseImage reports an image whose final filesystem is not distroless: it
// has a shell or a package manager.
func BaseImage() Check { return &baseImage{} }

func (*baseImage) Meta() Meta {
	return Meta{
		ID:       "IA-BASE",
		Title:    "Base is not distroless",
		Category: CategoryBase,
		Severity: Low,
		Rationale: "A full distribution base ships a shell, a package manager and hundreds of tools and libraries the application never uses: " +
			"each is attack surface and a source of vulnerability reports.",
		Fix: "Rebuild on a distroless, Chainguard or scratch base.",
		Remediation: "Rebuild on a minimal base that fits the application: scratch or gcr.io/distroless/static for a static binary, " +
			"distroless base/cc for a dynamic one, the distroless or Chainguard runtime image for Java, Node.js or Python.",
		Notes: "The base kind comes from os-release (Google distroless: PRETTY_NAME \"Distroless\" or /var/lib/dpkg/status.d/), " +
			"else the package database, else busybox or scratch. The image is distroless when no shell and no package manager is reachable from PATH, " +
			"whatever the kind. The finding's remediation names a base for what the image runs (entrypoint, interpreters on PATH).",
		Needs: baseNeeds(),
	}
}

func (*baseImage) Run(_ context.Context, img *Image) ([]Finding, error) {
	b := ClassifyBase(img)
	if b.Distroless {
		return nil, nil
	}
	var what []string
	shells := toolGroups(img, shellTools(), true)
	pms := toolGroups(img, packageManagerTools(), false)
	if len(shells) > 0 {
		what = append(what, "a shell ("+shells[0].file.Path+")")
	}
	if len(pms) > 0 {
		what = append(what, "a package manager ("+pms[0].file.Path+")")
	}
	desc := b.Kind
	if b.OSRelease.PrettyName != "" {
		desc = fmt.Sprintf("%s (%s)", b.Kind, b.OSRelease.PrettyName)
	}
	f := Finding{
		Name:        b.Kind,
		Detail:      fmt.Sprintf("base %s with %s", desc, strings.Join(what, " and ")),
		Remediation: recommendBase(img, b),
	}
	if osr := osReleaseOf(img); osr.node != nil {
		f.Path = osr.node.Path
		f.Layer = layerRef(img, osr.node.Layer)
	} else {
		first := shells
		if len(first) == 0 {
			first = pms
		}
		f.Layer = layerRef(img, first[0].file.Layer)
	}
	return []Finding{f}, nil
}
