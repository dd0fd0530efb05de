package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// workloadImages builds the images the workload tests run, each as an OCI
// layout: one whose USER is the name app (uid 1000 in /etc/passwd), one
// that runs as root (no USER), and one whose entrypoint carries file
// capabilities with the effective bit (setcap cap_setuid,cap_dac_override=ep).
func workloadImages(t *testing.T) (named, root, filecap string) {
	t.Helper()
	passwd := imagetest.Text("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/home/app:/sbin/nologin\n")
	build := func(cfg v1.Config, items ...imagetest.Item) string {
		img, err := imagetest.Image(cfg, imagetest.Step("COPY . /", items...))
		if err != nil {
			t.Fatal(err)
		}
		return "oci:" + imagetest.WriteLayout(t, img)
	}
	named = build(v1.Config{User: "app", Entrypoint: []string{"/app"}}, passwd, imagetest.File("app", 0o755, imagetest.ELF("", 0)))
	root = build(v1.Config{Entrypoint: []string{"/app"}}, passwd, imagetest.File("app", 0o755, imagetest.ELF("", 0)))
	filecap = build(v1.Config{User: "1000", Entrypoint: []string{"/usr/bin/server"}}, passwd,
		imagetest.Xattr(imagetest.File("usr/bin/server", 0o755, imagetest.ELF("", 0)), "security.capability", imagetest.CapSetuidDacOverride))
	return named, root, filecap
}

const namedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: named
  namespace: shop
spec:
  selector: {matchLabels: {app: named}}
  template:
    metadata: {labels: {app: named}}
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
      - name: app
        image: registry.example.com/app:1.0
`

const mitigatedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: mitigated
  namespace: shop
spec:
  selector: {matchLabels: {app: mitigated}}
  template:
    metadata: {labels: {app: mitigated}}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
      - name: app
        image: registry.example.com/root:1.0
      - name: sidecar
        image: registry.example.com/root:1.0
`

