package checks

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

type setuid struct{}

var _ Check = (*setuid)(nil)

// Setuid reports regular files with the setuid bit in the final filesystem.
func Setuid() Check { return &setuid{} }

func (*setuid) Meta() Meta {
	return Meta{
		ID:       "IA-SETUID",
		Title:    "Setuid file",
		Category: CategorySetuid,
		Severity: High,
		Rationale: "A setuid executable runs with its owner's identity (usually root) whoever starts it: " +
			"any bug in it, or in what it loads, is a privilege escalation to that owner.",
		Fix: "Clear the bit (`chmod u-s FILE`) or remove the file.",
		Remediation: "Remove the file, or clear the bit in the step that installed it (`chmod u-s FILE`); " +
			"run containers with no-new-privileges (allowPrivilegeEscalation: false) as a second line.",
		Notes: "Only the final filesystem counts: a bit cleared by a later layer is no finding. Regular files only " +
			"(the bit means nothing on directories and symlinks); a setuid file without an execute bit is still reported, " +
			"since one chmod re-arms it. Hardlinks are reported once, with the other names as aliases.",
	}
}

func (*setuid) Run(ctx context.Context, img *Image) ([]Finding, error) {
	return modeFindings(ctx, img, fs.ModeSetuid)
}

// modeFindings reports the regular files with the special bit.
func modeFindings(ctx context.Context, img *Image, bit fs.FileMode) ([]Finding, error) {
	var out []Finding
	err := walkSpecial(ctx, img, func(n *layers.Node) error {
		if n.Type != layers.TypeRegular || n.Mode&bit == 0 {
			return nil
		}
		f := fileFinding(img, n)
		f.Detail = fmt.Sprintf("mode %s, owner %d:%d", modeString(n.Mode), n.UID, n.GID)
		out = append(out, f)
		return nil
	})
	return out, err
}

// modeString renders a mode in octal with its special bits: "4755".
func modeString(m fs.FileMode) string {
	return fmt.Sprintf("%04o", layers.UnixMode(m))
}
