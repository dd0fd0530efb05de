package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestSetuid(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "setuid executables in the final filesystem, with PATH aliases",
		steps: []it.LayerStep{
			it.Step("FROM debian", items(usrmerge(), []it.Item{
				it.File("usr/bin/su", 0o4755, elf), it.File("usr/bin/passwd", 0o4755, elf), it.File("usr/bin/ls", 0o755, elf),
			})...),
		},
		want: []string{"/usr/bin/passwd passwd aliases=/bin/passwd L0", "/usr/bin/su su aliases=/bin/su L0"},
	}, {
		name: "setuid dropped by a later layer is no finding; added by one is attributed to it",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("bin", 0o755), it.File("bin/su", 0o4755, elf), it.File("bin/mount", 0o755, elf)),
			it.Step("RUN chmod u-s /bin/su && chmod u+s /bin/mount", it.File("bin/su", 0o755, elf), it.File("bin/mount", 0o4755, elf)),
		},
		want: []string{"/bin/mount mount L1"},
	}, {
		name: "setuid file deleted by a later layer",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("usr/bin", 0o755), it.File("usr/bin/newgrp", 0o4755, elf)),
			it.Step("RUN rm", it.Whiteout("usr/bin/newgrp")),
		},
	}, {
		name: "setuid tools hidden by an opaque directory",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("opt/bin", 0o755), it.File("opt/bin/helper", 0o4755, elf)),
			it.Step("RUN rm -rf /opt/bin/*", it.Dir("opt/bin", 0o755), it.Opaque("opt/bin"), it.File("opt/bin/app", 0o755, static)),
		},
	}, {
		name:  "setuid busybox with hardlinks is one finding",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755), it.File("bin/bbsuid", 0o4755, static), it.HardlinkMode("bin/su", "bin/bbsuid", 0o4755), it.HardlinkMode("bin/ping", "bin/bbsuid", 0o4755))},
		want:  []string{"/bin/bbsuid bbsuid aliases=/bin/ping,/bin/su L0"},
	}, {
		name:  "setuid without execute bits is still reported; directories and setgid-only files are not",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("opt", 0o755), it.File("opt/tool", 0o4644, elf), it.Dir("opt/d", 0o4755), it.File("opt/wall", 0o2755, elf))},
		want:  []string{"/opt/tool tool L0"},
	}, {
		name:  "setuid owned by another user",
		steps: []it.LayerStep{it.Step("FROM", it.Owned(it.File("app/run", 0o4750, static), 1000, 1000))},
		want:  []string{"/app/run run L0"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, Setuid(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
