package checks

import (
	"context"
	"strings"
)

type healthcheck struct{}

var _ Check = (*healthcheck)(nil)

// Healthcheck reports an image without a HEALTHCHECK.
func Healthcheck() Check { return &healthcheck{} }

func (*healthcheck) Meta() Meta {
	return Meta{
		ID:       "IA-HEALTHCHECK",
		Title:    "No HEALTHCHECK",
		Category: CategoryHealthcheck,
		Severity: Low,
		Rationale: "Without a health check, Docker and Swarm keep routing to a hung or half-compromised container; " +
			"a failing check gets it replaced. (Kubernetes ignores HEALTHCHECK and uses probes.)",
		Fix: "Add an exec-form HEALTHCHECK calling the app's probe.",
		Remediation: "Add a HEALTHCHECK in exec form that calls the application's own probe, e.g. " +
			"`HEALTHCHECK CMD [\"/app\", \"healthcheck\"]`, without adding curl or a shell; on Kubernetes define liveness and readiness probes.",
		Notes: "HEALTHCHECK NONE counts as missing.",
	}
}

func (*healthcheck) Run(_ context.Context, img *Image) ([]Finding, error) {
	hc := configOf(img).Healthcheck
	if hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE" {
		return nil, nil
	}
	f := Finding{Detail: "the image defines no HEALTHCHECK"}
	if hc != nil && len(hc.Test) > 0 {
		f.Detail = "HEALTHCHECK NONE disables the health check"
		if i := lastStep(img, "HEALTHCHECK", func(args string) bool { return strings.Contains(strings.ToUpper(args), "NONE") }); i >= 0 {
			f.Layer = historyRef(img, i)
		}
	}
	return []Finding{f}, nil
}
