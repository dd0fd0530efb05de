package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/faultproxy"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
)

// TestDiffRealRegistry pushes two tags sharing their base layers to the
// real CNCF registry and diffs them through a counting proxy: with the
// old tag already audited into the cache, the diff downloads only the
// layer the new tag adds (blob GETs counted per digest).
func TestDiffRealRegistry(t *testing.T) {
	cfg := v1.Config{User: "1000"}
	base := imagetest.Step("ADD rootfs.tar /", imagetest.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), imagetest.File("bin/sh", 0o755, imagetest.ELF("", 64)))
	app := imagetest.Step("COPY app /app", imagetest.Text("app/run", "x"))
	curl := imagetest.Step("RUN apt-get install -y curl", imagetest.File("usr/bin/curl", 0o755, imagetest.ELF("", 128)))
	v1img, err := imagetest.Image(cfg, base, app)
	if err != nil {
		t.Fatal(err)
	}
	v2img, err := imagetest.Image(cfg, base, app, curl)
	if err != nil {
		t.Fatal(err)
	}
	reg := registrytest.Start(t, registrytest.Options{})
	for tag, img := range map[string]v1.Image{"team/app:1": v1img, "team/app:2": v2img} {
		if err := remote.Write(reg.Ref(t, tag), img, reg.RemoteOptions()...); err != nil {
			t.Fatal(err)
		}
	}
	p := faultproxy.New(t, reg.URL(), reg.Transport())
	cache := filepath.Join(t.TempDir(), "cache")
	flags := []string{"--insecure", "--retries", "0", "--no-sbom", "--no-policy", "--cache-dir", cache}

	r := runEnv(t, cli.Env{}, append([]string{"scan", "--fail-on", "none"}, append(flags, p.Host+"/team/app:1")...)...)
	if r.code != 0 {
		t.Fatalf("scan 1: exit %d\n%s", r.code, r.stderr)
	}
	p.Clear()
	r = runEnv(t, cli.Env{}, append([]string{"diff", "-f", "json", "--fail-on-new", "medium"}, append(flags, p.Host+"/team/app:1", p.Host+"/team/app:2")...)...)
	if r.code != 1 {
		t.Fatalf("diff: exit %d, want 1\n%s", r.code, r.stderr)
	}
	d := decode(t, r.stdout).Images[0].Diff
	if len(d.Added) != 1 || d.Added[0].Path != "/usr/bin/curl" || len(d.Removed) != 0 {
		t.Errorf("added %v, removed %v", d.Added, d.Removed)
	}
	layers, err := v2img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		dg, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if i == len(layers)-1 {
			want = 1
		}
		if n := p.Count("GET", "/blobs/"+dg.String()); n != want {
			t.Errorf("layer %d: %d blob GETs, want %d", i, n, want)
		}
	}
	t.Logf("blob GETs in the diff: %d (layers and configs)", p.Count("GET", "/blobs/"))
}

// TestRegistryBaselineTagRealRegistry runs registry --baseline-tag
// previous against the real CNCF registry through a counting proxy, with
// no cache: the newest tag of team/app is compared with the previous
// version (the JSON diff, the fleet's regressions in the table and the
// Markdown), --fail-on-new fails for what it added, team/lib (one version)
// is named as not compared, and every layer blob, shared by all the
// images or not, is downloaded once. The table lines it checks are the
// README's registry example (Delta gates).
func TestRegistryBaselineTagRealRegistry(t *testing.T) {
	cfg := v1.Config{User: "1000"}
	base := imagetest.Step("ADD rootfs.tar /", imagetest.Text("etc/passwd", "root:x:0:0::/root:/sbin/nologin\n"), imagetest.File("bin/true", 0o755, imagetest.ELF("", 64)))
	app := imagetest.Step("COPY app /app", imagetest.Text("app/run", "x"))
	curl := imagetest.Step("RUN apt-get install -y curl", imagetest.File("usr/bin/curl", 0o755, imagetest.ELF("", 128)))
	lib := imagetest.Step("COPY lib /lib/app", imagetest.Text("lib/app/lib.so", "y"))
	images := map[string][]imagetest.LayerStep{
		"team/app:1.0.0": {base, app},
		"team/app:1.1.0": {base, app, curl},
		"team/lib:1.0.0": {base, lib},
	}
	reg := registrytest.Start(t, registrytest.Options{})
	blobs := map[string]bool{}
	for tag, steps := range images {
		img, err := imagetest.Image(cfg, steps...)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(reg.Ref(t, tag), img, reg.RemoteOptions()...); err != nil {
			t.Fatal(err)
		}
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			blobs[d.String()] = true
		}
	}
	p := faultproxy.New(t, reg.URL(), reg.Transport())
	dir := t.TempDir()
	table, markdown := filepath.Join(dir, "report.txt"), filepath.Join(dir, "report.md")
	r := runEnv(t, cli.Env{}, "registry", "--insecure", "--retries", "0", "--no-sbom", "--no-policy", "--no-cache",
		"--baseline-tag", "previous", "--fail-on-new", "medium", "-f", "json", "-o", "table="+table, "-o", "markdown="+markdown, p.Host)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (curl added)\n%s", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	var compared int
	for _, img := range rep.Images {
		if img.Diff == nil {
			continue
		}
		compared++
		if img.Reference != p.Host+"/team/app:1.1.0" || img.Diff.Baseline != p.Host+"/team/app:1.0.0" {
			t.Errorf("%s compared with %s, want team/app:1.1.0 with 1.0.0", img.Reference, img.Diff.Baseline)
		}
		if len(img.Diff.Added) != 1 || img.Diff.Added[0].Path != "/usr/bin/curl" || len(img.Diff.Removed) != 0 {
			t.Errorf("added %v, removed %v", img.Diff.Added, img.Diff.Removed)
		}
	}
	if compared != 1 || len(rep.Images) != 3 {
		t.Errorf("%d of %d images compared, want 1 of 3", compared, len(rep.Images))
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].Message, "team/lib: not compared (--baseline-tag previous): fewer than two semantic-version tags (1)") {
		t.Errorf("warnings %+v", rep.Warnings)
	}
	if f := rep.Summary.Fleet; f == nil || len(f.Regressions) != 1 || f.Regressions[0].FailingNew != 1 {
		t.Errorf("fleet regressions: %+v", f)
	}
	for file, want := range map[string]string{
		table:    "Regressions (new findings at or above medium):\n  " + p.Host + "/team/app:1.1.0 adds 1 at or above medium (1 in all) over",
		markdown: "### Regressions (new findings at or above medium)\n\n- `" + p.Host + "/team/app:1.1.0` adds 1 at or above medium (1 in all) over `" + p.Host + "/team/app:1.0.0`",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", filepath.Base(file), want, b)
		}
	}
	for d := range blobs {
		if n := p.Count("GET", "/blobs/"+d); n != 1 {
			t.Errorf("layer %s: %d blob GETs, want 1", d, n)
		}
	}
	t.Logf("blob GETs: %d (%d distinct layers and the configs)", p.Count("GET", "/blobs/"), len(blobs))
}
