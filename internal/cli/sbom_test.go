package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/internal/cli"
)

// TestSBOMOutput writes full SBOMs in every format next to the report; each
// parses and names the image, and lists the packages the report counts.
func TestSBOMOutput(t *testing.T) {
	dir := t.TempDir()
	demo := filepath.Join(imagesDir, "demo")
	files := map[string]string{
		"cyclonedx-json": filepath.Join(dir, "sbom.cdx.json"),
		"spdx-json":      filepath.Join(dir, "sbom.spdx.json"),
		"syft-json":      filepath.Join(dir, "sbom.syft.json"),
	}
	args := []string{"scan", "-f", "json", "--fail-on", "none"}
	for f, file := range files {
		args = append(args, "--sbom-output", f+"="+file)
	}
	r := runEnv(t, cli.Env{Dir: dir}, append(args, demo)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	if s := rep.Images[0].SBOM; s == nil || s.Packages != 10 || s.DistroID != "debian" {
		t.Fatalf("report sbom %+v", s)
	}
	for format, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s does not parse: %v", format, err)
		}
		if !strings.Contains(string(b), "testdata/images/demo") || !strings.Contains(string(b), "7.88.1-10+deb12u8") {
			t.Errorf("%s does not name the image or list curl", format)
		}
	}
}

// TestSBOMOutputPerImage: with several images, each gets its own file.
func TestSBOMOutputPerImage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sbom.json")
	r := runEnv(t, cli.Env{Dir: dir}, "scan", "-q", "-f", "json", "--fail-on", "none", "--sbom-output", "syft-json="+file,
		filepath.Join(imagesDir, "demo"), filepath.Join(imagesDir, "busybox"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got, _ := filepath.Glob(filepath.Join(dir, "sbom.*.json"))
	if len(got) != 2 {
		t.Fatalf("files %v, want one per image", got)
	}
	for _, f := range got {
		if !strings.Contains(f, "testdata_images_") {
			t.Errorf("%s does not name its image", f)
		}
	}
}

func TestNoSBOM(t *testing.T) {
	r := runEnv(t, cli.Env{Dir: t.TempDir()}, "scan", "-f", "json", "--fail-on", "none", "--no-sbom", filepath.Join(imagesDir, "demo"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	if rep.Images[0].SBOM != nil {
		t.Errorf("--no-sbom report has an sbom: %+v", rep.Images[0].SBOM)
	}
	for _, f := range rep.Images[0].Findings {
		if f.Package != nil {
			t.Errorf("--no-sbom finding %s names a package", f.ID)
		}
	}
}

func TestSBOMOutputUsage(t *testing.T) {
	demo := filepath.Join(imagesDir, "demo")
	for _, args := range [][]string{
		{"--sbom-output", "xml=a.xml"},
		{"--sbom-output", "a.json"},
		{"--sbom-output", "syft-json=-"},
		{"--sbom-output", "syft-json=a.json", "--sbom-output", "spdx-json=a.json"},
		{"--no-sbom", "--sbom-output", "syft-json=a.json"},
	} {
		r := runEnv(t, cli.Env{Dir: t.TempDir()}, append(append([]string{"scan"}, args...), demo)...)
		if r.code != 2 || !strings.Contains(r.stderr, "sbom") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, r.code, r.stderr)
		}
	}
}
