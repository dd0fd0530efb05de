package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/internal/testimages"
)

// TestRegistryCommand audits a real registry holding the example images
// (one of them under two tags) through the CLI, streaming jsonl, and then
// checks the cache commands.
func TestRegistryCommand(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	for _, n := range testimages.Names() {
		img, err := testimages.Builders[n]()
		if err != nil {
			t.Fatal(err)
		}
		tags := []string{"1.0"}
		if n == "demo" {
			tags = append(tags, "latest")
		}
		for _, tag := range tags {
			if err := remote.Write(reg.Ref(t, "examples/"+n+":"+tag), img, reg.RemoteOptions()...); err != nil {
				t.Fatal(err)
			}
		}
	}
	cacheDir := t.TempDir()
	env := map[string]string{"IMGAUDIT_CACHE_DIR": cacheDir}
	r := run(t, env, "", "registry", "--insecure", "--retries", "0", "--format", "jsonl", reg.Host)
	if r.code != 1 {
		t.Fatalf("exit %d (want 1: demo fails the gate); stderr %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d jsonl lines, want 4 images + summary:\n%s", len(lines), r.stdout)
	}
	var demo struct {
		Image struct {
			Reference   string   `json:"reference"`
			AlsoKnownAs []string `json:"alsoKnownAs"`
		} `json:"image"`
	}
	found := false
	for _, l := range lines[:4] {
		if err := json.Unmarshal([]byte(l), &demo); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(demo.Image.Reference, "examples/demo") {
			found = len(demo.Image.AlsoKnownAs) == 1
		}
	}
	if !found {
		t.Errorf("demo not reported once with its second tag as alias:\n%s", r.stdout)
	}
	var sum struct {
		Summary struct {
			Images int `json:"images"`
			Fleet  *struct {
				ImagesFailing    int            `json:"imagesFailing"`
				ImagesByCategory map[string]int `json:"imagesByCategory"`
			} `json:"fleet"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[4]), &sum); err != nil {
		t.Fatal(err)
	}
	// demo and busybox (a named user) fail the default baseline profile.
	if sum.Summary.Images != 4 || sum.Summary.Fleet == nil || sum.Summary.Fleet.ImagesFailing != 2 || sum.Summary.Fleet.ImagesByCategory["shell"] != 2 {
		t.Errorf("summary line = %s", lines[4])
	}

	// Every tag is visible in the table (header and fleet summary) and
	// in the Markdown, not only in the JSON.
	md := filepath.Join(t.TempDir(), "fleet.md")
	r = run(t, env, "", "registry", "--insecure", "--retries", "0", "--format", "table", "-o", "markdown="+md, reg.Host)
	demoRefs := []string{reg.Host + "/examples/demo:1.0", reg.Host + "/examples/demo:latest"}
	mdOut, _ := os.ReadFile(md)
	for _, ref := range demoRefs {
		if !strings.Contains(r.stdout, ref) || !strings.Contains(string(mdOut), ref) {
			t.Errorf("%s missing from the table or the Markdown:\n%s\n%s", ref, r.stdout, mdOut)
		}
	}
	if !strings.Contains(r.stdout, "  Also:     ") || !strings.Contains(r.stdout, "also "+reg.Host+"/examples/demo:") {
		t.Errorf("table lacks the Also line or the fleet's alias line:\n%s", r.stdout)
	}

	entries, _ := filepath.Glob(filepath.Join(cacheDir, "*.idx"))
	if len(entries) == 0 {
		t.Fatal("nothing cached")
	}
	r = run(t, env, "", "cache", "info")
	if r.code != 0 || !strings.Contains(r.stdout, cacheDir) {
		t.Errorf("cache info: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, env, "", "cache", "clean")
	if r.code != 0 {
		t.Errorf("cache clean: %d %s", r.code, r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(cacheDir, "*.idx")); len(left) != 0 {
		t.Errorf("%d entries left after clean", len(left))
	}

	// A list file: same images, one audit each.
	list := filepath.Join(t.TempDir(), "images.txt")
	os.WriteFile(list, []byte("# fleet\n"+reg.Host+"/examples/hardened:1.0\n\n"+reg.Host+"/examples/distroless:1.0\n"), 0o644)
	r = run(t, env, "", "scan", "--insecure", "--from-file", list, "--format", "json")
	if r.code != 0 {
		t.Fatalf("scan --from-file: exit %d %s", r.code, r.stderr)
	}
	if got := decode(t, r.stdout); len(got.Images) != 2 {
		t.Errorf("from-file: %d images", len(got.Images))
	}
}
