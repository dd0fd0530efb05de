package checks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

type shadowPassword struct{}

var _ Check = (*shadowPassword)(nil)

// ShadowPassword reports accounts with an empty password or a password hash.
func ShadowPassword() Check { return &shadowPassword{} }

func (*shadowPassword) Meta() Meta {
	return Meta{
		ID:       "IA-PASSWORD",
		Title:    "Account with a password or no password",
		Category: CategoryPassword,
		Severity: High,
		Rationale: "An empty password lets any user become that account with su (CVE-2019-5021 gave Alpine's root one); " +
			"a password hash baked into the image is shared by every container and can be cracked offline by anyone who pulls it.",
		Fix: "Lock the account (`passwd -l NAME`).",
		Remediation: "Lock the account (`passwd -l NAME`, or `*` in the password field of /etc/shadow) in the step that set the password; " +
			"containers need no login passwords.",
		Notes: "Reads /etc/shadow, and /etc/passwd password fields other than \"x\" (a hash there is world-readable). " +
			"Locked (\"!\", \"!!\", \"!hash\") and disabled (\"*\") fields are fine.",
		Needs: []string{etcShadow, "**/shadow", etcPasswd, "**/passwd"},
	}
}

func (*shadowPassword) Run(_ context.Context, img *Image) ([]Finding, error) {
	var out []Finding
	pw := usersOf(img)
	shadowed := map[string]bool{}
	if n, err := filesOf(img).Stat(etcShadow); err == nil && n.Type == layers.TypeRegular {
		if b, ok := readFile(img, etcShadow); ok {
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(nil, len(b)+1) // a long line must not end the parse early
			for sc.Scan() {
				f := strings.Split(sc.Text(), ":")
				if len(f) < 2 || f[0] == "" || strings.HasPrefix(f[0], "#") {
					continue
				}
				shadowed[f[0]] = true
				if what := passwordState(f[1]); what != "" {
					out = append(out, Finding{Path: n.Path, Name: f[0], Layer: layerRef(img, n.Layer),
						Detail: fmt.Sprintf("account %q has %s in /etc/shadow", f[0], what)})
				}
			}
		}
	}
	for _, a := range pw.accounts {
		if a.pw == "x" {
			continue
		}
		if what := passwordState(a.pw); what != "" {
			out = append(out, Finding{Path: pw.passwd.node.Path, Name: a.name, Layer: layerRef(img, pw.passwd.node.Layer),
				Detail: fmt.Sprintf("account %q has %s in the world-readable /etc/passwd", a.name, what)})
		}
	}
	return out, nil
}

// passwordState describes a password field: "an empty password", "a
// password hash", or "" for locked and disabled fields.
func passwordState(field string) string {
	switch {
	case field == "":
		return "an empty password"
	case strings.HasPrefix(field, "!"), strings.HasPrefix(field, "*"), field == "x":
		return ""
	}
	return "a password hash"
}
