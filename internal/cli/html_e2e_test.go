package cli_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/e2e"
	"github.com/imgaudit/imgaudit/internal/testimages"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestHTMLReportInChromium renders the HTML report of a scan of the four
// example images (so the heat map and the fleet section exist) in a real
// headless Chromium: it loads with no console message, its screenshot is
// not blank, and the rendered DOM holds the verdict and every image.
func TestHTMLReportInChromium(t *testing.T) {
	chromium := e2e.Tool(t, "chromium", "IMGAUDIT_CHROMIUM", "apt-get install -y chromium")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	args := []string{"scan", "--no-policy", "-q", "--format", "json", "-o", "html=" + page}
	for _, name := range testimages.Names() {
		args = append(args, filepath.Join(imagesDir, name))
	}
	res := runEnv(t, cli.Env{Now: func() time.Time { return fixedNow }}, args...)
	if res.code == 2 {
		t.Fatalf("exit 2: %s", res.stderr)
	}
	r := decode(t, res.stdout)
	if r.Summary.Fleet == nil || len(r.Images) < 2 {
		t.Fatalf("not a fleet report: %d images", len(r.Images))
	}
	// --format html writes the same page to standard output.
	again := runEnv(t, cli.Env{Now: func() time.Time { return fixedNow }}, append(args[:4:4], append([]string{"html"}, args[7:]...)...)...)
	if html, err := os.ReadFile(page); err != nil || again.stdout != string(html) {
		t.Errorf("--format html and -o html= differ (%v)", err)
	}

	start := time.Now()
	shot := filepath.Join(dir, "shot.png")
	_, stderr := runChromium(t, chromium, dir, "--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	if errs := consoleMessages(stderr); len(errs) > 0 {
		t.Errorf("console messages while rendering the report:\n%s", strings.Join(errs, "\n"))
	}
	checkNotBlank(t, shot)

	dom, _ := runChromium(t, chromium, dir, "--dump-dom", "file://"+page)
	want := []string{`<span class="label">` + overallLabel(&r) + `</span>`, `id="heatmap"`, `id="fleet"`, "Layer timeline"}
	for _, img := range r.Images {
		want = append(want, img.Reference)
	}
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("the rendered DOM lacks %q", w)
		}
	}
	t.Logf("page %d bytes; two Chromium runs in %v", len(again.stdout), time.Since(start).Round(time.Millisecond))
}

// TestWorkloadHTMLInChromium renders the HTML report of the README's
// workload example in headless Chromium: no console message, and the
// rendered DOM holds each workload's containers with their IW findings and
// remediations.
func TestWorkloadHTMLInChromium(t *testing.T) {
	chromium := e2e.Tool(t, "chromium", "IMGAUDIT_CHROMIUM", "apt-get install -y chromium")
	dir := t.TempDir()
	page := filepath.Join(dir, "workload.html")
	const worker = "registry.example.com/shop/worker@sha256:eefbc38cbf25e5ccc6a5e59e1c30c2abe8b26c74bb5b7694ea9ff88e9834b684"
	res := runEnv(t, cli.Env{Now: func() time.Time { return fixedNow }}, "workload", "--no-cache", "--no-sbom", "--no-policy", "-q",
		"-f", "json", "-o", "html="+page,
		"--image-map", "registry.example.com/shop/api:1.0=oci:"+imagesDir+"/demo",
		"--image-map", worker+"=oci:"+imagesDir+"/hardened",
		"../../testdata/workloads/shop.yaml")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1: %s", res.code, res.stderr)
	}
	r := decode(t, res.stdout)
	dom, stderr := runChromium(t, chromium, dir, "--dump-dom", "file://"+page)
	if errs := consoleMessages(stderr); len(errs) > 0 {
		t.Errorf("console messages while rendering the report:\n%s", strings.Join(errs, "\n"))
	}
	// Chromium serializes text with &, < and > escaped, quotes as they are.
	text := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	var want []string
	for _, wl := range r.Workloads {
		for _, c := range wl.Containers {
			want = append(want, c.Name, c.Image.Reference)
			for _, f := range c.Findings {
				want = append(want, f.ID)
				if f.Remediation != "" {
					want = append(want, text.Replace(f.Remediation))
				}
			}
		}
	}
	if len(want) < 6 {
		t.Fatalf("the example has too few findings to check: %q", want)
	}
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("the rendered DOM lacks %q", w)
		}
	}
}

// TestChromiumConsoleDetector checks the detector on a page that logs an
// error and throws: a broken page must make it fire.
func TestChromiumConsoleDetector(t *testing.T) {
	chromium := e2e.Tool(t, "chromium", "IMGAUDIT_CHROMIUM", "apt-get install -y chromium")
	dir := t.TempDir()
	page := filepath.Join(dir, "broken.html")
	if err := os.WriteFile(page, []byte(`<!DOCTYPE html><html><body><p>broken</p><script>console.error("boom"); undefinedFunction();</script></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr := runChromium(t, chromium, dir, "--dump-dom", "file://"+page)
	got := strings.Join(consoleMessages(stderr), "\n")
	for _, want := range []string{`"boom"`, "undefinedFunction is not defined"} {
		if !strings.Contains(got, want) {
			t.Errorf("the detector missed %s; it found:\n%s\nstderr:\n%s", want, got, stderr)
		}
	}
}

// runChromium runs headless Chromium on a local file with its own
// connections (updates, sync, QUIC, background networking) off, its
// profile and home in dir; it fails t unless Chromium exits 0.
func runChromium(t *testing.T, chromium, dir string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleLine matches how Chromium logs a page's console message with
// --enable-logging: "INFO:CONSOLE:1]" (or "CONSOLE(1)" in older versions).
var consoleLine = regexp.MustCompile(`:CONSOLE[:(]`)

// consoleMessages returns the console lines of a Chromium log: the report
// has no script, so any is an error (a CSP violation, a script error).
func consoleMessages(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if consoleLine.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

// checkNotBlank decodes the screenshot and checks it shows a page: many
// colours (the heat map's, the verdict's) and enough pixels that are not
// the white background.
func checkNotBlank(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours, inked := colourStats(img)
	b := img.Bounds()
	total := b.Dx() * b.Dy()
	t.Logf("screenshot %dx%d: %d colours, %.1f%% not white", b.Dx(), b.Dy(), colours, 100*float64(inked)/float64(total))
	if colours < 50 || inked < total/50 {
		t.Errorf("the screenshot looks blank: %d colours, %d of %d pixels not white", colours, inked, total)
	}
}

func colourStats(img image.Image) (colours, inked int) {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r>>8 < 0xf0 || g>>8 < 0xf0 || bl>>8 < 0xf0 {
				inked++
			}
		}
	}
	return len(seen), inked
}

// overallLabel is the verdict label the page leads with, from the gate's
// per-image verdicts in the JSON report of the same run.
func overallLabel(r *report.Report) string {
	label := "PASS"
	for _, img := range r.Images {
		switch {
		case img.Error != "" || (img.Gate != nil && img.Gate.Verdict == report.Incomplete):
			return "ERROR"
		case img.Gate != nil && img.Gate.Verdict == report.Fail:
			label = "FAIL"
		}
	}
	return label
}
