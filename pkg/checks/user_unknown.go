package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/sys/user"
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
		Fix: "Use a numeric USER, e.g. `USER 65532:65532`.",
		Remediation: "Use a numeric UID, e.g. `USER 65532:65532`, so that Kubernetes runAsNonRoot can verify it; " +
			"if a name is needed, create the account (with a non-zero uid) in the image.",
		Notes: "Applies to every user the container runtime cannot resolve and that no reading makes root (see IA-ROOT-USER): a name /etc/passwd lacks " +
			"(or an image without /etc/passwd, or with one too large to read), a group /etc/group lacks, a uid out of range (\"-1\"), " +
			"a value with white space (\" 1000\"), an /etc/passwd line longer than the runtime's parser reads. The runtime refuses to start such a container; " +
			"imgaudit fails closed.",
		Needs: userNeeds(),
	}
}

func (*userUnknown) Run(_ context.Context, img *Image) ([]Finding, error) {
	u, err := resolveUser(img)
	if u.Root || u.Verifiable || u.InPasswd {
		return nil, nil
	}
	name := trimUser(u.Configured)
	pw := usersOf(img).passwd
	var detail string
	switch {
	case errors.Is(err, errUnreadable{}):
		detail = fmt.Sprintf("USER %q: /etc/passwd could not be read", u.Configured)
	case errors.Is(err, user.ErrNoPasswdEntries) && !pw.exists:
		detail = fmt.Sprintf("USER %q: the image has no /etc/passwd", u.Configured)
	case errors.Is(err, user.ErrNoPasswdEntries):
		detail = fmt.Sprintf("USER %q: no account %q in /etc/passwd", u.Configured, name)
	default:
		detail = fmt.Sprintf("USER %q: the runtime rejects it: %s", u.Configured, u.Problem)
	}
	return []Finding{{Name: name, Detail: detail, Layer: userStep(img)}}, nil
}

// trimUser returns the user part of a USER value ("app" of "app:staff").
func trimUser(s string) string {
	u, _, _ := strings.Cut(strings.TrimSpace(s), ":")
	return strings.TrimSpace(u)
}
