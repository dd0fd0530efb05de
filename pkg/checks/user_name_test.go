package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestUserName(t *testing.T) {
	tests := []struct {
		name  string
		user  string
		steps []it.LayerStep
		want  []string
	}{
		{name: "non-root name", user: "nonroot", steps: []it.LayerStep{withPasswd(passwd), it.Meta("USER nonroot")}, want: []string{"- nonroot H1"}},
		{name: "name with group", user: "app:app", steps: []it.LayerStep{withPasswd(passwd)}, want: []string{"- app L?"}},
		{name: "numeric", user: "65532", steps: []it.LayerStep{withPasswd(passwd)}},
		{name: "uid-0 alias is root, reported by IA-ROOT-USER", user: "admin", steps: []it.LayerStep{withPasswd(passwd)}},
		{name: "root", user: "root", steps: []it.LayerStep{withPasswd(passwd)}},
		{name: "unknown name, reported by IA-USER-UNKNOWN", user: "ghost", steps: []it.LayerStep{withPasswd(passwd)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, UserName(), build(t, v1.Config{User: tc.user}, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
