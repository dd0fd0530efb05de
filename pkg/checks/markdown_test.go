package checks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/workload"
)

var update = flag.Bool("update", false, "rewrite docs/checks.md from the check table")

// workloadMetas is the workload cross-check catalogue as Metas (what the
// CLI's `imgaudit checks --format markdown` passes too).
func workloadMetas() []Meta {
	var out []Meta
	for _, c := range workload.Checks() {
		out = append(out, Meta{ID: c.ID, Title: c.Title, Category: Category(c.Category), Severity: c.Severity,
			Rationale: c.Docs, Remediation: c.Remediation})
	}
	return out
}

// TestDocs fails when docs/checks.md is not what WriteMarkdown renders for
// All(); run `go test ./pkg/checks -run TestDocs -update` to regenerate it.
func TestDocs(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, All(), WorkloadChecks(workloadMetas())); err != nil {
		t.Fatal(err)
	}
	docs := filepath.Join("..", "..", "docs", "checks.md")
	if *update {
		if err := os.WriteFile(docs, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(docs)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), buf.String()); d != "" {
		t.Errorf("docs/checks.md is stale; run `go test ./pkg/checks -run TestDocs -update` (-file +generated):\n%s", d)
	}
	for _, c := range All() {
		m := c.Meta()
		if !strings.Contains(buf.String(), "\n## "+m.ID+"\n") {
			t.Errorf("%s has no section in the docs", m.ID)
		}
		for _, n := range m.Names {
			if !strings.Contains(buf.String(), "`"+n+"`") {
				t.Errorf("%s: command %q is not documented", m.ID, n)
			}
		}
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, All()[:2]); err != nil {
		t.Fatal(err)
	}
	want := "ID               SEVERITY  CATEGORY           TITLE\n" +
		"IA-ROOT-USER     high      root-user          Container runs as root\n" +
		"IA-USER-UNKNOWN  high      user-unverifiable  User name not in /etc/passwd\n"
	if d := cmp.Diff(want, buf.String()); d != "" {
		t.Errorf("WriteTable (-want +got):\n%s", d)
	}
}
