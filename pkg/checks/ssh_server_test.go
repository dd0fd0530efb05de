package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestSSHServer(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "sshd and dropbear",
		steps: []it.LayerStep{it.Step("RUN apt-get install openssh-server dropbear", it.Dir("usr/sbin", 0o755),
			it.File("usr/sbin/sshd", 0o755, elf), it.File("usr/sbin/dropbear", 0o755, elf),
		)},
		want: []string{"/usr/sbin/dropbear dropbear L0", "/usr/sbin/sshd sshd L0"},
	}, {
		name: "an ssh client and sshd_config are no server",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("usr/bin", 0o755), it.File("usr/bin/ssh", 0o755, elf),
			it.Dir("etc/ssh", 0o755), it.Text("etc/ssh/sshd_config", "PermitRootLogin no"),
			it.Dir("usr/lib/openssh", 0o755), it.File("usr/lib/openssh/sshd-session", 0o755, elf),
		)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, SSHServer(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
