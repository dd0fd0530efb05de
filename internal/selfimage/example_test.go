package selfimage_test

import (
	"log"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/imgaudit/imgaudit/internal/selfimage"
)

// Build the image from a static linux binary and write it as an OCI image
// layout, which `imgaudit scan DIR` (or crane, skopeo, podman) can read.
func ExampleBuild() {
	bin, err := os.ReadFile("dist/imgaudit_linux_amd64_v1/imgaudit")
	if err != nil {
		log.Fatal(err)
	}
	ca, err := os.ReadFile(selfimage.CABundlePath)
	if err != nil {
		log.Fatal(err)
	}
	platform, err := selfimage.PlatformOf(bin) // linux/amd64, read from the ELF header
	if err != nil {
		log.Fatal(err)
	}
	img, err := selfimage.Build(bin, platform,
		selfimage.WithCACertificates(ca),
		selfimage.WithVersion("1.2.3", "0123abc"),
		selfimage.WithCreated(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		log.Fatal(err)
	}
	p, err := layout.Write("dist/image", empty.Index)
	if err != nil {
		log.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		log.Fatal(err)
	}
}