func findingIDs(c report.Container, mitigated bool) []string {
	var ids []string
	for _, f := range c.Findings {
		if f.Mitigated == mitigated {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

func findingOf(t *testing.T, c report.Container, id string) report.Finding {
	t.Helper()
	for _, f := range c.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("container %s has no %s finding: %v", c.Name, id, c.Findings)
	return report.Finding{}
}

// TestWorkloadCLI audits two Deployments (files in a directory) against
// images built in the test and passed with --image-map: a named USER under
// runAsNonRoot is a predicted start failure (exit 1); a root image run with
// runAsUser is a mitigated finding that does not fail the gate (exit 0).
func TestWorkloadCLI(t *testing.T) {
	named, root, _ := workloadImages(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	namedFile := write("named.yaml", namedDeployment)
	mitigatedFile := write("mitigated.yml", mitigatedDeployment)
	maps := []string{"--image-map", "registry.example.com/app:1.0=" + named, "--image-map", "registry.example.com/root:1.0=" + root}
	base := append([]string{"workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json"}, maps...)

	t.Run("directory: start failure fails the gate", func(t *testing.T) {
		r := runEnv(t, cli.Env{Dir: dir}, append(base, dir)...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
		}
		rep := decode(t, r.stdout)
		if len(rep.Images) != 2 || len(rep.Workloads) != 2 {
			t.Fatalf("%d images, %d workloads; want 2 and 2 (each distinct image once)", len(rep.Images), len(rep.Workloads))
		}
		// WalkDir order: mitigated.yml, then named.yaml.
		w := rep.Workloads[1]
		if w.Kind != "Deployment" || w.Namespace != "shop" || w.Name != "named" || w.File != namedFile || w.Line != 1 {
			t.Errorf("workload %+v", w)
		}
		c := w.Containers[0]
		if c.Name != "app" || c.Init || c.Image.Reference != "registry.example.com/app:1.0" || !strings.HasPrefix(c.Image.Digest, "sha256:") {
			t.Errorf("container %+v", c)
		}
		if c.PodSecurity.Level != "baseline" || len(c.PodSecurity.Violations) == 0 {
			t.Errorf("podSecurity %+v", c.PodSecurity)
		}
		f := findingOf(t, c, "IW-START-NONNUMERIC-USER")
		if f.Category != "start-failure" || f.Severity != report.High || f.Mitigated || !strings.Contains(f.Detail, "non-numeric user (app)") {
			t.Errorf("finding %+v", f)
		}
		if w.Gate == nil || w.Gate.Verdict != report.Fail {
			t.Errorf("gate %+v", w.Gate)
		}
		if rep.Gate == nil || rep.Gate.Verdict != report.Fail || rep.Gate.FailOn != report.High.String() {
			t.Errorf("run gate %+v", rep.Gate)
		}
		if !strings.Contains(r.stdout, `"mitigated": true`) || strings.Contains(r.stdout, `"mitigated": false`) {
			t.Errorf("mitigated must be present only when true")
		}
	})

	t.Run("mitigated root image passes", func(t *testing.T) {
		r := runEnv(t, cli.Env{Dir: dir}, append(base, mitigatedFile)...)
		if r.code != 0 {
			t.Fatalf("exit %d, want 0; stderr %q\n%s", r.code, r.stderr, r.stdout)
		}
		rep := decode(t, r.stdout)
		if len(rep.Images) != 1 || len(rep.Workloads) != 1 || len(rep.Workloads[0].Containers) != 2 {
			t.Fatalf("report %+v", rep)
		}
		for _, c := range rep.Workloads[0].Containers {
			f := findingOf(t, c, "IW-ROOT-IMAGE")
			if !f.Mitigated || f.Category != "effective-root" || f.Severity != report.High {
				t.Errorf("%s: %+v", c.Name, f)
			}
			if ids := findingIDs(c, false); slices.Contains(ids, "IW-EFFECTIVE-ROOT") || slices.ContainsFunc(ids, func(s string) bool { return strings.HasPrefix(s, "IW-START-") }) {
				t.Errorf("%s: unmitigated %v", c.Name, ids)
			}
		}
		if g := rep.Workloads[0].Gate; g == nil || g.Verdict != report.Pass {
			t.Errorf("gate %+v", g)
		}
	})

	t.Run("fail-on applies", func(t *testing.T) {
		r := runEnv(t, cli.Env{Dir: dir}, append(base, "--fail-on", "low", mitigatedFile)...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1 (IW-SECCOMP-UNCONFINED is medium)", r.code)
		}
	})

	t.Run("an image that cannot be audited is incomplete", func(t *testing.T) {
		args := []string{"workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json",
			"--image-map", "registry.example.com/app:1.0=oci:" + filepath.Join(dir, "missing"), namedFile}
		r := runEnv(t, cli.Env{Dir: dir}, args...)
		if r.code != 2 {
			t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
		}
		rep := decode(t, r.stdout)
		c := rep.Workloads[0].Containers[0]
		if c.Image.Error == "" || len(c.Findings) != 0 || rep.Workloads[0].Gate.Verdict != report.Incomplete || rep.Gate.Verdict != report.Incomplete {
			t.Errorf("container %+v gate %+v", c, rep.Workloads[0].Gate)
		}
	})

	t.Run("table groups by workload", func(t *testing.T) {
		r := runEnv(t, cli.Env{Dir: dir}, append(append([]string{"workload", "--no-cache", "--no-sbom", "--no-policy", "-q"}, maps...), namedFile, mitigatedFile)...)
		if r.code != 1 {
			t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
		}
		for _, want := range []string{"Workload: Deployment shop/named", "IW-START-NONNUMERIC-USER", "Workload: Deployment shop/mitigated", "(mitigated)", "Verdict: FAIL", "Verdict: PASS"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("table lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("sarif locates findings at the container line", func(t *testing.T) {
		sarifFile := filepath.Join(t.TempDir(), "out.sarif")
		r := runEnv(t, cli.Env{Dir: dir}, append(append([]string{"workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json", "-o", "sarif=" + sarifFile}, maps...), namedFile, mitigatedFile)...)
		if r.code != 1 {
			t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
		}
		b, err := os.ReadFile(sarifFile)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Runs []struct {
				Results []struct {
					RuleID    string `json:"ruleId"`
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
							Region           struct{ StartLine int } `json:"region"`
						} `json:"physicalLocation"`
					} `json:"locations"`
					Suppressions []struct{ Justification string } `json:"suppressions"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		found, suppressed := false, 0
		for _, res := range doc.Runs[0].Results {
			loc := res.Locations[0].PhysicalLocation
			if res.RuleID == "IW-START-NONNUMERIC-USER" {
				found = loc.ArtifactLocation.URI == "file://"+namedFile && loc.Region.StartLine == 14
			}
			if res.RuleID == "IW-ROOT-IMAGE" && len(res.Suppressions) == 1 {
				suppressed++
			}
		}
		if !found || suppressed != 2 {
			t.Errorf("start failure located %v, %d mitigated findings suppressed (want 2):\n%s", found, suppressed, b)
		}
	})

	t.Run("markdown groups by workload", func(t *testing.T) {
		r := runEnv(t, cli.Env{Dir: dir}, append(append([]string{"workload", "--no-cache", "--no-policy", "-q", "-f", "markdown"}, maps...), namedFile, mitigatedFile)...)
		if r.code != 1 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		for _, want := range []string{"## imgaudit workload report", "❌ **FAIL**: 1 of 2 workloads has findings at or above `high`.",
			"- Deployment `shop/named`: IW-START-NONNUMERIC-USER: 1 high finding", "### ✅ Deployment `shop/mitigated`", "| mitigated |"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("markdown lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("malformed manifest names file and line", func(t *testing.T) {
		bad := write("bad.yaml", namedDeployment+"---\nkind: Pod\nspec: [\n")
		r := runEnv(t, cli.Env{Dir: dir}, append(base, bad)...)
		if r.code != 2 || !strings.Contains(r.stderr, bad+":") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestWorkloadStdinList reads a kind: List (what kubectl get -o yaml
// prints) from standard input: a Pod whose entrypoint has file
// capabilities with the effective bit, run with drop: [ALL].
func TestWorkloadStdinList(t *testing.T) {
	_, _, filecap := workloadImages(t)
	list := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: server
    namespace: default
  spec:
    containers:
    - name: server
      image: registry.example.com/server@sha256:0000000000000000000000000000000000000000000000000000000000000000
      securityContext:
        capabilities:
          drop: [ALL]
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: skipped
`
	ref := "registry.example.com/server@sha256:0000000000000000000000000000000000000000000000000000000000000000"
	r := runEnv(t, cli.Env{Dir: t.TempDir(), Stdin: strings.NewReader(list)},
		"workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json", "--image-map", ref+"="+filecap, "-")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	if len(rep.Workloads) != 1 {
		t.Fatalf("%d workloads", len(rep.Workloads))
	}
	w := rep.Workloads[0]
	if w.Kind != "Pod" || w.Name != "server" || w.File != "-" || w.Line != 4 {
		t.Errorf("workload %+v", w)
	}
	f := findingOf(t, w.Containers[0], "IW-START-FILE-CAPABILITY")
	if f.Path != "/usr/bin/server" || f.Category != "start-failure" || !strings.Contains(f.Detail, "CAP_SETUID") {
		t.Errorf("finding %+v", f)
	}
	if ids := findingIDs(w.Containers[0], false); slices.Contains(ids, "IW-MUTABLE-REFERENCE") {
		t.Errorf("a digest reference is not mutable: %v", ids)
	}
}

// TestWorkloadReadmeExample keeps the README's worked example true: the
// api Deployment (runAsNonRoot over the root demo image) never starts and
// fails the gate; the worker (restricted, hardened image) passes.
func TestWorkloadReadmeExample(t *testing.T) {
	const worker = "registry.example.com/shop/worker@sha256:eefbc38cbf25e5ccc6a5e59e1c30c2abe8b26c74bb5b7694ea9ff88e9834b684"
	r := runEnv(t, cli.Env{}, "workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json",
		"--image-map", "registry.example.com/shop/api:1.0=oci:"+imagesDir+"/demo",
		"--image-map", worker+"=oci:"+imagesDir+"/hardened",
		"../../testdata/workloads/shop.yaml")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	if len(rep.Workloads) != 2 {
		t.Fatalf("%d workloads, want 2", len(rep.Workloads))
	}
	api, w := rep.Workloads[0], rep.Workloads[1]
	if f := findingOf(t, api.Containers[0], "IW-START-IMAGE-ROOT"); f.Category != "start-failure" || f.Mitigated {
		t.Errorf("api: %+v", f)
	}
	if w.Gate == nil || w.Gate.Verdict != report.Pass || w.Containers[0].PodSecurity.Level != "restricted" || len(w.Containers[0].Findings) != 0 {
		t.Errorf("worker: gate %+v, container %+v", w.Gate, w.Containers[0])
	}
	if w.Containers[0].Image.Digest != worker[len(worker)-71:] {
		t.Errorf("worker digest %s: the example image changed; update README and testdata/workloads/shop.yaml", w.Containers[0].Image.Digest)
	}
}
