package boundaries

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/imgaudit/imgaudit/"

// rule says what one package may import directly (its non-test files).
// Module packages must be listed in own; other non-standard imports must
// start with one of thirdParty; standard-library imports in banned are
// refused.
type rule struct {
	own        []string
	thirdParty []string
	banned     []string
}

var ggcrData = []string{
	"github.com/google/go-containerregistry/pkg/v1",
}

// network are the imports that reach a registry or the network.
var network = []string{"net/http", "net", "github.com/google/go-containerregistry/pkg/v1/remote", "os/exec"}

var rules = map[string]rule{
	"pkg/report": {banned: append(network, "os")},
	"pkg/output": {own: []string{"pkg/report"}, thirdParty: []string{"github.com/olekukonko/tablewriter"}, banned: append(network, "os")},
	"pkg/policy": {own: []string{"pkg/report"}, thirdParty: []string{"gopkg.in/yaml.v3"}, banned: network},
	"pkg/layers": {own: []string{"internal/ctxio", "internal/parallel"}, thirdParty: append(ggcrData, "github.com/klauspost/compress"), banned: network},
	"pkg/checks": {own: []string{"pkg/layers", "pkg/report"}, thirdParty: append(ggcrData, "github.com/moby/sys/user"), banned: append(network, "os")},
	"pkg/sbom": {own: []string{"pkg/layers"}, thirdParty: append(ggcrData, "github.com/anchore/", "modernc.org/sqlite",
		"github.com/bmatcuk/doublestar/v4", "github.com/distribution/reference", "github.com/gabriel-vasile/mimetype", "github.com/opencontainers/go-digest"),
		banned: append(network, "github.com/anchore/stereoscope/pkg/image")},
	"pkg/fetch":    {own: []string{"internal/ctxio", "internal/oneline"}, thirdParty: []string{"github.com/google/go-containerregistry/"}},
	"pkg/audit":    {own: []string{"internal/oneline", "internal/parallel", "pkg/fetch", "pkg/layers", "pkg/checks", "pkg/sbom", "pkg/report"}, thirdParty: ggcrData, banned: network},
	"cmd/imgaudit": {own: []string{"internal/cli"}},
}

func TestImportBoundaries(t *testing.T) {
	for dir, r := range rules {
		t.Run(dir, func(t *testing.T) {
			pkg, err := build.ImportDir(filepath.Join("..", "..", dir), 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range pkg.Imports {
				if slices.Contains(r.banned, imp) {
					t.Errorf("%s imports %s", dir, imp)
					continue
				}
				if own, ok := strings.CutPrefix(imp, mod); ok {
					if !slices.Contains(r.own, own) {
						t.Errorf("%s imports %s", dir, own)
					}
					continue
				}
				if !strings.Contains(strings.Split(imp, "/")[0], ".") {
					continue // standard library
				}
				allowed := false
				for _, p := range r.thirdParty {
					if imp == p || strings.HasPrefix(imp, strings.TrimSuffix(p, "/")+"/") || (strings.HasSuffix(p, "/") && strings.HasPrefix(imp, p)) {
						allowed = true
					}
				}
				if !allowed {
					t.Errorf("%s imports %s", dir, imp)
				}
			}
		})
	}
}

// TestEveryPackageHasARule fails when a package under pkg/ is added without
// saying what it may import.
func TestEveryPackageHasARule(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "pkg", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		name := "pkg/" + filepath.Base(d)
		if _, ok := rules[name]; !ok {
			t.Errorf("%s has no import rule in internal/boundaries", name)
		}
	}
}
