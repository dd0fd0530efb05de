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
		Fix: "End with a numeric non-root USER, e.g. `USER 65532:65532`.",
		Remediation: "Add a numeric non-root user as the last USER instruction, e.g. `USER 65532:65532` " +
			"(distroless and Chainguard images ship uid 65532 \"nonroot\"), and make the files the application writes owned by it.",
		Notes: "The user is resolved with the container runtime's own parser (github.com/moby/sys/user, as runc, Docker and containerd do): " +
			"the value is not trimmed; a user part strconv.Atoi accepts is a uid (\"0\", \"+0\", \"00\"); a name takes the first /etc/passwd line " +
			"that names it, whole lines trimmed, and a uid field that is not a number (\"1000 \", missing) reads as 0. Root is what that gives uid 0 " +
			"(USER unset or empty, \"0:1000\", an \"admin:x:0:0\" alias), and, failing closed, any other reading that does: the user part " +
			"without its group, the value with white space trimmed, /etc/passwd without its over-long lines, or the name \"root\". " +
			"A numeric non-zero uid is not root, with or without a passwd entry.",
		Needs: userNeeds(),
	}
}

func (*rootUser) Run(_ context.Context, img *Image) ([]Finding, error) {
	u := ResolveUser(img)
	if !u.Root {
		return nil, nil
	}
	f := Finding{Name: trimUser(u.Configured), Layer: userStep(img)}
	switch {
	case u.Configured == "":
		f.Detail = "USER is not set: the container runs as root (uid 0)"
	case u.Problem != "":
		f.Detail = fmt.Sprintf("USER %q is taken as uid 0: %s", u.Configured, u.Problem)
	case u.Verifiable:
		f.Detail = fmt.Sprintf("USER %q is uid 0", u.Configured)
	default:
		f.Detail = fmt.Sprintf("USER %q resolves to uid 0", u.Configured)
	}
	return []Finding{f}, nil
}
