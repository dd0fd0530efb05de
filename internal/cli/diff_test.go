package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/policy"
)

// diffImages writes three OCI layouts: a base image, the same image
// rebuilt (other build step text, so other digests, and an extra layer in
// front that shifts every layer index), and a version that adds curl and
// a setuid file in a later step.
func diffImages(t *testing.T) (old, rebuilt, added string) {
	t.Helper()
	cfg := v1.Config{User: "1000", Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}}
	base := []imagetest.Item{
		imagetest.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
		imagetest.File("bin/sh", 0o755, imagetest.ELF("", 64)),
	}
	build := func(steps ...imagetest.LayerStep) string {
		img, err := imagetest.Image(cfg, steps...)
		if err != nil {
			t.Fatal(err)
		}
		return imagetest.WriteLayout(t, img)
	}
	old = build(imagetest.Step("ADD rootfs.tar /", base...), imagetest.Step("COPY app /app", imagetest.Text("app/run", "x")))
	rebuilt = build(imagetest.Step("ADD motd /etc/motd", imagetest.Text("etc/motd", "hi")),
		imagetest.Step("ADD rootfs.tar / # rebuilt", base...), imagetest.Step("COPY app /app # rebuilt", imagetest.Text("app/run", "x")))
	added = build(imagetest.Step("ADD rootfs.tar /", base...), imagetest.Step("COPY app /app", imagetest.Text("app/run", "x")),
		imagetest.Step("RUN apt-get install -y curl",
			imagetest.File("usr/bin/curl", 0o755, imagetest.ELF("", 128)),
			imagetest.File("usr/local/bin/helper", 0o4755, imagetest.ELF("", 96))))
	return old, rebuilt, added
}

