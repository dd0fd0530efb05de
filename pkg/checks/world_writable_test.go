package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestWorldWritable(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "world-writable files and directories without the sticky bit",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("tmp", 0o1777), it.Dir("var/tmp", 0o1777),
			it.Dir("data", 0o777), it.Dir("app", 0o755), it.File("app/run.sh", 0o777, it.Script("/bin/sh", "")),
			it.Text("app/config", "x"), it.File("app/log", 0o666, nil),
		)},
		want: []string{"/app/log log L0", "/app/run.sh run.sh L0", "/data data L0"},
	}, {
		name: "symlinks and device nodes are not reported; a FIFO is",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("dev", 0o755), device("dev/null", 0o666), it.Symlink("etc/mtab", "/proc/mounts"),
			it.Dir("run", 0o755), fifo("run/ctl", 0o666),
		)},
		want: []string{"/run/ctl ctl L0"},
	}, {
		name: "fixed by a later layer",
		steps: []it.LayerStep{
			it.Step("COPY . /app", it.Dir("app", 0o777), it.File("app/x", 0o666, []byte("x"))),
			it.Step("RUN chmod -R o-w /app", it.Dir("app", 0o755), it.File("app/x", 0o644, []byte("x"))),
		},
	}, {
		name:  "the root directory itself",
		steps: []it.LayerStep{it.Step("FROM", it.Dir(".", 0o777), it.Dir("etc", 0o755))},
		want:  []string{"/ / L0"},
	}, {
		name:  "hardlinked world-writable file once",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("srv", 0o755), it.File("srv/a", 0o646, []byte("a")), it.HardlinkMode("srv/b", "srv/a", 0o646))},
		want:  []string{"/srv/a a aliases=/srv/b L0"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, WorldWritable(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
