package cli_test

import (
	"path/filepath"
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
