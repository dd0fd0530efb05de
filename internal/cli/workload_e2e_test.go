package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/internal/workloadtest"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// workloadFlags are the flags every workload end-to-end run uses: no
// cache, SBOM or policy file of the machine's, JSON out.
var workloadFlags = []string{"workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json", "--insecure", "--retries", "0"}

// pushWorkloadImages pushes the cross-check table's images to reg as
// wl/NAME:1 and returns the references the manifests then use.
func pushWorkloadImages(t *testing.T, reg *registrytest.Registry) (workloadtest.Refs, map[string]v1.Image) {
	t.Helper()
	images, err := workloadtest.Images()
	if err != nil {
		t.Fatal(err)
	}
	refs := workloadtest.Refs{Repo: reg.Host + "/wl", Digests: map[string]string{}}
	for name, img := range images {
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		refs.Digests[name] = d.String()
		if err := remote.Write(reg.Ref(t, "wl/"+name+":1"), img, reg.RemoteOptions()...); err != nil {
			t.Fatal(err)
		}
	}
	return refs, images
}

// docLine is the 1-based line where the document of stream that declares
// kind and name starts.
func docLine(t *testing.T, stream, kind, name string) int {
	t.Helper()
	line := 1
	for _, doc := range strings.SplitAfter(stream, "---\n") {
		if strings.Contains(doc, "\nkind: "+kind+"\n") && (strings.Contains(doc, "name: "+name+"}") || strings.Contains(doc, "name: "+name+",") || strings.Contains(doc, "  name: "+name+"\n")) {
			return line
		}
		line += strings.Count(doc, "\n")
	}
	t.Fatalf("no %s %s in the stream", kind, name)
	return 0
}

