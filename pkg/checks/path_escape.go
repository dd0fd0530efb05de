package checks

import (
	"context"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

type pathEscape struct{}

var _ Check = (*pathEscape)(nil)

// PathEscape reports layer entries and links that climb out of the image
// root.
func PathEscape() Check { return &pathEscape{} }

func (*pathEscape) Meta() Meta {
	return Meta{
		ID:       "IA-PATH-ESCAPE",
		Title:    "Layer entry escapes the image root",
		Category: CategorySuspiciousPath,
		Severity: High,
		Rationale: "A tar entry named ../../x, or a link whose target climbs above the root, is how a hostile layer writes outside " +
			"the extraction directory of a naive extractor (a CI job, a scanner, `docker cp`). Standard builders do not produce them.",
		Fix:         "Rebuild the layer; treat the image as hostile until then.",
		Remediation: "Find out which tool produced the layer and rebuild it; treat the image as hostile until then.",
		Notes: "Kinds escaping-name (entry name with .. above the root) and escaping-link (relative link target above the root). " +
			"imgaudit itself keeps such entries inside the root.",
	}
}

func (*pathEscape) Run(_ context.Context, img *Image) ([]Finding, error) {
	return anomalyFindings(img, map[layers.AnomalyKind]bool{
		layers.AnomalyEscapingName: true,
		layers.AnomalyEscapingLink: true,
	}), nil
}

// anomalyFindings reports the layer anomalies of the given kinds, once per
// kind, path, layer and detail.
func anomalyFindings(img *Image, kinds map[layers.AnomalyKind]bool) []Finding {
	type key struct {
		kind   layers.AnomalyKind
		path   string
		layer  int
		detail string
	}
	seen := map[key]bool{}
	var out []Finding
	for _, a := range filesOf(img).Anomalies() {
		k := key{a.Kind, a.Path, a.Layer, a.Detail}
		if !kinds[a.Kind] || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, Finding{
			Path:   a.Path,
			Name:   string(a.Kind),
			Layer:  layerRef(img, a.Layer),
			Detail: string(a.Kind) + ": " + quoteDetail(a.Detail),
		})
	}
	return out
}

func quoteDetail(s string) string {
	if s == "" {
		return `""`
	}
	return "\"" + redactText(s) + "\""
}
