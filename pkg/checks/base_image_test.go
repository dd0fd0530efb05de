package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestBaseImage(t *testing.T) {
	tests := []struct {
		name        string
		cfg         v1.Config
		steps       []it.LayerStep
		want        []string
		remediation string
	}{{
		name: "debian with a Go binary: recommend a static base",
		cfg:  v1.Config{Entrypoint: []string{"/server"}},
		steps: []it.LayerStep{
			it.Step("FROM debian", items(osRelease("ID=debian\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
				[]it.Item{it.Dir("bin", 0o755), it.File("bin/dash", 0o755, elf), it.Symlink("bin/sh", "dash"), it.File("bin/dpkg", 0o755, elf)})...),
			it.Step("COPY server /", it.File("server", 0o755, static)),
		},
		want:        []string{"/usr/lib/os-release debian L0"},
		remediation: "scratch or gcr.io/distroless/static-debian12",
	}, {
		name:        "distroless debug",
		cfg:         v1.Config{Env: []string{"PATH=/busybox:/usr/bin"}},
		steps:       []it.LayerStep{it.Step("FROM", items(osRelease("PRETTY_NAME=\"Distroless\"\n"), []it.Item{it.Dir("busybox", 0o755), it.File("busybox/busybox", 0o755, static)})...)},
		want:        []string{"/usr/lib/os-release distroless L0"},
		remediation: "non-debug",
	}, {
		name: "busybox without os-release points at the busybox binary's layer",
		steps: []it.LayerStep{
			it.Step("FROM scratch", it.File("app", 0o755, static)),
			busyboxLayer("sh"),
		},
		want: []string{"- busybox L1"},
	}, {
		name:  "distroless static",
		steps: []it.LayerStep{it.Step("FROM", items(osRelease("PRETTY_NAME=\"Distroless\"\n"), []it.Item{it.File("app", 0o755, static)})...)},
	}, {
		name:  "scratch",
		steps: []it.LayerStep{it.Step("FROM scratch", it.File("app", 0o755, static))},
	}, {
		name: "alpine with apk and busybox removed in a later layer",
		steps: []it.LayerStep{
			it.Step("FROM alpine", items(osRelease("ID=alpine\n"), []it.Item{it.Dir("sbin", 0o755), it.File("sbin/apk", 0o755, elf)}, busyboxLayer("sh").Items)...),
			it.Step("RUN apk del apk-tools busybox", it.Whiteout("sbin/apk"), it.Whiteout("bin")),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := build(t, tc.cfg, tc.steps...)
			got := run(t, BaseImage(), img)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			if tc.remediation != "" {
				fs, _ := BaseImage().Run(context.Background(), img)
				if len(fs) != 1 || !strings.Contains(fs[0].Remediation, tc.remediation) {
					t.Errorf("remediation = %+v, want it to contain %q", fs, tc.remediation)
				}
			}
		})
	}
}
