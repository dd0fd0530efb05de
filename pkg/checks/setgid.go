package checks

import (
	"context"
	"io/fs"
)

type setgid struct{}

var _ Check = (*setgid)(nil)

// Setgid reports regular files with the setgid bit in the final filesystem.
func Setgid() Check { return &setgid{} }

func (*setgid) Meta() Meta {
	return Meta{
		ID:       "IA-SETGID",
		Title:    "Setgid file",
		Category: CategorySetgid,
		Severity: Medium,
		Rationale: "A setgid executable runs with its group's identity whoever starts it (shadow, tty, mail ...): " +
			"a bug in it gives that group's access, such as reading /etc/shadow.",
		Fix: "Clear the bit (`chmod g-s FILE`) or remove the file.",
		Remediation: "Remove the file, or clear the bit in the step that installed it (`chmod g-s FILE`); " +
			"run containers with no-new-privileges (allowPrivilegeEscalation: false).",
		Notes: "Regular files of the final filesystem only. A setgid directory is not reported: " +
			"on a directory the bit only makes new files inherit its group.",
	}
}

func (*setgid) Run(ctx context.Context, img *Image) ([]Finding, error) {
	return modeFindings(ctx, img, fs.ModeSetgid)
}
