package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestBuildTool(t *testing.T) {
	tests := []struct {
		name  string
		cfg   v1.Config
		steps []it.LayerStep
		want  []string
	}{{
		name: "debian gcc: alternatives and versioned links down to the triplet-named compiler",
		steps: []it.LayerStep{it.Step("RUN apt-get install gcc make", it.Dir("usr/bin", 0o755),
			it.File("usr/bin/x86_64-linux-gnu-gcc-12", 0o755, elf),
			it.Symlink("usr/bin/gcc-12", "x86_64-linux-gnu-gcc-12"), it.Symlink("usr/bin/gcc", "gcc-12"),
			it.Dir("etc/alternatives", 0o755), it.Symlink("etc/alternatives/cc", "/usr/bin/gcc"), it.Symlink("usr/bin/cc", "/etc/alternatives/cc"),
			it.File("usr/bin/make", 0o755, elf),
			it.File("usr/bin/gcc-ar-12", 0o755, elf),
		)},
		want: []string{
			"/usr/bin/make make L0",
			"/usr/bin/x86_64-linux-gnu-gcc-12 cc,gcc,gcc-12,x86_64-linux-gnu-gcc-12 aliases=/usr/bin/cc,/usr/bin/gcc,/usr/bin/gcc-12 L0",
		},
	}, {
		name: "the Go toolchain on the image's PATH",
		cfg:  v1.Config{Env: []string{"PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		steps: []it.LayerStep{it.Step("COPY go", it.Dir("usr/local/go/bin", 0o755),
			it.File("usr/local/go/bin/go", 0o755, static), it.File("usr/local/go/bin/gofmt", 0o755, static),
		)},
		want: []string{"/usr/local/go/bin/go go L0"},
	}, {
		name: "compiler support files are not tools",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("usr/lib/gcc/x86_64-linux-gnu/12", 0o755), it.File("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 0o755, elf),
			it.Dir("usr/bin", 0o755), it.File("usr/bin/ldd", 0o755, it.Script("/bin/bash", "")),
		)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, BuildTool(), build(t, tc.cfg, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
