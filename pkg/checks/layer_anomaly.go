package checks

import (
	"context"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

type layerAnomaly struct{}

var _ Check = (*layerAnomaly)(nil)

// LayerAnomaly reports malformed or ambiguous layer entries.
func LayerAnomaly() Check { return &layerAnomaly{} }

func (*layerAnomaly) Meta() Meta {
	return Meta{
		ID:       "IA-LAYER-ANOMALY",
		Title:    "Malformed or ambiguous layer entry",
		Category: CategorySuspiciousPath,
		Severity: Low,
		Rationale: "Entries that extractors disagree on (a file written through a symlinked directory, the same path twice in a layer, " +
			"a hardlink to nothing, a whiteout of the root, absolute names) can show a scanner one filesystem and the runtime another, " +
			"hiding a file from review.",
		Fix:         "Rebuild the layer with a standard builder.",
		Remediation: "Rebuild the layer with a standard builder (BuildKit, ko, apko, Bazel rules_oci) from a clean context.",
		Notes: "Kinds absolute-name, through-symlink, parent-not-dir, duplicate, hardlink-missing, unsupported-type, bad-whiteout, empty-name, " +
			"runtime-divergence (overlayfs and containerd's native applier unpack the path differently; the audit covers both). " +
			"Escapes are IA-PATH-ESCAPE; capture-truncated is a scan limit, not a property of the image, and is not reported.",
	}
}

func (*layerAnomaly) Run(_ context.Context, img *Image) ([]Finding, error) {
	return anomalyFindings(img, map[layers.AnomalyKind]bool{
		layers.AnomalyAbsoluteName:    true,
		layers.AnomalyThroughSymlink:  true,
		layers.AnomalyParentNotDir:    true,
		layers.AnomalyDuplicate:       true,
		layers.AnomalyHardlinkMissing: true,
		layers.AnomalyUnsupportedType: true,
		layers.AnomalyBadWhiteout:     true,
		layers.AnomalyEmptyName:       true,
		// The union of what runtimes ship is audited; that they differ
		// at all is a crafted layer.
		layers.AnomalyRuntimeDivergence: true,
	}), nil
}
