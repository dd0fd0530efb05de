package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestPermissionTool(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "coreutils",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755),
			it.File("bin/chmod", 0o755, elf), it.File("bin/chown", 0o755, elf), it.File("bin/chgrp", 0o644, elf), it.File("bin/ls", 0o755, elf),
		)},
		want: []string{"/bin/chmod chmod L0", "/bin/chown chown L0"},
	}, {
		name:  "busybox applets",
		steps: []it.LayerStep{busyboxLayer("sh", "chmod", "chown", "wget")},
		want:  []string{"/bin/busybox chmod,chown aliases=/bin/chmod,/bin/chown L0"},
	}, {
		name: "chattr and setfacl replaced by non-executables in a later layer",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("usr/bin", 0o755), it.File("usr/bin/chattr", 0o755, elf), it.File("usr/bin/setfacl", 0o755, elf)),
			it.Step("RUN chmod a-x", it.File("usr/bin/chattr", 0o644, elf), it.File("usr/bin/setfacl", 0o600, elf)),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, PermissionTool(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
