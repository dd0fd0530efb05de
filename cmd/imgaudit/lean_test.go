package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLeanBuild builds imgaudit with the nosbom tag (no syft: for CI gates
// that only need the checks) and runs it: it must audit the demo image with
// every check, say in `version` that it has no SBOM support, and refuse
// --sbom-output with a usage error rather than write nothing silently.
func TestLeanBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "imgaudit-lean")
	build := exec.CommandContext(ctx, goTool, "build", "-tags", "nosbom", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags nosbom: %v\n%s", err, out)
	}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}

	out, _, code := run("version", "--format", "json")
	var v struct {
		SBOM *bool `json:"sbom"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v.SBOM == nil || *v.SBOM {
		t.Fatalf("version --format json = %q (exit %d), want sbom: false", out, code)
	}

	demo := filepath.Join("..", "..", "testdata", "images", "demo")
	out, stderr, code := run("scan", "-f", "json", "--no-cache", "--fail-on", "none", demo)
	if code != 0 {
		t.Fatalf("scan exit %d: %s", code, stderr)
	}
	var rep struct {
		Images []struct {
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
			SBOM json.RawMessage `json:"sbom"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Images) != 1 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	ids := map[string]bool{}
	for _, f := range rep.Images[0].Findings {
		ids[f.ID] = true
	}
	for _, id := range []string{"IA-SHELL", "IA-PKG-MANAGER", "IA-ROOT-USER"} {
		if !ids[id] {
			t.Errorf("lean scan of the demo image has no %s finding (got %v)", id, ids)
		}
	}
	if len(rep.Images[0].SBOM) != 0 && string(rep.Images[0].SBOM) != "null" {
		t.Errorf("lean scan reports an SBOM: %s", rep.Images[0].SBOM)
	}

	sbomFile := filepath.Join(t.TempDir(), "sbom.json")
	_, stderr, code = run("scan", "--sbom-output", "spdx-json="+sbomFile, demo)
	if code != 2 || !strings.Contains(stderr, "nosbom") {
		t.Errorf("--sbom-output in a lean build: exit %d, stderr %q; want exit 2 naming the nosbom build", code, stderr)
	}
	if _, err := os.Stat(sbomFile); err == nil {
		t.Error("--sbom-output wrote a file in a lean build")
	}
}
