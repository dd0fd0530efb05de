package checks

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

type worldWritable struct{}

var _ Check = (*worldWritable)(nil)

// WorldWritable reports world-writable files, and world-writable directories
// without the sticky bit.
func WorldWritable() Check { return &worldWritable{} }

func (*worldWritable) Meta() Meta {
	return Meta{
		ID:       "IA-WORLD-WRITABLE",
		Title:    "World-writable file or directory",
		Category: CategoryWorldWritable,
		Severity: Medium,
		Rationale: "Any user in the container can change a world-writable file (plant code in a script or library the application runs) " +
			"or, in a world-writable directory without the sticky bit, replace or delete other users' files.",
		Fix:         "`chmod o-w` it, or `chmod 1777` a shared directory.",
		Remediation: "Remove write permission for others (`chmod o-w`) in the step that created it, or set the sticky bit on shared directories (`chmod 1777`).",
		Notes: "Regular files and FIFOs with o+w, and directories with o+w and no sticky bit (/tmp with 1777 is fine). " +
			"Symlinks are not reported (their mode means nothing) nor device nodes (a runtime replaces /dev, and /dev/null is 0666 by design).",
	}
}

func (*worldWritable) Run(ctx context.Context, img *Image) ([]Finding, error) {
	var out []Finding
	err := walkSpecial(ctx, img, func(n *layers.Node) error {
		if n.Mode&0o002 == 0 {
			return nil
		}
		switch n.Type {
		case layers.TypeRegular, layers.TypeFIFO:
		case layers.TypeDir:
			if n.Mode&fs.ModeSticky != 0 {
				return nil
			}
		default:
			return nil
		}
		f := fileFinding(img, n)
		if n.Path == "/" {
			f.Name = "/"
		}
		f.Detail = fmt.Sprintf("%s, mode %s, owner %d:%d", n.Type, modeString(n.Mode), n.UID, n.GID)
		out = append(out, f)
		return nil
	})
	return out, err
}
