package checks

import (
	"context"
	"fmt"
)

type userName struct{}

var _ Check = (*userName)(nil)

// UserName reports a non-root user configured by name instead of by UID.
func UserName() Check { return &userName{} }

func (*userName) Meta() Meta {
	return Meta{
		ID:       "IA-USER-NAME",
		Title:    "User set by name, not UID",
		Category: CategoryUserUnverifiable,
		Severity: Medium,
		Rationale: "The user is non-root according to the image's /etc/passwd, but Kubernetes runAsNonRoot cannot verify a name " +
			"and refuses to start the pod; the uid also changes silently whenever /etc/passwd does.",
		Fix:         "Use the numeric UID, e.g. `USER 65532:65532`.",
		Remediation: "Use the numeric UID instead of the name, e.g. `USER 65532:65532`.",
		Notes:       "Applies to non-numeric users that /etc/passwd maps to a non-zero uid.",
		Needs:       userNeeds(),
	}
}

func (*userName) Run(_ context.Context, img *Image) ([]Finding, error) {
	u := ResolveUser(img)
	if u.Root || u.Verifiable || !u.InPasswd || u.UID == nil {
		return nil, nil
	}
	name := trimUser(u.Configured)
	return []Finding{{
		Name:   name,
		Detail: fmt.Sprintf("USER %q is uid %d in /etc/passwd; use the number", u.Configured, *u.UID),
		Layer:  userStep(img),
	}}, nil
}
