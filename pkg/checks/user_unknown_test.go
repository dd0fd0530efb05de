package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestUserUnknown(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		steps  []it.LayerStep
		want   []string
		detail string
	}{
		{name: "name missing from passwd", user: "ghost:ghost", steps: []it.LayerStep{withPasswd(passwd), it.Meta("USER ghost:ghost")}, want: []string{"- ghost H1"}, detail: "no account"},
		{name: "no passwd at all", user: "app", want: []string{"- app L?"}, detail: "no /etc/passwd"},
		{name: "unexpanded variable", user: "$UID", steps: []it.LayerStep{withPasswd(passwd)}, want: []string{"- $UID L?"}},
		{name: "passwd deleted by a later layer", user: "app", steps: []it.LayerStep{withPasswd(passwd), it.Step("RUN rm /etc/passwd", it.Whiteout("etc/passwd"))}, want: []string{"- app L?"}},
		{name: "passwd is a symlink loop", user: "app", steps: []it.LayerStep{it.Step("FROM", it.Dir("etc", 0o755), it.Symlink("etc/passwd", "passwd.d"), it.Symlink("etc/passwd.d", "passwd"))}, want: []string{"- app L?"}},
		// Captures are by entry path, and every file named passwd is
		// captured: an /etc/passwd linked into /nix/store is read; one
		// linked to a file of another name is not, and the check fails
		// closed.
		{name: "passwd through a symlink into the Nix store", user: "app", steps: []it.LayerStep{it.Step("FROM", it.Dir("etc", 0o755), it.Dir("nix/store/abc-fake-nss/etc", 0o755), it.Text("nix/store/abc-fake-nss/etc/passwd", passwd), it.Symlink("etc/passwd", "/nix/store/abc-fake-nss/etc/passwd"))}},
		{name: "passwd through a symlink to an uncaptured path", user: "app", steps: []it.LayerStep{it.Step("FROM", it.Dir("etc", 0o755), it.Dir("usr/share/base", 0o755), it.Text("usr/share/base/users", passwd), it.Symlink("etc/passwd", "/usr/share/base/users"))}, want: []string{"- app L?"}, detail: "could not be read"},
		{name: "name in passwd", user: "app", steps: []it.LayerStep{withPasswd(passwd)}},
		{name: "numeric", user: "12345"},
		{name: "root without passwd is root, not unknown", user: "root"},
		{name: "unset", steps: []it.LayerStep{withPasswd(passwd)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := build(t, v1.Config{User: tc.user}, tc.steps...)
			got := run(t, UserUnknown(), img)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			if tc.detail != "" {
				fs, _ := UserUnknown().Run(context.Background(), img)
				if len(fs) != 1 || !strings.Contains(fs[0].Detail, tc.detail) {
					t.Errorf("detail = %+v, want it to mention %q", fs, tc.detail)
				}
			}
		})
	}
}