// TestWorkloadRealRegistry runs imgaudit workload end to end: the
// cross-check table's images pushed to the real CNCF registry, its
// manifests (references by digest and by tag) in a file, the CLI's JSON
// read back. Every row's containers get exactly their findings, so every
// IW-* check fires through the registry and the CLI; exit 1 for the gate,
// 2 when a reference cannot be audited, 0 when only mitigated findings
// remain; --image-map audits an OCI layout in place of a reference.
// Without docker-registry it skips, or fails under CI (internal/e2e).
func TestWorkloadRealRegistry(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	refs, images := pushWorkloadImages(t, reg)
	rows := workloadtest.Rows()
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("every cross-check", func(t *testing.T) {
		stream := refs.Manifests(rows)
		file := write("table.yaml", stream)
		r := runEnv(t, cli.Env{Dir: dir}, append(workloadFlags, file)...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1 (the gate fails)\nstderr: %s", r.code, r.stderr)
		}
		rep := decode(t, r.stdout)
		if len(rep.Images) != len(images) {
			t.Errorf("%d images, want %d: each image once, whether named by tag or digest", len(rep.Images), len(images))
		}
		if len(rep.Workloads) != len(rows) {
			t.Fatalf("%d workloads, want %d", len(rep.Workloads), len(rows))
		}
		fired := map[string]bool{}
		for i, row := range rows {
			w := rep.Workloads[i]
			if w.Kind != row.Kind || w.Name != row.Name || w.File != file || w.Line != docLine(t, stream, row.Kind, row.Name) {
				t.Errorf("workload %d: %s %s at %s:%d, want %s %s at line %d", i, w.Kind, w.Name, w.File, w.Line, row.Kind, row.Name, docLine(t, stream, row.Kind, row.Name))
				continue
			}
			for _, c := range w.Containers {
				name := strings.TrimPrefix(c.Image.Reference, refs.Repo+"/")
				name, _, _ = strings.Cut(name, "@")
				name, _, _ = strings.Cut(name, ":")
				if c.Image.Error != "" || c.Image.Digest != refs.Digests[name] {
					t.Errorf("%s/%s: image %+v, want digest %s", row.Name, c.Name, c.Image, refs.Digests[name])
				}
				want, err := refs.Want(row, c.Name)
				if err != nil {
					t.Fatal(err)
				}
				got := []report.Finding{}
				for _, f := range c.Findings {
					got = append(got, workloadtest.Compared(f))
					fired[f.ID] = true
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s/%s (-want +got):\n%s", row.Name, c.Name, d)
				}
			}
			wantVerdict := report.Pass // at the default threshold, high
			for _, c := range w.Containers {
				for _, f := range c.Findings {
					if !f.Mitigated && f.Severity >= report.High {
						wantVerdict = report.Fail
					}
				}
			}
			if w.Gate == nil || w.Gate.Verdict != wantVerdict {
				t.Errorf("%s: gate %+v, want %s", row.Name, w.Gate, wantVerdict)
			}
		}
		var catalogue, got []string
		for _, c := range workload.Checks() {
			catalogue = append(catalogue, c.ID)
		}
		for id := range fired {
			got = append(got, id)
		}
		slices.Sort(got)
		if d := cmp.Diff(catalogue, got); d != "" {
			t.Errorf("checks fired end to end (-catalogue +fired):\n%s", d)
		}
		if rep.Gate == nil || rep.Gate.Verdict != report.Fail {
			t.Errorf("run gate %+v", rep.Gate)
		}
	})

	t.Run("only mitigated findings pass the strictest gate", func(t *testing.T) {
		var pass []workloadtest.Row
		for _, row := range rows {
			if slices.Contains([]string{"clean", "setuid-mitigated", "root-image-mitigated", "init-and-ephemeral"}, row.Name) {
				if row.Name == "init-and-ephemeral" {
					// Its ephemeral debug container runs as root: drop it.
					row.Manifest = row.Manifest[:strings.Index(row.Manifest, "  ephemeralContainers:")]
					delete(row.Want, "debug")
				}
				pass = append(pass, row)
			}
		}
		file := write("mitigated.yaml", refs.Manifests(pass))
		r := runEnv(t, cli.Env{Dir: dir}, append(workloadFlags, "--fail-on", "info", file)...)
		if r.code != 0 {
			t.Fatalf("exit %d, want 0\nstderr: %s\n%s", r.code, r.stderr, r.stdout)
		}
		rep := decode(t, r.stdout)
		mitigated := 0
		for _, w := range rep.Workloads {
			for _, c := range w.Containers {
				for _, f := range c.Findings {
					if !f.Mitigated {
						t.Errorf("%s/%s: unmitigated %s", w.Name, c.Name, f.ID)
					}
					mitigated++
				}
			}
			if w.Gate == nil || w.Gate.Verdict != report.Pass {
				t.Errorf("%s: gate %+v", w.Name, w.Gate)
			}
		}
		if len(rep.Workloads) != 4 || mitigated != 5 {
			t.Errorf("%d workloads, %d mitigated findings; want 4 and 5", len(rep.Workloads), mitigated)
		}
	})

	t.Run("a reference that cannot be audited is incomplete", func(t *testing.T) {
		missingTag := refs.Repo + "/hardened:missing"
		missingDigest := refs.Repo + "/hardened@sha256:" + strings.Repeat("0", 64)
		manifest := refs.Expand(`apiVersion: apps/v1
kind: Deployment
metadata: {name: present, namespace: shop}
spec:
  selector: {matchLabels: {app: present}}
  template:
    metadata: {labels: {app: present}}
    spec:
      containers:
      - name: app
        image: TAG(hardened)
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: absent, namespace: shop}
spec:
  selector: {matchLabels: {app: absent}}
  template:
    metadata: {labels: {app: absent}}
    spec:
      containers:
      - name: tag
        image: ` + missingTag + `
      - name: digest
        image: ` + missingDigest + `
      - name: present
        image: IMG(hardened)
`)
		file := write("absent.yaml", manifest)
		r := runEnv(t, cli.Env{Dir: dir}, append(workloadFlags, file)...)
		if r.code != 2 {
			t.Fatalf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
		}
		rep := decode(t, r.stdout)
		if len(rep.Workloads) != 2 {
			t.Fatalf("%d workloads", len(rep.Workloads))
		}
		present, absent := rep.Workloads[0], rep.Workloads[1]
		if present.Gate == nil || present.Gate.Verdict != report.Pass || len(present.Containers[0].Findings) == 0 {
			t.Errorf("present: gate %+v, findings %v (audited, findings below the gate)", present.Gate, present.Containers[0].Findings)
		}
		if absent.Gate == nil || absent.Gate.Verdict != report.Incomplete || rep.Gate == nil || rep.Gate.Verdict != report.Incomplete {
			t.Errorf("absent: gate %+v, run gate %+v: want incomplete", absent.Gate, rep.Gate)
		}
		for _, c := range absent.Containers[:2] {
			if c.Image.Error == "" || c.Image.Digest != "" || len(c.Findings) != 0 {
				t.Errorf("%s: %+v: want an image error and no findings", c.Name, c)
			}
		}
		if c := absent.Containers[2]; c.Image.Error != "" || c.Image.Digest != refs.Digests["hardened"] || len(c.Findings) == 0 {
			t.Errorf("present container of the absent workload: %+v", c)
		}
		if !strings.Contains(r.stderr, "hardened:missing") {
			t.Errorf("stderr does not name the missing tag: %q", r.stderr)
		}
	})

	t.Run("image-map audits an OCI layout in place of a reference", func(t *testing.T) {
		layout := imagetest.WriteLayout(t, images["capentry"])
		const built = "registry.example.com/shop/server:ci"
		manifest := refs.Expand(`apiVersion: v1
kind: Pod
metadata: {name: server, namespace: shop}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: server
    image: ` + built + `
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
  - name: sidecar
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`)
		file := write("mapped.yaml", manifest)
		r := runEnv(t, cli.Env{Dir: dir}, append(workloadFlags, "--image-map", built+"=oci:"+layout, file)...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\nstderr: %s", r.code, r.stderr)
		}
		rep := decode(t, r.stdout)
		srv, side := rep.Workloads[0].Containers[0], rep.Workloads[0].Containers[1]
		if srv.Image.Reference != built || srv.Image.Digest != refs.Digests["capentry"] {
			t.Errorf("server image %+v, want the layout's digest %s", srv.Image, refs.Digests["capentry"])
		}
		var ids []string
		for _, f := range srv.Findings {
			ids = append(ids, f.ID)
		}
		if want := []string{"IW-START-FILE-CAPABILITY", "IW-MUTABLE-REFERENCE"}; !slices.Equal(ids, want) {
			t.Errorf("server findings %v, want %v", ids, want)
		}
		if side.Image.Digest != refs.Digests["hardened"] || len(side.Findings) != 0 {
			t.Errorf("sidecar (from the registry): %+v", side)
		}
		var sources []string
		for _, img := range rep.Images {
			sources = append(sources, img.Source)
		}
		slices.Sort(sources)
		if want := []string{"oci", "registry"}; !slices.Equal(sources, want) {
			t.Errorf("image sources %v, want %v", sources, want)
		}
	})
}
