package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestPathEscape(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "escaping names and links",
		steps: []it.LayerStep{
			it.Step("FROM", it.Text("ok", "x")),
			it.Step("ADD evil.tar /", it.Text("../../etc/cron.d/x", "* * * * * root sh"), it.Dir("etc", 0o755), it.Symlink("etc/shadow-link", "../../../../etc/shadow")),
		},
		want: []string{"/etc/cron.d/x escaping-name L1", "/etc/shadow-link escaping-link L1"},
	}, {
		name: "links inside the root, absolute links and deep relative links are fine",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("etc/ssl/certs", 0o755), it.Symlink("etc/ssl/certs/ca.pem", "../../../usr/share/ca.pem"),
			it.Symlink("etc/localtime", "/usr/share/zoneinfo/UTC"))},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, PathEscape(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
