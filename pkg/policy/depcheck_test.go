package policy_test

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestImports keeps pkg/policy within its boundary (see ARCHITECTURE.md): it
// may use the standard library, the report model and the libraries listed
// here, and nothing that fetches images, reads layers or runs checks.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"github.com/imgaudit/imgaudit/pkg/report",
		"gopkg.in/yaml.v3",
	}
	for _, imp := range pkg.Imports {
		if !strings.Contains(strings.Split(imp, "/")[0], ".") {
			continue // standard library
		}
		if !slices.Contains(allowed, imp) {
			t.Errorf("pkg/policy imports %s", imp)
		}
	}
}
