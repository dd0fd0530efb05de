package cli_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// setuidDeployment runs an image with a setuid file, escalation allowed.
const setuidDeployment = `apiVersion: v1
kind: Service
metadata: {name: su, namespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: su, namespace: shop}
spec:
  selector: {matchLabels: {app: su}}
  template:
    metadata: {labels: {app: su}}
    spec:
      securityContext: {runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: registry.example.com/su:1.0
        securityContext: {capabilities: {drop: [ALL]}}
`

// TestWorkloadReportsAndPolicy: the policy's ignores and disables apply to
// the IW-* checks (a suppressed start failure no longer fails the gate),
// unknown IW-* IDs are refused, the image facts survive a policy that
// disables the image checks they come from, packages are not catalogued
// unless asked, and jsonl and the table carry the workload lines, counts
// and skipped kinds.
func TestWorkloadReportsAndPolicy(t *testing.T) {
	named, _, _ := workloadImages(t)
	img, err := imagetest.Image(v1.Config{User: "1000", Entrypoint: []string{"/app"}},
		imagetest.Step("COPY . /", imagetest.File("app", 0o755, imagetest.ELF("", 0)),
			imagetest.Owned(imagetest.File("usr/bin/su", 0o4755, imagetest.ELF("", 0)), 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	su := "oci:" + imagetest.WriteLayout(t, img)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	namedFile := write("named.yaml", namedDeployment)
	suFile := write("su.yaml", setuidDeployment)
	maps := []string{"--image-map", "registry.example.com/app:1.0=" + named, "--image-map", "registry.example.com/su:1.0=" + su}
	run := func(t *testing.T, pol string, args ...string) result {
		t.Helper()
		pf := write("policy.yaml", pol)
		return runEnv(t, cli.Env{Dir: dir}, append(append([]string{"workload", "--no-cache", "-q", "--policy", pf}, maps...), args...)...)
	}

	t.Run("ignore by check and workload", func(t *testing.T) {
		r := run(t, `ignore:
  - check: IW-START-NONNUMERIC-USER
    workload: shop/named
    container: app
    reason: the kubelet of this cluster resolves names
`, "-f", "json", namedFile)
		if r.code != 0 {
			t.Fatalf("exit %d, want 0; stderr %q", r.code, r.stderr)
		}
		rep := decode(t, r.stdout)
		f := findingOf(t, rep.Workloads[0].Containers[0], "IW-START-NONNUMERIC-USER")
		if f.Suppressed == nil || f.Suppressed.Reason != "the kubelet of this cluster resolves names" || !strings.HasSuffix(f.Suppressed.Policy, "policy.yaml:2") {
			t.Errorf("finding %+v", f)
		}
		if s := rep.Summary.Workloads; s == nil || s.Suppressed != 1 || s.Workloads != 1 || s.Containers != 1 {
			t.Errorf("summary %+v", s)
		}
		if rep.Workloads[0].Containers[0].SecurityContext == nil || !rep.Workloads[0].Containers[0].SecurityContext.RunAsNonRoot {
			t.Errorf("no effective security context: %+v", rep.Workloads[0].Containers[0])
		}
		if len(rep.Images) != 1 || rep.Images[0].SBOM != nil {
			t.Errorf("packages catalogued without --sbom: %+v", rep.Images)
		}
	})

	t.Run("ignore for another workload does not apply", func(t *testing.T) {
		r := run(t, "ignore:\n  - check: IW-START-NONNUMERIC-USER\n    workload: prod/*\n    reason: r\n", "-f", "json", namedFile)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
		}
	})

	t.Run("unknown IW check is an error", func(t *testing.T) {
		r := run(t, "disable:\n  checks: [IW-START-NONUMERIC-USER]\n", namedFile)
		if r.code != 2 || !strings.Contains(r.stderr, `unknown check "IW-START-NONUMERIC-USER"`) {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("facts survive disabled image checks", func(t *testing.T) {
		r := run(t, "disable:\n  checks: [IA-SETUID]\n", "-f", "json", suFile)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
		}
		rep := decode(t, r.stdout)
		for _, f := range rep.Images[0].Findings {
			if f.ID == "IA-SETUID" {
				t.Errorf("disabled IA-SETUID reported: %+v", f)
			}
		}
		if f := findingOf(t, rep.Workloads[0].Containers[0], "IW-SETUID-ESCALATION"); f.Path != "/usr/bin/su" || f.Mitigated {
			t.Errorf("finding %+v", f)
		}
		if len(rep.Skipped) != 1 || rep.Skipped[0] != (report.SkippedKind{Kind: "Service", Count: 1}) {
			t.Errorf("skipped %+v", rep.Skipped)
		}
	})

	t.Run("table footer", func(t *testing.T) {
		r := run(t, "ignore:\n  - check: IW-SA-TOKEN\n    reason: r\n", suFile)
		if r.code != 1 {
			t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
		}
		for _, want := range []string{"Findings: 1 high, 1 medium, 1 low in 1 container of 1 workload; 1 suppressed by policy", "Skipped: 1 Service",
			"(1 finding suppressed by policy; --show-suppressed lists them)"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("table lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("jsonl streams images, then workloads, then the summary", func(t *testing.T) {
		r := run(t, "", "-f", "jsonl", namedFile, suFile)
		if r.code != 1 {
			t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
		}
		var keys []string
		sc := bufio.NewScanner(strings.NewReader(r.stdout))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, sc.Bytes())
			}
			for _, k := range []string{"image", "workload", "summary"} {
				if _, ok := line[k]; ok {
					keys = append(keys, k)
				}
			}
			if raw, ok := line["summary"]; ok {
				var s report.Summary
				if err := json.Unmarshal(raw, &s); err != nil || s.Workloads == nil || s.Workloads.Workloads != 2 {
					t.Errorf("summary %s (%v)", raw, err)
				}
			}
		}
		if got := strings.Join(keys, " "); got != "image image workload workload summary" {
			t.Errorf("lines %q:\n%s", got, r.stdout)
		}
	})

	t.Run("sbom flags", func(t *testing.T) {
		r := run(t, "", "--sbom", "--no-sbom", namedFile)
		if r.code != 2 || !strings.Contains(r.stderr, "--sbom and --no-sbom cannot be used together") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		r = run(t, "", "-f", "json", "--sbom", namedFile)
		if r.code != 1 {
			t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
		}
		if rep := decode(t, r.stdout); rep.Images[0].SBOM == nil {
			t.Error("--sbom catalogued nothing")
		}
	})
}

// TestChecksListsWorkloadChecks: the catalogue command lists the IW-*
// checks a policy may name, and its markdown is docs/checks.md.
func TestChecksListsWorkloadChecks(t *testing.T) {
	r := runEnv(t, cli.Env{}, "checks")
	if r.code != 0 || !strings.Contains(r.stdout, "IW-SETUID-ESCALATION") || !strings.Contains(r.stdout, "IA-SETUID") {
		t.Errorf("exit %d:\n%s", r.code, r.stdout)
	}
	r = runEnv(t, cli.Env{}, "checks", "--format", "markdown")
	want, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || r.stdout != string(want) {
		t.Errorf("imgaudit checks --format markdown differs from docs/checks.md (exit %d)", r.code)
	}
}
