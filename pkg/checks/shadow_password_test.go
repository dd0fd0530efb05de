package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestShadowPassword(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "empty password and hashes",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("etc", 0o755),
			it.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\nold:$1$abc$def:1001:1001::/:/bin/sh\nnopw::1002:1002::/:/bin/sh\n"),
			it.File("etc/shadow", 0o640, []byte("root::19000:0:99999:7:::\napp:$6$salt$hash:19000::::::\nlocked:!$6$salt$hash:19000::::::\nsvc:*:19000::::::\nnew:!!:19000::::::\n")),
		)},
		want: []string{
			"/etc/passwd nopw L0",
			"/etc/passwd old L0",
			"/etc/shadow app L0",
			"/etc/shadow root L0",
		},
	}, {
		name: "password set by a later layer",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("etc", 0o755), it.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), it.Text("etc/shadow", "root:*:19000:0:99999:7:::\n")),
			it.Step("RUN echo root:root | chpasswd", it.Text("etc/shadow", "root:$y$j9T$abc$def:19001:0:99999:7:::\n")),
		},
		want: []string{"/etc/shadow root L1"},
	}, {
		name: "locked and disabled accounts",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("etc", 0o755),
			it.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\nnobody:*:65534:65534::/:/sbin/nologin\n"),
			it.Text("etc/shadow", "root:*:19000:0:99999:7:::\nnobody:!:19000::::::\n"),
		)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, ShadowPassword(), build(t, zeroConfig, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
