package checks

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/caps"
)

func capValue(t *testing.T, effective bool, names ...string) string {
	t.Helper()
	var set caps.Set
	for _, n := range names {
		b, ok := caps.Parse(n)
		if !ok {
			t.Fatalf("unknown capability %s", n)
		}
		set |= 1 << b
	}
	return string(caps.Encode(caps.FileCaps{Revision: 2, Effective: effective, Permitted: set}))
}

func TestFileCapability(t *testing.T) {
	setuid := capValue(t, true, "CAP_SETUID", "CAP_DAC_OVERRIDE")
	bind := capValue(t, true, "CAP_NET_BIND_SERVICE")
	withCaps := func(name, value string) it.Item {
		return it.Xattr(it.File(name, 0o755, elf), "security.capability", value)
	}
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string // "PATH NAME L<layer> SEVERITY"
	}{{
		name: "setcap on python3 and on a server, with PATH aliases",
		steps: []it.LayerStep{
			it.Step("FROM debian", usrmerge()...),
			it.Step("RUN setcap", withCaps("usr/bin/python3", setuid), withCaps("usr/bin/caddy", bind), it.File("usr/bin/ls", 0o755, elf)),
		},
		want: []string{
			"/usr/bin/python3 CAP_DAC_OVERRIDE,CAP_SETUID aliases=/bin/python3 L1 high",
			"/usr/bin/caddy CAP_NET_BIND_SERVICE aliases=/bin/caddy L1 medium",
		},
	}, {
		name: "a later layer rewriting the file without the attribute clears it",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("app", 0o755), withCaps("app/run", setuid)),
			it.Step("COPY run /app/run", it.File("app/run", 0o755, elf)),
		},
	}, {
		name: "a later layer adding it is attributed to that layer",
		steps: []it.LayerStep{
			it.Step("FROM", it.Dir("app", 0o755), it.File("app/run", 0o755, elf)),
			it.Step("RUN setcap", withCaps("app/run", bind)),
		},
		want: []string{"/app/run CAP_NET_BIND_SERVICE L1 medium"},
	}, {
		name: "hardlinks of one capable file are one finding",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755), withCaps("bin/tool", setuid),
			it.Xattr(it.HardlinkMode("bin/t2", "bin/tool", 0o755), "security.capability", setuid))},
		want: []string{"/bin/tool CAP_DAC_OVERRIDE,CAP_SETUID aliases=/bin/t2 L0 high"},
	}, {
		name:  "a hardlink header without the attribute clears it (the runtime's chown)",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755), withCaps("bin/tool", setuid), it.HardlinkMode("bin/t2", "bin/tool", 0o755))},
	}, {
		name:  "a value the kernel cannot read fails closed at high severity",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755), withCaps("bin/odd", "\x01\x02"))},
		want:  []string{"/bin/odd undecodable L0 high"},
	}, {
		name: "other extended attributes are no finding",
		steps: []it.LayerStep{it.Step("FROM", it.Dir("bin", 0o755),
			it.Xattr(it.File("bin/x", 0o755, elf), "user.note", "hi"), it.Xattr(it.File("bin/y", 0o755, elf), "security.selinux", "system_u:object_r:bin_t:s0"))},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := Run(context.Background(), build(t, zeroConfig, tc.steps...), []Check{FileCapability()})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, row := range rows(fs) {
				got = append(got, row+" "+fs[i].Severity.String())
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
