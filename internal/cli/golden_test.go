package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra/doc"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/schematest"
	"github.com/imgaudit/imgaudit/internal/testimages"
)

// Refresh every golden file of this package (reports of the example images,
// and the CLI reference in docs/cli) with:
//
//	go test ./internal/cli -run Golden -update
var update = flag.Bool("update", false, "rewrite golden files and docs/cli")

const (
	imagesDir    = "../../testdata/images"
	reportSchema = "../../docs/schema/report-v1.schema.json"
	sarifSchema  = "../../pkg/output/testdata/sarif-schema-2.1.0.json"
	cliDocsDir   = "../../docs/cli"
)

// fixedNow is the clock of every golden run: policy expiry is read against
// it, so no golden file depends on the day the tests run.
var fixedNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

var goldenFormats = []struct{ format, ext string }{
	{"table", "table"},
	{"json", "json"},
	{"sarif", "sarif"},
	{"markdown", "md"},
}

// checkGolden compares got with testdata/golden/name, or rewrites it with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./internal/cli -run Golden -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, refresh with:\n  go test ./internal/cli -run Golden -update\n%s", path, d)
	}
}

// validateReport checks a json or sarif report against its schema.
func validateReport(t *testing.T, format string, data []byte) {
	t.Helper()
	var schema string
	switch format {
	case "json":
		schema = reportSchema
	case "sarif":
		schema = sarifSchema
	default:
		return
	}
	s, err := schematest.Compile(schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.Validate(s, data); err != nil {
		t.Errorf("%s report does not validate against %s: %v", format, schema, err)
	}
}

// checkWidth: the table is readable at 100 columns.
func checkWidth(t *testing.T, table string) {
	t.Helper()
	for i, line := range strings.Split(table, "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("table line %d is %d columns wide: %q", i+1, n, line)
		}
	}
}

// TestGoldenReports scans each example image in each format and compares
// the report with its golden file; json and sarif are also validated
// against their schemas.
func TestGoldenReports(t *testing.T) {
	for _, name := range testimages.Names() {
		for _, f := range goldenFormats {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				r := runEnv(t, cli.Env{Now: func() time.Time { return fixedNow }},
					"scan", "--no-policy", "--format", f.format, filepath.Join(imagesDir, name))
				if r.code == 2 {
					t.Fatalf("exit 2: %s", r.stderr)
				}
				validateReport(t, f.format, []byte(r.stdout))
				if f.format == "table" {
					checkWidth(t, r.stdout)
				}
				checkGolden(t, name+"."+f.ext, r.stdout)
			})
		}
	}
}

// TestGoldenPolicyReport scans the demo image under a policy with a scoped
// ignore, an expired ignore and a disabled check, with --show-suppressed.
func TestGoldenPolicyReport(t *testing.T) {
	for _, f := range goldenFormats {
		t.Run(f.ext, func(t *testing.T) {
			r := runEnv(t, cli.Env{Now: func() time.Time { return fixedNow }},
				"scan", "--policy", "testdata/policy/demo.yaml", "--show-suppressed", "--format", f.format, filepath.Join(imagesDir, "demo"))
			if r.code == 2 {
				t.Fatalf("exit 2: %s", r.stderr)
			}
			if !strings.Contains(r.stderr, "imgaudit: warning: testdata/policy/demo.yaml:") || !strings.Contains(r.stderr, "expired on 2025-01-31") {
				t.Errorf("no expiry warning on stderr: %q", r.stderr)
			}
			validateReport(t, f.format, []byte(r.stdout))
			if f.format == "table" {
				checkWidth(t, r.stdout)
			}
			checkGolden(t, "demo.policy."+f.ext, r.stdout)
		})
	}
}

// TestGoldenCLIDocs keeps docs/cli, the Markdown reference generated from
// the command tree, in step with the code.
func TestGoldenCLIDocs(t *testing.T) {
	root := cli.NewRoot(cli.Env{Version: cli.VersionInfo{Version: "test"}})
	dir := t.TempDir()
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		t.Fatal(err)
	}
	syncGenerated(t, dir, cliDocsDir, "*.md")
}
