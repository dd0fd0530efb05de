// Command gen writes the example images of package testimages as OCI image
// layouts under -out, one directory per image, replacing what is there.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/imgaudit/imgaudit/internal/testimages"
)

func main() {
	out := flag.String("out", "testdata/images", "directory to write the layouts into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	for _, name := range testimages.Names() {
		img, err := testimages.Builders[name]()
		if err != nil {
			return fmt.Errorf("building %s: %w", name, err)
		}
		dir := filepath.Join(out, name)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		if err := p.AppendImage(img); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
	}
	return nil
}
