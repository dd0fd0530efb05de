package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
)

const workloadManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
      - name: init
        image: example.com/web:1
      containers:
      - name: web
        image: example.com/web:1
        securityContext:
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
      - name: copy
        image: example.com/copy:1
        securityContext:
          allowPrivilegeEscalation: false
`

// TestWorkloads audits a Deployment whose three containers name one image
// through two references (one mapped to a copy of the layout): the image
// is audited once, and its facts (setuid file, file capabilities, VOLUME)
// reach every container's cross-checks.
func TestWorkloads(t *testing.T) {
	img, err := it.Image(v1.Config{User: "1000", Entrypoint: []string{"/app"}, Volumes: map[string]struct{}{"/data": {}}},
		it.Step("COPY . /",
			it.File("app", 0o755, it.ELF("", 0)),
			it.Owned(it.File("usr/bin/su", 0o4755, it.ELF("", 0)), 0, 0),
			it.Xattr(it.File("usr/bin/ping", 0o755, it.ELF("", 0)), "security.capability", it.CapSetuidDacOverride)))
	if err != nil {
		t.Fatal(err)
	}
	dir := it.WriteLayout(t, img)
	copyDir := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	var done atomic.Int32
	o := audit.DefaultOptions()
	o.Progress = func(e audit.Event) {
		if e.Done {
			done.Add(1)
		}
	}
	wo := audit.WorkloadOptions{
		Stdin:    strings.NewReader(workloadManifest),
		ImageMap: map[string]string{"example.com/web:1": "oci:" + dir, "example.com/copy:1": "oci:" + copyDir},
	}
	r, err := audit.Workloads(context.Background(), []string{"-"}, wo, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Images) != 1 || done.Load() != 1 || len(r.Images[0].AlsoKnownAs) != 1 {
		t.Fatalf("%d images, %d audits, also known as %v: want the one image audited once", len(r.Images), done.Load(), r.Images[0].AlsoKnownAs)
	}
	if len(r.Workloads) != 1 || len(r.Workloads[0].Containers) != 3 {
		t.Fatalf("workloads %+v", r.Workloads)
	}
	byName := map[string]report.Container{}
	for _, c := range r.Workloads[0].Containers {
		byName[c.Name] = c
		if c.Image.Digest != r.Images[0].Digest || c.Image.Error != "" {
			t.Errorf("%s: image %+v", c.Name, c.Image)
		}
	}
	if !byName["init"].Init || byName["web"].Init {
		t.Error("init flags")
	}
	has := func(c string, id, path string, mitigated bool) {
		t.Helper()
		if !slices.ContainsFunc(byName[c].Findings, func(f report.Finding) bool {
			return f.ID == id && f.Path == path && f.Mitigated == mitigated
		}) {
			t.Errorf("%s: no %s %s (mitigated %v) in %+v", c, id, path, mitigated, byName[c].Findings)
		}
	}
	has("init", "IW-SETUID-ESCALATION", "/usr/bin/su", false)
	has("init", "IW-FILECAP-ESCALATION", "/usr/bin/ping", false)
	has("web", "IW-EXEC-FILE-CAPABILITY", "/usr/bin/ping", false)
	has("web", "IW-READONLY-IMAGE-VOLUME", "/data", false)
	has("copy", "IW-SETUID-ESCALATION", "/usr/bin/su", true)
	has("copy", "IW-FILE-CAPABILITY-NNP", "/usr/bin/ping", false)
	if lvl := byName["web"].PodSecurity.Level; lvl != "baseline" {
		t.Errorf("web podSecurity %q", lvl)
	}
}

// TestWorkloadsUnauditableImage: a reference that cannot be opened leaves
// its container with an image error and the run incomplete.
func TestWorkloadsUnauditableImage(t *testing.T) {
	wo := audit.WorkloadOptions{Stdin: strings.NewReader(workloadManifest),
		ImageMap: map[string]string{"example.com/web:1": "oci:" + filepath.Join(t.TempDir(), "none"), "example.com/copy:1": "oci:" + filepath.Join(t.TempDir(), "none")}}
	r, err := audit.Workloads(context.Background(), []string{"-"}, wo, audit.DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), audit.ErrIncomplete.Error()) || r == nil {
		t.Fatalf("err %v", err)
	}
	for _, c := range r.Workloads[0].Containers {
		if c.Image.Error == "" || len(c.Findings) != 0 {
			t.Errorf("%s: %+v", c.Name, c)
		}
	}
}

// BenchmarkWorkloads audits 500 Deployments over 50 distinct images (OCI
// layouts passed through ImageMap): each image is audited once, cold (empty
// layer cache) and warm (every layer in a disk cache). The warm figure less
// the images' own audit is the per-workload overhead.
func BenchmarkWorkloads(b *testing.B) {
	imageMap := map[string]string{}
	for i := range 50 {
		img, err := it.Image(v1.Config{User: "app"}, it.Step("COPY . /",
			it.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
			it.File("bin/sh", 0o755, it.ELF("", 64)), it.Owned(it.File("usr/bin/su", 0o4755, it.ELF("", 64)), 0, 0),
			it.Text(fmt.Sprintf("app/%d", i), "x")))
		if err != nil {
			b.Fatal(err)
		}
		imageMap[fmt.Sprintf("example.com/app%02d:1", i)] = "oci:" + it.WriteLayout(b, img)
	}
	var in strings.Builder
	for i := range 500 {
		fmt.Fprintf(&in, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web%d}\nspec:\n  template:\n    spec:\n"+
			"      securityContext: {runAsNonRoot: true}\n      containers:\n      - name: app\n        image: example.com/app%02d:1\n---\n", i, i%50)
	}
	run := func(b *testing.B, cache layers.Cache) {
		o := audit.DefaultOptions()
		o.Cache = cache
		wo := audit.WorkloadOptions{Stdin: strings.NewReader(in.String()), ImageMap: imageMap}
		r, err := audit.Workloads(context.Background(), []string{"-"}, wo, o)
		if err != nil || len(r.Images) != 50 || len(r.Workloads) != 500 {
			b.Fatalf("%v: %d images, %d workloads", err, len(r.Images), len(r.Workloads))
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			cache, _ := layers.NewDiskCache(b.TempDir(), 0)
			run(b, cache)
		}
	})
	b.Run("warm", func(b *testing.B) {
		cache, _ := layers.NewDiskCache(b.TempDir(), 0)
		run(b, cache)
		for b.Loop() {
			run(b, cache)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*500), "µs/workload")
	})
	// The same 50 images through Run, warm: what the workloads add is the
	// difference.
	b.Run("images-only-warm", func(b *testing.B) {
		cache, _ := layers.NewDiskCache(b.TempDir(), 0)
		var refs []string
		for _, ref := range imageMap {
			refs = append(refs, ref)
		}
		o := audit.DefaultOptions()
		o.Cache = cache
		runImages := func() {
			if r, err := audit.Run(context.Background(), refs, o); err != nil || len(r.Images) != 50 {
				b.Fatal(err)
			}
		}
		runImages()
		for b.Loop() {
			runImages()
		}
	})
}

// TestWorkloadsDirectoryWithChart: a directory searched for manifests may
// hold a Helm chart's sources (templates, Chart.yaml, values.yaml): the
// chart is left out with a warning naming it, the manifests beside it are
// read, and a chart given itself is an error naming it.
func TestWorkloadsDirectoryWithChart(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"deploy/app.yaml":                      strings.ReplaceAll(workloadManifest, "example.com/", "unused.invalid/"),
		"deploy/chart/Chart.yaml":              "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"deploy/chart/values.yaml":             "image: {repository: x}\n",
		"deploy/chart/templates/deploy.yaml":   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
		"deploy/chart/charts/sub/Chart.yaml":   "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"deploy/chart/charts/sub/values.yaml":  "a: 1\n",
		"deploy/notchart/values.yaml/keep.txt": "a directory named like a manifest",
	}
	for p, body := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := audit.DefaultOptions()
	none := "oci:" + filepath.Join(dir, "none") // no network: the images fail at once
	wo := audit.WorkloadOptions{ImageMap: map[string]string{"unused.invalid/web:1": none, "unused.invalid/copy:1": none}}
	r, err := audit.Workloads(context.Background(), []string{filepath.Join(dir, "deploy")}, wo, o)
	if r == nil {
		t.Fatal(err)
	}
	if len(r.Workloads) != 1 || r.Workloads[0].Name != "web" {
		t.Errorf("workloads %+v, want web alone", r.Workloads)
	}
	chart := filepath.Join(dir, "deploy", "chart")
	if len(r.Warnings) != 1 || r.Warnings[0].Kind != audit.WarningHelmChart || !strings.HasPrefix(r.Warnings[0].Message, chart+": ") {
		t.Errorf("warnings %+v, want one naming %s", r.Warnings, chart)
	}
	if _, err := audit.Workloads(context.Background(), []string{chart}, wo, o); err == nil || !strings.Contains(err.Error(), chart+" is a Helm chart") {
		t.Errorf("the chart itself: %v", err)
	}
}
