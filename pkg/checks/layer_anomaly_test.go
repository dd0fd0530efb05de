package checks

import (
	"archive/tar"
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestLayerAnomaly(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "write through a symlinked directory, duplicate entry, missing hardlink, absolute name",
		steps: []it.LayerStep{
			it.Step("FROM", items(usrmerge())...),
			it.Step("ADD odd.tar /",
				it.File("bin/hidden", 0o755, elf),
				it.Text("etc/x", "1"), it.Text("etc/x", "2"),
				it.Hardlink("sbin/ghost", "sbin/nothere"),
				it.Raw(tar.Header{Name: "/abs", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("a")),
			),
		},
		// Overlayfs makes bin and sbin directories in the upper layer;
		// containerd's native applier writes through them.
		want: []string{
			"/abs absolute-name L1", "/bin runtime-divergence L0", "/bin/hidden through-symlink L1", "/etc/x duplicate L1",
			"/sbin runtime-divergence L0", "/sbin/ghost hardlink-missing L1", "/sbin/ghost through-symlink L1",
			"/usr/bin/hidden runtime-divergence L1", "/usr/sbin/ghost runtime-divergence L1",
		},
	}, {
		name:  "a clean image",
		steps: []it.LayerStep{it.Step("FROM", items(usrmerge(), []it.Item{it.File("usr/bin/app", 0o755, static)})...)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, LayerAnomaly(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
