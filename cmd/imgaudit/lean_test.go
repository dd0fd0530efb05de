package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
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

	sigtermStopsScan(t, ctx, bin)
}

// sigtermStopsScan starts a scan that would run for hours (a 32 TiB
// sparse ELF file at a captured name, the layer size limit raised above
// it), sends SIGTERM, and wants the process gone within 2 s, exit 2.
func sigtermStopsScan(t *testing.T, ctx context.Context, bin string) {
	dir := filepath.Join(t.TempDir(), "layout")
	const size = 1 << 45
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(sparseTar("etc/passwd", size), types.OCIUncompressedLayer)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "scan", "-q", "--no-cache", "--max-layer-size", strconv.Itoa(2*size), "oci:"+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // well into the expansion
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	err = cmd.Wait()
	if d := time.Since(sent); d > 2*time.Second {
		t.Errorf("scan stopped %s after SIGTERM, want < 2s", d)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "signal") {
		t.Errorf("scan after SIGTERM: %v (stderr %q), want exit 2 for the signal", err, stderr.String())
	}
}

// sparseTar is a tar of one PAX GNU sparse 1.0 file of logical size
// size: an ELF head of 4 KiB, then one hole.
func sparseTar(name string, size int64) []byte {
	block := func(name string, flag byte, n int) []byte {
		b := make([]byte, 512)
		copy(b, name)
		copy(b[100:], "0000644\x00")
		copy(b[124:], fmt.Sprintf("%011o\x00", n))
		b[156] = flag
		copy(b[257:], "ustar\x0000")
		copy(b[148:], "        ")
		sum := 0
		for _, c := range b {
			sum += int(c)
		}
		copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
		return b
	}
	pad := func(b []byte) []byte { return append(b, make([]byte, (512-len(b)%512)%512)...) }
	rec := func(k, v string) string {
		s := " " + k + "=" + v + "\n"
		n := len(s)
		for len(strconv.Itoa(n))+len(s) != n {
			n = len(strconv.Itoa(n)) + len(s)
		}
		return strconv.Itoa(n) + s
	}
	real := strconv.FormatInt(size, 10)
	recs := rec("GNU.sparse.major", "1") + rec("GNU.sparse.minor", "0") + rec("GNU.sparse.name", name) + rec("GNU.sparse.realsize", real)
	head := make([]byte, 4096)
	copy(head, "\x7fELF\x02\x01\x01")
	m := pad([]byte("2\n0\n4096\n" + real + "\n0\n"))
	out := append(block("PaxHeaders/x", 'x', len(recs)), pad([]byte(recs))...)
	out = append(out, block("GNUSparseFile.0/x", '0', len(m)+len(head))...)
	out = append(append(out, m...), head...)
	return append(out, make([]byte, 1024)...)
}
