package checks_test

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Scan an image with the captures the catalogue needs, then run it.
func ExampleRun() {
	img, _ := it.Image(v1.Config{User: "65532", Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app", "health"}}},
		it.Step("FROM alpine",
			it.Dir("bin", 0o755), it.File("bin/busybox", 0o755, it.ELF("", 64)),
			it.Symlink("bin/sh", "busybox"), it.Symlink("bin/wget", "busybox"),
		),
		it.Step("COPY app /", it.File("app", 0o755, it.ELF("", 64))),
	)
	ctx := context.Background()
	fsys, err := layers.Scan(ctx, img, layers.ImageOptions{Options: layers.Options{Capture: checks.Captures(checks.All())}})
	if err != nil {
		panic(err)
	}
	cfg, _ := img.ConfigFile()
	image := checks.NewImage("example", cfg, fsys)
	findings, err := checks.Run(ctx, image, checks.All())
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Println(f.Severity, f.ID, f.Path, f.Name, f.Aliases)
	}
	base := checks.ClassifyBase(image)
	fmt.Println("base:", base.Kind, "distroless:", base.Distroless, "root:", checks.ResolveUser(image).Root)
	// Output:
	// medium IA-NETWORK-TOOL /bin/busybox wget [/bin/wget]
	// medium IA-SHELL /bin/busybox busybox,sh [/bin/sh]
	// low IA-BASE  busybox []
	// base: busybox distroless: false root: false
}
