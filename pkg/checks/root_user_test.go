package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestRootUser(t *testing.T) {
	tests := []struct {
		name  string
		user  string
		steps []it.LayerStep
		want  []string
	}{
		{name: "unset", steps: []it.LayerStep{withPasswd(passwd)}, want: []string{"- " + " L?"}},
		{name: "USER 0", user: "0", steps: []it.LayerStep{withPasswd(passwd), it.Meta("USER 0")}, want: []string{"- 0 H1"}},
		{name: "USER 0:0", user: "0:0", steps: []it.LayerStep{it.Meta("USER 0:0")}, want: []string{"- 0 H0"}},
		{name: "USER root:root", user: "root:root", steps: []it.LayerStep{withPasswd(passwd), it.Meta("USER root:root")}, want: []string{"- root H1"}},
		{name: "USER root without passwd", user: "root", want: []string{"- root L?"}},
		{name: "uid-0 alias", user: "admin", steps: []it.LayerStep{withPasswd(passwd), it.Meta("/bin/sh -c #(nop)  USER admin")}, want: []string{"- admin H1"}},
		{name: "numeric non-root without passwd", user: "1000"},
		{name: "numeric non-root with gid 0", user: "1000:0"},
		{name: "named non-root", user: "app", steps: []it.LayerStep{withPasswd(passwd)}},
		{name: "unknown name is not proven root", user: "ghost", steps: []it.LayerStep{withPasswd(passwd)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, RootUser(), build(t, v1.Config{User: tc.user}, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
