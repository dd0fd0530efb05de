package audit_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/report"
)

const factsManifest = `apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  securityContext: {runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: example.com/web:1
    securityContext:
      capabilities: {drop: [ALL]}
`

// TestWorkloadFactsIgnorePolicy: the image facts of the cross-checks come
// from the audit whatever checks the policy disables. With IA-SETUID,
// IA-SETGID and IA-FILE-CAPABILITY disabled the image report has none of
// their findings, and the container still gets IW-SETUID-ESCALATION for
// both files and the file-capability cross-check. The report also carries
// the skipped kinds, each container's effective security context and the
// workload summary.
func TestWorkloadFactsIgnorePolicy(t *testing.T) {
	img, err := it.Image(v1.Config{User: "1000", Entrypoint: []string{"/app"}},
		it.Step("COPY . /",
			it.File("app", 0o755, it.ELF("", 0)),
			it.Owned(it.File("usr/bin/su", 0o4755, it.ELF("", 0)), 0, 0),
			it.Owned(it.File("usr/bin/wall", 0o2755, it.ELF("", 0)), 0, 5),
			it.Xattr(it.File("usr/bin/ping", 0o755, it.ELF("", 0)), "security.capability", it.CapSetuidDacOverride)))
	if err != nil {
		t.Fatal(err)
	}
	dir := it.WriteLayout(t, img)
	o := audit.DefaultOptions()
	o.DisabledChecks = []string{"IA-SETUID", "IA-SETGID", "IA-FILE-CAPABILITY"}
	wo := audit.WorkloadOptions{Stdin: strings.NewReader(factsManifest), ImageMap: map[string]string{"example.com/web:1": "oci:" + dir}}
	r, err := audit.Workloads(context.Background(), []string{"-"}, wo, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Images[0].Findings {
		if slices.Contains(o.DisabledChecks, f.ID) {
			t.Errorf("disabled check reported in the image: %+v", f)
		}
	}
	c := r.Workloads[0].Containers[0]
	var got []string
	for _, f := range c.Findings {
		if f.Path != "" {
			got = append(got, f.ID+" "+f.Path)
		}
	}
	slices.Sort(got)
	want := []string{"IW-EXEC-FILE-CAPABILITY /usr/bin/ping", "IW-SETUID-ESCALATION /usr/bin/su", "IW-SETUID-ESCALATION /usr/bin/wall"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("file findings (-want +got):\n%s", d)
	}

	if d := cmp.Diff([]report.SkippedKind{{Kind: "Service", Count: 2}, {Kind: "ConfigMap", Count: 1}}, r.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("no effective security context")
	}
	uid := int64(1000)
	wantSC := report.SecurityContext{RunAsUser: &uid, ProcMount: "Default",
		Capabilities:   report.Capabilities{Drop: []string{"ALL"}, Bounding: []string{}},
		SeccompProfile: report.Profile{Type: "RuntimeDefault"},
		From: report.SecurityContextSources{RunAsUser: "pod", RunAsGroup: "default", RunAsNonRoot: "default",
			AllowPrivilegeEscalation: "default", Privileged: "default", ReadOnlyRootFilesystem: "default", ProcMount: "default",
			Capabilities: "container", SeccompProfile: "pod", AppArmorProfile: "default"}}
	if d := cmp.Diff(wantSC, *sc); d != "" {
		t.Errorf("security context (-want +got):\n%s", d)
	}
	ws := r.Summary.Workloads
	if ws == nil || ws.Workloads != 1 || ws.Containers != 1 || ws.Findings != len(c.Findings) {
		t.Errorf("summary %+v, %d findings", ws, len(c.Findings))
	}
}
