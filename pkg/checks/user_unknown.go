package checks

import (
	"context"
	"fmt"
	"strings"
)

type userUnknown struct{}

var _ Check = (*userUnknown)(nil)

// UserUnknown reports a USER name that /etc/passwd does not define.
func UserUnknown() Check { return &userUnknown{} }

func (*userUnknown) Meta() Meta {
	return Meta{
		ID:       "IA-USER-UNKNOWN",
		Title:    "User name not in /etc/passwd",
		Category: CategoryUserUnverifiable,
		Severity: High,
		Rationale: "The configured user is a name the image's /etc/passwd does not define: nothing proves it is not root, " +
			"and runtimes fail to start the container or fall back unpredictably. imgaudit fails closed.",
		Remediation: "Use a numeric UID, e.g. `USER 65532:65532`, so that Kubernetes runAsNonRoot can verify it; " +
			"if a name is needed, create the account (with a non-zero uid) in the image.",
		Notes: "Applies to non-numeric users other than \"root\" that /etc/passwd lacks (or an image without /etc/passwd).",
		Needs: userNeeds,
	}
}

func (*userUnknown) Run(_ context.Context, img *Image) ([]Finding, error) {
	u := ResolveUser(img)
	if u.Root || u.Verifiable || u.InPasswd || trimUser(u.Configured) == "" {
		return nil, nil
	}
	name := trimUser(u.Configured)
	detail := fmt.Sprintf("USER %q: no account %q in /etc/passwd", u.Configured, name)
	if img.passwd().node == nil {
		detail = fmt.Sprintf("USER %q: the image has no /etc/passwd", u.Configured)
	} else if !img.passwd().captured {
		detail = fmt.Sprintf("USER %q: /etc/passwd could not be read", u.Configured)
	}
	return []Finding{{Name: name, Detail: detail, Layer: img.userStep()}}, nil
}

// trimUser returns the user part of a USER value ("app" of "app:staff").
func trimUser(s string) string {
	u, _, _ := strings.Cut(strings.TrimSpace(s), ":")
	return strings.TrimSpace(u)
}
