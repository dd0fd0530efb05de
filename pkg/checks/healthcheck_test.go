package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestHealthcheck(t *testing.T) {
	tests := []struct {
		name  string
		cfg   v1.Config
		steps []it.LayerStep
		want  []string
	}{
		{name: "none defined", want: []string{"- " + " L?"}},
		{name: "disabled", cfg: v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"NONE"}}}, steps: []it.LayerStep{it.Meta("HEALTHCHECK NONE")}, want: []string{"- " + " H0"}},
		{name: "exec form", cfg: v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app", "healthcheck"}}}},
		{name: "shell form", cfg: v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "curl -f http://localhost/ || exit 1"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, Healthcheck(), build(t, tc.cfg, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
