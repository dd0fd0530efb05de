package sbom_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps pkg/sbom within its boundary (see ARCHITECTURE.md): it
// reads the scanned filesystem (pkg/layers) and uses syft, and never
// fetches images, runs checks or renders reports.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/imgaudit/imgaudit/") && imp != "github.com/imgaudit/imgaudit/pkg/layers" {
			t.Errorf("pkg/sbom imports %s", imp)
		}
		for _, banned := range []string{"net/http", "github.com/google/go-containerregistry/pkg/v1/remote", "github.com/anchore/stereoscope/pkg/image"} {
			if imp == banned {
				t.Errorf("pkg/sbom imports %s", imp)
			}
		}
	}
}
