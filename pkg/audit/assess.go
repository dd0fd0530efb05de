package audit

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// captures lists the files whose contents the checks need.
func captures() []string { return nil }

// assess fills the user, base and findings of ri.
func assess(ctx context.Context, ri *report.Image, t fetch.Target, cfg *v1.ConfigFile, fsys *layers.FS) error {
	ri.User.Configured = cfg.Config.User
	return nil
}
