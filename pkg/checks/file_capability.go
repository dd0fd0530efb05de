package checks

import (
	"context"
	"fmt"

	"github.com/imgaudit/imgaudit/pkg/caps"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

type fileCapability struct{}

var _ Check = (*fileCapability)(nil)

// FileCapability reports files of the final filesystem that carry Linux file
// capabilities (the security.capability extended attribute, from a PAX
// SCHILY.xattr record): the modern setuid.
func FileCapability() Check { return &fileCapability{} }

func (*fileCapability) Meta() Meta {
	return Meta{
		ID:       "IA-FILE-CAPABILITY",
		Title:    "File with capabilities",
		Category: CategoryFileCapability,
		Severity: High,
		Rationale: "A file capability (`setcap cap_setuid+ep python3`) gives whoever runs the file that privilege, " +
			"as a setuid bit gives root's: cap_setuid, cap_dac_override, cap_sys_admin and the like make any user root-equivalent. " +
			"With the effective bit set the kernel raises the capabilities at exec; a container that drops them " +
			"(`capabilities: drop: [ALL]`) then fails to start the file with \"operation not permitted\".",
		Fix: "Drop the capability (`setcap -r FILE`).",
		Remediation: "Remove the capability in the step that set it (`setcap -r FILE`) or do not copy the attribute into the image; " +
			"to bind a low port, set net.ipv4.ip_unprivileged_port_start or add NET_BIND_SERVICE to the container instead.",
		Notes: "Files of the final filesystem only: a later layer that rewrites the file without the attribute clears it, " +
			"and a hardlink's own header replaces it (see How the final filesystem is computed). " +
			"Severity is high when a permitted capability is one of " + joinNames(escalating()) + " (or the value cannot be decoded), " +
			"medium otherwise. `name` is the decoded capability list, `detail` says whether the effective bit is set.",
	}
}

// escalating are the capabilities that make whoever holds them root or able
// to become root (capabilities(7), and the kernel's own "root-equivalent"
// list in Documentation/security/credentials.rst).
func escalating() []string {
	return []string{
		"CAP_BPF", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_ADMIN",
		"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_CHROOT",
		"CAP_SYS_MODULE", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO",
	}
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

func (*fileCapability) Run(ctx context.Context, img *Image) ([]Finding, error) {
	l, err := entriesOf(ctx, img)
	if err != nil {
		return nil, err
	}
	var bad caps.Set
	for _, name := range escalating() {
		if n, ok := caps.Parse(name); ok {
			bad |= 1 << n
		}
	}
	var out []Finding
	err = visit(ctx, l.capable, func(n *layers.Node) error {
		f := fileFinding(img, n)
		raw := n.Xattrs[caps.XattrName]
		fc, err := caps.Decode([]byte(raw))
		switch {
		case err != nil:
			f.Name = "undecodable"
			f.Detail = fmt.Sprintf("security.capability of %d bytes that the kernel would not read as capabilities: %v", len(raw), err)
		default:
			held := fc.Permitted | fc.Inheritable
			f.Name = held.String()
			if f.Name == "" {
				f.Name = "none"
			}
			eff := "effective bit not set (raised only by a program that asks)"
			if fc.Effective {
				eff = "effective bit set (raised at exec)"
			}
			f.Detail = fmt.Sprintf("permitted %s; inheritable %s; %s; vfs_cap_data revision %d", orNone(fc.Permitted), orNone(fc.Inheritable), eff, fc.Revision)
			if fc.Permitted&bad == 0 {
				f.Severity = Medium
			}
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

func orNone(s caps.Set) string {
	if s == 0 {
		return "none"
	}
	return s.String()
}
