package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestDebugTool(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "gdb, strace and tcpdump",
		steps: []it.LayerStep{
			it.Step("FROM", items(usrmerge(), []it.Item{it.File("usr/bin/gdb", 0o755, elf)})...),
			it.Step("RUN apt-get install strace tcpdump", it.File("usr/bin/strace", 0o755, elf), it.File("usr/sbin/tcpdump", 0o755, elf)),
		},
		want: []string{
			"/usr/bin/gdb gdb aliases=/bin/gdb L0",
			"/usr/bin/strace strace aliases=/bin/strace L1",
			"/usr/sbin/tcpdump tcpdump aliases=/sbin/tcpdump L1",
		},
	}, {
		name: "gdb data and python helpers are not tools",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("usr/share/gdb/python", 0o755), it.File("usr/share/gdb/python/gdb", 0o755, it.Script("/usr/bin/python3", "")),
			it.Dir("usr/bin", 0o755), it.File("usr/bin/strace-log-merge", 0o755, it.Script("/bin/sh", "")),
		)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, DebugTool(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