// TestDiffCommand: imgaudit diff lists exactly what the new image added,
// fails --fail-on-new at medium for it, and passes a rebuild that adds
// nothing; scan --baseline FILE compares with an earlier JSON report.
func TestDiffCommand(t *testing.T) {
	old, rebuilt, added := diffImages(t)
	flags := []string{"--no-cache", "--no-sbom", "--no-policy", "--fail-on-new", "medium"}
	env := cli.Env{}

	r := runEnv(t, env, append([]string{"diff", "-f", "json"}, append(flags, "oci:"+old, "oci:"+added)...)...)
	if r.code != 1 {
		t.Fatalf("diff old added: exit %d, want 1\n%s", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	d := rep.Images[0].Diff
	if d == nil {
		t.Fatalf("no diff in %s", r.stdout)
	}
	var got []string
	for _, f := range d.Added {
		got = append(got, f.ID+" "+f.Path)
		if f.Layer == nil || f.Layer.CreatedBy != "RUN apt-get install -y curl" {
			t.Errorf("%s %s: layer %+v, want the curl step", f.ID, f.Path, f.Layer)
		}
	}
	slices.Sort(got)
	if want := []string{"IA-NETWORK-TOOL /usr/bin/curl", "IA-SETUID /usr/local/bin/helper"}; !slices.Equal(got, want) {
		t.Errorf("added %v, want %v", got, want)
	}
	if len(d.Removed) != 0 || d.Unchanged != len(rep.Images[0].Findings)-2 || len(d.LayersAdded) != 1 {
		t.Errorf("removed %v, unchanged %d of %d, layers added %v", d.Removed, d.Unchanged, len(rep.Images[0].Findings), d.LayersAdded)
	}
	if rep.Gate.FailOnNew != policy.FailOnMedium.String() || rep.Gate.FailingNew != 2 || rep.Gate.Failing != 0 {
		t.Errorf("gate %+v", rep.Gate)
	}

	// The table leads with the additions and their step.
	r = runEnv(t, env, append([]string{"diff"}, append(flags, "oci:"+old, "oci:"+added)...)...)
	if !strings.Contains(r.stdout, "IA-NETWORK-TOOL adds /usr/bin/curl — layer 2, `RUN apt-get install -y curl`") ||
		!strings.Contains(r.stdout, "Verdict: FAIL — 2 new findings at or above medium") {
		t.Errorf("table:\n%s", r.stdout)
	}

	// A rebuild adds nothing.
	r = runEnv(t, env, append([]string{"diff", "-f", "json"}, append(flags, "oci:"+old, "oci:"+rebuilt)...)...)
	if r.code != 0 {
		t.Fatalf("diff old rebuilt: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if d := decode(t, r.stdout).Images[0].Diff; len(d.Added) != 0 || len(d.Removed) != 0 || d.Unchanged == 0 {
		t.Errorf("rebuild: added %v, removed %v, unchanged %d", d.Added, d.Removed, d.Unchanged)
	}

	// scan --baseline FILE: an earlier JSON report of the old image.
	baseline := filepath.Join(t.TempDir(), "old.json")
	r = runEnv(t, env, "scan", "--no-cache", "--no-sbom", "--no-policy", "--fail-on", "none", "-o", "json="+baseline, "oci:"+old)
	if r.code != 0 {
		t.Fatalf("scan old: exit %d\n%s", r.code, r.stderr)
	}
	r = runEnv(t, env, append([]string{"scan", "-f", "json", "--baseline", baseline}, append(flags, "oci:"+added)...)...)
	if r.code != 1 || len(decode(t, r.stdout).Images[0].Diff.Added) != 2 {
		t.Errorf("scan --baseline FILE: exit %d\n%s", r.code, r.stderr)
	}
	// --fail-on still counts every finding when given; not given, the old
	// findings do not fail a delta gate.
	r = runEnv(t, env, "scan", "--no-cache", "--no-sbom", "--no-policy", "--baseline", baseline, "--fail-on-new", "critical", "oci:"+added)
	if r.code != 0 {
		t.Errorf("--fail-on-new critical: exit %d\n%s", r.code, r.stderr)
	}
	r = runEnv(t, env, "scan", "--no-cache", "--no-sbom", "--no-policy", "--baseline", baseline, "--fail-on-new", "critical", "--fail-on", "medium", "oci:"+added)
	if r.code != 1 {
		t.Errorf("--fail-on medium with a baseline: exit %d\n%s", r.code, r.stderr)
	}
	// An incomplete side is exit 2.
	if err := os.WriteFile(baseline, []byte(`{"schemaVersion":1,"images":[{"reference":"x","error":"boom"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runEnv(t, env, append([]string{"scan", "--baseline", baseline}, append(flags, "oci:"+added)...)...)
	if r.code != 2 {
		t.Errorf("incomplete baseline: exit %d, want 2\n%s", r.code, r.stderr)
	}
	r = runEnv(t, env, append([]string{"diff"}, append(flags, "oci:"+filepath.Join(t.TempDir(), "missing"), "oci:"+added)...)...)
	if r.code != 2 {
		t.Errorf("missing old image: exit %d, want 2\n%s", r.code, r.stderr)
	}
}

// TestScanBaselineBase: --baseline base compares an image with the base
// its manifest names (the BuildKit annotations), and fails clearly when
// the manifest names none.
func TestScanBaselineBase(t *testing.T) {
	cfg := v1.Config{User: "1000"}
	baseImg, err := imagetest.Image(cfg, imagetest.Step("ADD rootfs.tar /", imagetest.File("bin/sh", 0o755, imagetest.ELF("", 64))))
	if err != nil {
		t.Fatal(err)
	}
	baseDir := imagetest.WriteLayout(t, baseImg)
	baseDigest, err := baseImg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	app, err := mutate.AppendLayers(baseImg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := imagetest.Layer(imagetest.File("usr/bin/curl", 0o755, imagetest.ELF("", 128)))
	if err != nil {
		t.Fatal(err)
	}
	if app, err = mutate.Append(app, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "RUN apk add curl"}, MediaType: types.OCILayer}); err != nil {
		t.Fatal(err)
	}
	app = mutate.Annotations(app, map[string]string{
		"org.opencontainers.image.base.name":   "oci:" + baseDir,
		"org.opencontainers.image.base.digest": baseDigest.String(),
	}).(v1.Image)
	appDir := imagetest.WriteLayout(t, app)

	flags := []string{"scan", "--no-cache", "--no-sbom", "--no-policy", "-f", "json", "--fail-on-new", "medium", "--baseline", "base"}
	r := runEnv(t, cli.Env{}, append(flags, "oci:"+appDir)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	img := decode(t, r.stdout).Images[0]
	if d := img.Diff; len(d.Added) != 1 || d.Added[0].Path != "/usr/bin/curl" || len(d.Removed) != 0 || d.Unchanged == 0 {
		t.Errorf("diff against the base: %+v", d)
	}
	if img.Base.Name != "oci:"+baseDir || img.Base.Digest != baseDigest.String() {
		t.Errorf("base annotations: %+v", img.Base)
	}

	r = runEnv(t, cli.Env{}, append(flags, "oci:"+baseDir)...)
	if r.code != 2 || !strings.Contains(r.stderr, "names no base image") {
		t.Errorf("no annotation: exit %d, want 2 with a clear error\n%s", r.code, r.stderr)
	}
}

// TestDiffReadmeExample keeps the README's delta-gate example true.
func TestDiffReadmeExample(t *testing.T) {
	r := runEnv(t, cli.Env{}, "diff", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json", "--fail-on-new", "medium",
		"oci:"+imagesDir+"/distroless", "oci:"+imagesDir+"/busybox")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	if len(rep.Images) != 1 || rep.Images[0].Diff == nil {
		t.Fatalf("no diff: %s", r.stdout)
	}
	d := rep.Images[0].Diff
	var added []string
	for _, f := range d.Added {
		added = append(added, f.ID)
	}
	want := "IA-NETWORK-TOOL IA-PKG-MANAGER IA-SHELL IA-USER-NAME IA-BASE IA-PERMISSION-TOOL"
	if strings.Join(added, " ") != want || len(d.Removed) != 1 || d.Removed[0].ID != "IA-WORLD-WRITABLE" || d.Unchanged != 1 {
		t.Errorf("added %v (want %s), removed %d, unchanged %d; update the README's example", added, want, len(d.Removed), d.Unchanged)
	}
}
