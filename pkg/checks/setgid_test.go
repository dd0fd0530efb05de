package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestSetgid(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "setgid executables",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("usr/bin", 0o755),
			it.File("usr/bin/chage", 0o2755, elf), it.File("usr/bin/expiry", 0o2755, elf), it.File("usr/bin/su", 0o4755, elf),
		)},
		want: []string{"/usr/bin/chage chage L0", "/usr/bin/expiry expiry L0"},
	}, {
		name: "setgid added by a later layer, another cleared",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("bin", 0o755), it.File("bin/wall", 0o755, elf), it.File("bin/write", 0o2755, elf)),
			it.Step("RUN chmod", it.File("bin/wall", 0o2755, elf), it.File("bin/write", 0o755, elf)),
		},
		want: []string{"/bin/wall wall L1"},
	}, {
		name:  "a setgid directory is not reported",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("var/mail", 0o2775), it.Dir("srv/shared", 0o2777|0o1000))},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, Setgid(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
