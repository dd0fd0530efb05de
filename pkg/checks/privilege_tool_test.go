package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestPrivilegeTool(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "sudo, su and gosu",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("usr/bin", 0o755), it.Dir("usr/local/bin", 0o755),
			it.File("usr/bin/sudo", 0o4755, elf), it.Symlink("usr/bin/sudoedit", "sudo"), it.File("usr/bin/su", 0o4755, elf),
			it.File("usr/local/bin/gosu", 0o755, static),
		)},
		want: []string{
			"/usr/bin/su su L0",
			"/usr/bin/sudo sudo,sudoedit aliases=/usr/bin/sudoedit L0",
			"/usr/local/bin/gosu gosu L0",
		},
	}, {
		name: "sudoers and PAM files are not tools",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("etc/sudoers.d", 0o755), it.Text("etc/sudoers", "root ALL=(ALL) ALL"),
			it.Dir("etc/pam.d", 0o755), it.File("etc/pam.d/su", 0o755, []byte("auth sufficient pam_rootok.so")),
		)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, PrivilegeTool(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
