package workload

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/internal/kubetest"
)

// lineOf is the 1-based line of the first line of out containing s.
func lineOf(t *testing.T, out []byte, s string) int {
	t.Helper()
	for i, l := range bytes.Split(out, []byte("\n")) {
		if bytes.Contains(l, []byte(s)) {
			return i + 1
		}
	}
	t.Fatalf("no %q in:\n%s", s, out)
	return 0
}

// TestKubectlDryRun decodes what the real kubectl generates, run live:
// `kubectl create deployment|cronjob … --dry-run=client -o yaml` (offline)
// and `kubectl run … --dry-run=client -o yaml` (which maps the resource
// through discovery: kubetest's server on 127.0.0.1 answers it). Only flags
// kubectl 1.20 (Debian's kubernetes-client) knows are used.
func TestKubectlDryRun(t *testing.T) {
	srv := kubetest.Start(t, nil)
	t.Logf("kubectl %s", srv.Version(t))

	deploy := srv.Kubectl(t, "create", "deployment", "web", "--image=registry.example.com/shop/web:1.0", "--dry-run=client", "-o", "yaml")
	cron := srv.Kubectl(t, "create", "cronjob", "backup", "--image=registry.example.com/ops/backup:2", "--schedule=0 3 * * *", "--dry-run=client", "-o", "yaml", "--", "/bin/backup", "--all")
	pod := srv.Kubectl(t, "run", "debug", "--image=busybox:1.36", "--restart=Never", "--labels=app=debug", "--dry-run=client", "-o", "yaml", "--", "sleep", "3600")

	for _, tc := range []struct {
		name string
		out  []byte
		want []wantWorkload
	}{
		{"create deployment", deploy, []wantWorkload{{Kind: "Deployment", Name: "web", Line: 1, Containers: []wantContainer{
			{Regular, "web", "registry.example.com/shop/web:1.0", lineOf(t, deploy, "- image: registry.example.com/shop/web:1.0")}}}}},
		{"create cronjob", cron, []wantWorkload{{Kind: "CronJob", Name: "backup", Line: 1, Containers: []wantContainer{
			{Regular, "backup", "registry.example.com/ops/backup:2", lineOf(t, cron, "- command:")}}}}},
		{"run", pod, []wantWorkload{{Kind: "Pod", Name: "debug", Line: 1, Containers: []wantContainer{
			{Regular, "debug", "busybox:1.36", lineOf(t, pod, "- args:")}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := decodeString(t, "-", string(tc.out))
			if d := cmp.Diff(tc.want, summarize(s)); d != "" {
				t.Fatalf("(-want +got):\n%s\n%s", d, tc.out)
			}
			if s.Documents != 1 || len(s.Skipped) != 0 {
				t.Errorf("%d documents, skipped %v", s.Documents, s.Skipped)
			}
			// Nothing in a generated spec hardens it: every container
			// runs as the image says, with the runtime's defaults.
			e := s.Workloads[0].Effective(0)
			if e.RunAsNonRoot || e.RunAsUser != nil || e.NoNewPrivs || e.ReadOnlyRootFilesystem || e.Bounding != DefaultCapabilities ||
				e.Seccomp.Type != "" || !e.Pod.AutomountToken || e.Pod.ServiceAccount != "default" {
				t.Errorf("effective %+v", e)
			}
		})
	}
	e := decodeString(t, "-", string(cron)).Workloads[0].Effective(0)
	if !slices.Equal(e.Command, []string{"/bin/backup", "--all"}) {
		t.Errorf("cronjob command %q", e.Command)
	}
	e = decodeString(t, "-", string(pod)).Workloads[0].Effective(0)
	if e.Command != nil || !slices.Equal(e.Args, []string{"sleep", "3600"}) {
		t.Errorf("run: command %q args %q (kubectl run passes what follows -- as args)", e.Command, e.Args)
	}
	var ids []string
	for _, f := range CrossCheck(e, ImageFacts{Reference: "busybox:1.36", Entrypoint: nil, Cmd: []string{"sh"}}) {
		ids = append(ids, f.ID)
	}
	if want := []string{"IW-EFFECTIVE-ROOT", "IW-ALLOW-PRIVILEGE-ESCALATION", "IW-CAPS-NOT-DROPPED", "IW-SECCOMP-UNCONFINED", "IW-WRITABLE-ROOT", "IW-SA-TOKEN", "IW-MUTABLE-REFERENCE"}; !slices.Equal(ids, want) {
		t.Errorf("kubectl run over a root image: %v, want %v", ids, want)
	}
	if reqs := srv.Requests(); slices.ContainsFunc(reqs, func(r string) bool { return !strings.HasPrefix(r, "GET /") }) {
		t.Errorf("kubectl wrote to the server: %v", reqs)
	}
	t.Logf("requests: %v", srv.Requests())
}
