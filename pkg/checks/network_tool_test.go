package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestNetworkTool(t *testing.T) {
	tests := []struct {
		name  string
		cfg   v1.Config
		steps []it.LayerStep
		want  []string
	}{{
		name: "busybox applet symlinks count on the busybox binary",
		steps: []it.LayerStep{it.Step("FROM alpine",
			it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, elf), it.Symlink("bin/sh", "busybox"),
			it.Dir("usr/bin", 0o755), it.Symlink("usr/bin/wget", "/bin/busybox"), it.Symlink("usr/bin/nc", "/bin/busybox"),
			it.Symlink("bin/ping", "/bin/busybox"), it.Symlink("bin/chmod", "/bin/busybox"),
		)},
		want: []string{"/bin/busybox nc,ping,wget aliases=/bin/ping,/usr/bin/nc,/usr/bin/wget L0"},
	}, {
		name: "curl and an alternatives chain for nc under usrmerge",
		steps: []it.LayerStep{
			it.Step("FROM debian", usrmerge()...),
			it.Step("RUN apt-get install curl netcat-openbsd",
				it.File("usr/bin/curl", 0o755, elf), it.File("usr/bin/nc.openbsd", 0o755, elf),
				it.Dir("etc/alternatives", 0o755), it.Symlink("etc/alternatives/nc", "/bin/nc.openbsd"),
				it.Symlink("usr/bin/nc", "/etc/alternatives/nc"),
			),
		},
		want: []string{
			"/usr/bin/curl curl aliases=/bin/curl L1",
			"/usr/bin/nc.openbsd nc,nc.openbsd aliases=/bin/nc,/bin/nc.openbsd,/usr/bin/nc L1",
		},
	}, {
		name: "network configuration tools in sbin",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("sbin", 0o755), it.File("sbin/ip", 0o755, elf), it.File("sbin/ifconfig", 0o755, elf), it.File("sbin/ping6", 0o755, elf),
		)},
		want: []string{"/sbin/ifconfig ifconfig L0", "/sbin/ip ip L0", "/sbin/ping6 ping6 L0"},
	}, {
		name: "curl removed later; python wget module and docs are not tools",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("usr/bin", 0o755), it.File("usr/bin/curl", 0o755, elf),
				it.Dir("usr/lib/python3/dist-packages", 0o755), it.File("usr/lib/python3/dist-packages/wget.py", 0o755, []byte("x")),
				it.Dir("usr/share/doc/curl", 0o755), it.Text("usr/share/doc/curl/curl", "doc"),
			),
			it.Step("RUN apt-get purge curl", it.Whiteout("usr/bin/curl")),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, NetworkTool(), build(t, tc.cfg, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
