package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/faultproxy"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
)

// TestCacheRepoRealRegistry shares --cache-repo between runs that have
// separate, empty local caches (as shards on different machines would),
// against the real CNCF registry through a counting proxy: the first
// registry audit reads every layer once and fills the cache; a second one
// reads no layer blob and reports the same; a scan of a new image on the
// same base reads only the layer it adds.
func TestCacheRepoRealRegistry(t *testing.T) {
	cfg := v1.Config{User: "1000"}
	base := imagetest.Step("ADD rootfs.tar /", imagetest.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
		imagetest.File("bin/sh", 0o755, imagetest.ELF("", 64)), imagetest.File("usr/bin/su", 0o4755, imagetest.ELF("", 32)))
	api := imagetest.Step("COPY api /app", imagetest.Text("app/api", "x"))
	web := imagetest.Step("COPY web /app", imagetest.Text("app/web", "y"))
	curl := imagetest.Step("RUN apt-get install -y curl", imagetest.File("usr/bin/curl", 0o755, imagetest.ELF("", 128)))
	extra := imagetest.Step("COPY extra /", imagetest.Text("extra", "z"))
	reg := registrytest.Start(t, registrytest.Options{})
	push := func(tag string, steps ...imagetest.LayerStep) []v1.Hash {
		t.Helper()
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
		var ds []v1.Hash
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, d)
		}
		return ds
	}
	fleet := map[v1.Hash]bool{}
	for _, ds := range [][]v1.Hash{push("team/api:1", base, api), push("team/web:1", base, web), push("team/cli:1", base, curl)} {
		for _, d := range ds {
			fleet[d] = true
		}
	}
	p := faultproxy.New(t, reg.URL(), reg.Transport())
	flags := []string{"--insecure", "--retries", "0", "--no-policy", "--fail-on", "none", "-f", "json", "--cache-repo", p.Host + "/ci/imgaudit-cache"}
	run := func(args ...string) string {
		t.Helper()
		cache := filepath.Join(t.TempDir(), "cache") // a machine of its own
		r := runEnv(t, cli.Env{}, append(append(args, flags...), "--cache-dir", cache)...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", args[0], r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "warning") {
			t.Errorf("%s: %s", args[0], r.stderr)
		}
		return r.stdout
	}
	gets := func(d v1.Hash) int { return p.Count("GET", "/blobs/"+d.String()) }

	first := run("registry", p.Host)
	for d := range fleet {
		if n := gets(d); n != 1 {
			t.Errorf("first run: layer %s: %d blob GETs, want 1", d, n)
		}
	}
	if p.Count("PUT", "/v2/ci/imgaudit-cache/manifests/") == 0 {
		t.Fatal("the first run wrote no cache entry")
	}
	p.Clear()
	second := run("registry", p.Host) // the cache repository is left out
	for d := range fleet {
		if n := gets(d); n != 0 {
			t.Errorf("second run: layer %s: %d blob GETs, want 0", d, n)
		}
	}
	if p.Count("GET", "/v2/ci/imgaudit-cache/manifests/") == 0 {
		t.Error("the second run did not read the cache repository")
	}
	t.Logf("second run: %d requests, %d cache reads, %d blob GETs in all", len(p.Requests()),
		p.Count("GET", "/v2/ci/imgaudit-cache/manifests/"), p.Count("GET", "/blobs/"))
	a, b := decode(t, first), decode(t, second)
	if len(a.Images) != 3 || len(b.Images) != 3 {
		t.Fatalf("images: %d and %d, want 3", len(a.Images), len(b.Images))
	}
	for i := range a.Images {
		compareImages(t, a.Images[i], b.Images[i])
	}

	// A new image on the same base: no image-level entry, and the layer
	// entries spare every layer but the one it adds.
	ds := push("team/cli:2", base, curl, extra)
	p.Clear()
	run("scan", p.Host+"/team/cli:2")
	for i, d := range ds {
		want := 0
		if i == len(ds)-1 {
			want = 1
		}
		if n := gets(d); n != want {
			t.Errorf("scan of a new image: layer %d: %d blob GETs, want %d", i, n, want)
		}
	}
}

// TestCacheRepoUnreachable: a --cache-repo that cannot be reached costs a
// warning, never the audit.
func TestCacheRepoUnreachable(t *testing.T) {
	want := scanLocal(t, "demo")
	img := filepath.Join("..", "..", "testdata", "images", "demo")
	r := run(t, nil, "", "scan", "--format", "json", "--retries", "0", "--cache-dir", t.TempDir(), "--cache-repo", "127.0.0.1:1/imgaudit-cache", img)
	if r.code == 2 {
		t.Fatalf("exit 2: %s", r.stderr)
	}
	compareImages(t, want.Images[0], decode(t, r.stdout).Images[0])
	if !strings.Contains(r.stderr, "warning: cache repository: reading") || !strings.Contains(r.stderr, "not read again") ||
		!strings.Contains(r.stderr, "reads failed, ") || !strings.Contains(r.stderr, "writes failed\n") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if r := run(t, nil, "", "scan", "--cache-repo", "no-registry", img); r.code != 2 || !strings.Contains(r.stderr, "--cache-repo") {
		t.Errorf("--cache-repo without a registry: exit %d, %s", r.code, r.stderr)
	}
}

// TestCacheRepoTLSAuth: the cache repository is reached as images are,
// with the same CA file and credentials, which appear in no output; a
// registry that refuses anonymous writes costs warnings, not the audit.
func TestCacheRepoTLSAuth(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{TLS: true, Username: "ci", Password: "cache-Pa55word"})
	img := filepath.Join("..", "..", "testdata", "images", "demo")
	repo := reg.Host + "/ci/imgaudit-cache"
	r := run(t, nil, reg.Password+"\n", "scan", "--retries", "0", "--ca-file", reg.CAFile, "-u", reg.Username, "--password-stdin",
		"--cache-dir", t.TempDir(), "--cache-repo", repo, img)
	if r.code == 2 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	ref, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := remote.List(ref, reg.RemoteOptions()...)
	if err != nil || len(tags) == 0 {
		t.Fatalf("cache repository tags: %v, %v", tags, err)
	}
	// Anonymous: every read and write refused.
	r = run(t, nil, "", "scan", "--retries", "0", "--ca-file", reg.CAFile, "--cache-dir", t.TempDir(), "--cache-repo", repo, img)
	if r.code == 2 || !strings.Contains(r.stderr, "unauthorized") || !strings.Contains(r.stderr, "writes failed") {
		t.Errorf("anonymous: exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, reg.Password) {
		t.Error("the password appears in the output")
	}
}
