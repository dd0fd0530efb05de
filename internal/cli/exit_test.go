package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestExitCodesOnExampleImages runs the gate on the real example images:
// the demo image has critical findings, the hardened one none that the
// default gate (the baseline profile) counts.
func TestExitCodesOnExampleImages(t *testing.T) {
	demo := filepath.Join(imagesDir, "demo")
	hardened := filepath.Join(imagesDir, "hardened")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"demo fails the default baseline profile", []string{demo}, 1},
		{"demo fails at critical", []string{"--fail-on", "critical", demo}, 1},
		{"demo passes at none", []string{"--fail-on", "none", demo}, 0},
		{"hardened passes at the default", []string{hardened}, 0},
		{"one failing image fails the run", []string{hardened, demo}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runEnv(t, cli.Env{Dir: t.TempDir()}, append([]string{"scan", "-f", "json"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			rep := decode(t, r.stdout)
			if rep.Gate == nil || rep.Gate.Failed != (tc.code == 1) {
				t.Errorf("gate %+v", rep.Gate)
			}
			if tc.code == 1 && !strings.Contains(r.stderr, "at or above") && !strings.Contains(r.stderr, "failing the baseline profile") {
				t.Errorf("stderr %q does not say why the gate failed", r.stderr)
			}
		})
	}
}

// corruptLayout copies the demo image's OCI layout to a temporary directory
// and damages its largest layer blob with damage.
func corruptLayout(t *testing.T, damage func(t *testing.T, blob string)) string {
	t.Helper()
	src := filepath.Join(imagesDir, "demo")
	dst := filepath.Join(t.TempDir(), "demo")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	readJSON(t, filepath.Join(dst, "index.json"), &index)
	var manifest struct {
		Layers []struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"layers"`
	}
	readJSON(t, blobPath(t, dst, index.Manifests[0].Digest), &manifest)
	largest := manifest.Layers[0]
	for _, l := range manifest.Layers {
		if l.Size > largest.Size {
			largest = l
		}
	}
	blob := blobPath(t, dst, largest.Digest)
	if err := os.Chmod(blob, 0o644); err != nil {
		t.Fatal(err)
	}
	damage(t, blob)
	return dst
}

func blobPath(t *testing.T, layout, digest string) string {
	t.Helper()
	h, err := v1.NewHash(digest)
	if err != nil {
		t.Fatal(err)
	}
	return imagetest.BlobPath(layout, h)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestCorruptLayerFailsClosed: a layer blob cut short or overwritten makes
// the scan exit 2 (never 0, whatever --fail-on says), with the image marked
// as not scanned in the report.
func TestCorruptLayerFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, blob string)
	}{
		{"truncated", func(t *testing.T, blob string) {
			fi, err := os.Stat(blob)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(blob, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"overwritten", func(t *testing.T, blob string) {
			b, err := os.ReadFile(blob)
			if err != nil {
				t.Fatal(err)
			}
			for i := len(b) / 2; i < len(b); i++ {
				b[i] ^= 0x5a
			}
			if err := os.WriteFile(blob, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layout := corruptLayout(t, tc.damage)
			dir := t.TempDir()
			sarif := filepath.Join(dir, "r.sarif")
			r := runEnv(t, cli.Env{Dir: dir}, "scan", "--fail-on", "none", "-f", "json", "-o", "sarif="+sarif, layout)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, layout) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("stderr %q: want one line naming the image", r.stderr)
			}
			rep := decode(t, r.stdout)
			if len(rep.Images) != 1 || rep.Images[0].Error == "" || rep.Summary.Errors != 1 {
				t.Errorf("the report does not mark the image as not scanned: %+v", rep.Images)
			}
			validateReport(t, "json", []byte(r.stdout))
			b, err := os.ReadFile(sarif)
			if err != nil {
				t.Fatal(err)
			}
			validateReport(t, "sarif", b)
			if !strings.Contains(string(b), `"executionSuccessful": false`) {
				t.Error("sarif says the run succeeded")
			}
			// The table says so too.
			r = runEnv(t, cli.Env{Dir: dir}, "scan", layout)
			if r.code != 2 || !strings.Contains(r.stdout, "Verdict: ERROR") {
				t.Errorf("table: exit %d\n%s", r.code, r.stdout)
			}
		})
	}
}

// TestUnreachableRegistryReport: the report is still written, with the
// error, and the run exits 2.
func TestUnreachableRegistryReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.json")
	r := runEnv(t, cli.Env{Dir: t.TempDir()}, "scan", "--retries", "0", "--timeout", "2s", "--fail-on", "none", "-o", "json="+out, "127.0.0.1:1/app:1")
	if r.code != 2 || !strings.Contains(r.stderr, "127.0.0.1:1/app:1") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var rep struct {
		Images []struct{ Reference, Error string }
	}
	readJSON(t, out, &rep)
	if len(rep.Images) != 1 || rep.Images[0].Error == "" {
		t.Errorf("report images %+v", rep.Images)
	}
	if !strings.Contains(r.stdout, "Verdict: ERROR") {
		t.Errorf("table:\n%s", r.stdout)
	}
}

func TestChecksCommand(t *testing.T) {
	metas := checks.Metas(checks.All())
	r := runEnv(t, cli.Env{}, "checks")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, m := range metas {
		if !strings.Contains(r.stdout, m.ID) {
			t.Errorf("table lacks %s", m.ID)
		}
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if n := len([]rune(line)); n > 100 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}

	r = runEnv(t, cli.Env{}, "checks", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		Checks []struct {
			ID, Title, Category, Rationale, Remediation string
			Severity                                    report.Severity
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Checks) != len(metas) {
		t.Fatalf("%d checks, want %d", len(got.Checks), len(metas))
	}
	for i, c := range got.Checks {
		m := metas[i]
		if c.ID != m.ID || c.Severity != m.Severity || c.Category != string(m.Category) || c.Remediation == "" {
			t.Errorf("check %d: %+v", i, c)
		}
	}

	r = runEnv(t, cli.Env{}, "checks", "--format", "markdown")
	if r.code != 0 || !strings.Contains(r.stdout, "# imgaudit check catalogue") {
		t.Errorf("markdown: exit %d", r.code)
	}
	if r := runEnv(t, cli.Env{}, "checks", "--format", "xml"); r.code != 2 {
		t.Errorf("bad format: exit %d", r.code)
	}
}

// TestHelpDocumentsExitCodes: the exit codes are in --help.
func TestHelpDocumentsExitCodes(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"scan", "--help"}} {
		r := runEnv(t, cli.Env{}, args...)
		for _, want := range []string{"Exit codes:", "0  the gate passed", "1  the gate failed", "2  usage error"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: help lacks %q", args, want)
			}
		}
	}
}
