package checks

import (
	"context"
	"fmt"
)

type rootUser struct{}

var _ Check = (*rootUser)(nil)

// RootUser reports an image whose container runs as uid 0.
func RootUser() Check { return &rootUser{} }

func (*rootUser) Meta() Meta {
	return Meta{
		ID:       "IA-ROOT-USER",
		Title:    "Container runs as root",
		Category: CategoryRootUser,
		Severity: High,
		Rationale: "Root in the container owns every file of the image, can use every capability the runtime grants, " +
			"and is root on the host after any container escape.",
		Remediation: "Add a numeric non-root user as the last USER instruction, e.g. `USER 65532:65532` " +
			"(distroless and Chainguard images ship uid 65532 \"nonroot\"), and make the files the application writes owned by it.",
		Notes: "Root is: USER unset or empty, \"0\" or \"root\" with any group (\"0:0\", \"root:root\", \"0:1000\"), " +
			"or a name that /etc/passwd maps to uid 0 (an \"admin:x:0:0\" alias). A numeric non-zero uid is not root, with or without a passwd entry.",
		Needs: userNeeds,
	}
}

func (*rootUser) Run(_ context.Context, img *Image) ([]Finding, error) {
	u := ResolveUser(img)
	if !u.Root {
		return nil, nil
	}
	f := Finding{Name: trimUser(u.Configured), Layer: img.userStep()}
	switch {
	case f.Name == "":
		f.Detail = "USER is not set: the container runs as root (uid 0)"
	case u.Verifiable:
		f.Detail = fmt.Sprintf("USER %q is uid 0", u.Configured)
	default:
		f.Detail = fmt.Sprintf("USER %q resolves to uid 0", u.Configured)
	}
	return []Finding{f}, nil
}
