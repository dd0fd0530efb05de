package cli_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/workloadtest"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// helmRendered is `helm template demo chart` (helm v4.3.2) of the chart in
// testdata/workloads/helm, whose README gives the command.
const helmRendered = "../../testdata/workloads/helm/demo.rendered.yaml"

// TestWorkloadHelmTemplate audits the real output of helm template: a
// ServiceAccount (automountServiceAccountToken: false), a Service and a
// ConfigMap (skipped), a Deployment with an init container and a CronJob
// whose securityContexts come from values.yaml through {{ include }} and
// toYaml, each document after helm's "---" and "# Source:" lines. Each
// workload is at the line where its object starts (apiVersion, then kind),
// each container at its entry; the API image is root but runs as
// runAsUser 10001 from values (mitigated), the backup image's setuid files
// can escalate (the values leave allowPrivilegeEscalation unset).
func TestWorkloadHelmTemplate(t *testing.T) {
	images, err := workloadtest.Images()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(helmRendered)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	lineOf := func(s string, from int) int {
		t.Helper()
		for i := from; i < len(lines); i++ {
			if lines[i] == s {
				return i + 1
			}
		}
		t.Fatalf("%s: no line %q after line %d", helmRendered, s, from)
		return 0
	}
	const backupRef = "registry.example.com/demo/backup@sha256:0000000000000000000000000000000000000000000000000000000000000000"
	r := runEnv(t, cli.Env{}, "workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json",
		"--image-map", "registry.example.com/demo/api:1.4.2=oci:"+imagetest.WriteLayout(t, images["root"]),
		"--image-map", backupRef+"=oci:"+imagetest.WriteLayout(t, images["setuid"]),
		helmRendered)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (the backup's setuid files)\nstderr: %s", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	if len(rep.Workloads) != 2 || len(rep.Images) != 2 {
		t.Fatalf("%d workloads, %d images; want 2 and 2", len(rep.Workloads), len(rep.Images))
	}
	deploy, cron := rep.Workloads[0], rep.Workloads[1]
	deployLine := lineOf("kind: Deployment", 0) - 1
	cronLine := lineOf("kind: CronJob", 0) - 1
	if deploy.Kind != "Deployment" || deploy.Name != "demo" || deploy.File != helmRendered || deploy.Line != deployLine || lines[deployLine-1] != "apiVersion: apps/v1" {
		t.Errorf("deployment %s %s at %s:%d, want line %d (%q)", deploy.Kind, deploy.Name, deploy.File, deploy.Line, deployLine, lines[deployLine-1])
	}
	if cron.Kind != "CronJob" || cron.Name != "demo-backup" || cron.Line != cronLine || lines[cronLine-1] != "apiVersion: batch/v1" {
		t.Errorf("cronjob %s %s at line %d, want line %d", cron.Kind, cron.Name, cron.Line, cronLine)
	}
	if lines[deployLine-2] != "# Source: demo/templates/deployment.yaml" || lines[deployLine-3] != "---" {
		t.Errorf("the fixture is not helm's layout around line %d", deployLine)
	}

	type want struct {
		name        string
		init        bool
		line        int
		ids         []string
		mitigated   []string
		podSecurity string
	}
	check := func(wl string, got []report.Container, wants []want) {
		t.Helper()
		if len(got) != len(wants) {
			t.Fatalf("%s: %d containers, want %d", wl, len(got), len(wants))
		}
		for i, w := range wants {
			c := got[i]
			var ids, mitigated []string
			for _, f := range c.Findings {
				if f.Mitigated {
					mitigated = append(mitigated, f.ID)
				} else {
					ids = append(ids, f.ID)
				}
			}
			if c.Name != w.name || c.Init != w.init || c.Line != w.line || !slices.Equal(ids, w.ids) || !slices.Equal(mitigated, w.mitigated) ||
				c.PodSecurity.Level != w.podSecurity {
				t.Errorf("%s/%s (init %v) at line %d: findings %v, mitigated %v, PSS %s; want %+v", wl, c.Name, c.Init, c.Line, ids, mitigated, c.PodSecurity.Level, w)
			}
		}
	}
	api := []string{"IW-MUTABLE-REFERENCE"}
	check("demo", deploy.Containers, []want{
		{"migrate", true, lineOf("        - name: migrate", deployLine), api, []string{"IW-ROOT-IMAGE"}, "restricted"},
		{"demo", false, lineOf("        - name: demo", deployLine), api, []string{"IW-ROOT-IMAGE"}, "restricted"},
	})
	check("demo-backup", cron.Containers, []want{
		{"backup", false, lineOf("            - name: backup", cronLine),
			[]string{"IW-SETUID-ESCALATION", "IW-SETUID-ESCALATION", "IW-CAPS-NOT-DROPPED", "IW-SECCOMP-UNCONFINED"}, nil, "baseline"},
	})
	if g := deploy.Gate; g == nil || g.Verdict != report.Pass {
		t.Errorf("deployment gate %+v", g)
	}
	if g := cron.Gate; g == nil || g.Verdict != report.Fail {
		t.Errorf("cronjob gate %+v", g)
	}
}
