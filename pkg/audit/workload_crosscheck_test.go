package audit_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/workloadtest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// TestWorkloadCrossChecks runs every cross-check through the whole path
// (internal/workloadtest's table): manifests decoded from YAML, images
// built in the test (USER forms, setuid and setgid files,
// security.capability attributes in PAX records, VOLUMEs, entrypoints) and
// audited once each from OCI layouts through ImageMap, their facts
// extracted from the audit, and the findings of each container compared
// exactly. Every check of workload.Checks() must fire in some row, so a
// new check without a row fails here.
func TestWorkloadCrossChecks(t *testing.T) {
	images, err := workloadtest.Images()
	if err != nil {
		t.Fatal(err)
	}
	refs := workloadtest.Refs{Repo: "registry.test", Digests: map[string]string{}}
	imageMap := map[string]string{}
	layoutOf := map[string]string{}
	for name, img := range images {
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		refs.Digests[name] = d.String()
		layoutOf[name] = "oci:" + it.WriteLayout(t, img)
		imageMap[refs.Digest(name)] = layoutOf[name]
		imageMap[refs.Tag(name)] = layoutOf[name]
	}
	rows := workloadtest.Rows()

	var audits atomic.Int32
	o := audit.DefaultOptions()
	o.Progress = func(e audit.Event) {
		if e.Done {
			audits.Add(1)
		}
	}
	wo := audit.WorkloadOptions{Stdin: strings.NewReader(refs.Manifests(rows)), ImageMap: imageMap}
	r, err := audit.Workloads(context.Background(), []string{"-"}, wo, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Images) != len(images) || int(audits.Load()) != len(images) {
		t.Errorf("%d images in the report, %d audits: want each of the %d images audited once", len(r.Images), audits.Load(), len(images))
	}
	if len(r.Workloads) != len(rows) {
		t.Fatalf("%d workloads, want %d", len(r.Workloads), len(rows))
	}
	// The gate at its strictest: only unmitigated findings fail.
	policy.Evaluate(r, nil, policy.FailOnInfo, time.Now())

	fired := map[string]bool{}
	for i, row := range rows {
		w := r.Workloads[i]
		t.Run(row.Name, func(t *testing.T) {
			if w.Kind != row.Kind || w.Name != row.Name {
				t.Fatalf("workload %d is %s %s, want %s %s", i, w.Kind, w.Name, row.Kind, row.Name)
			}
			unmitigated := false
			for _, c := range w.Containers {
				if c.Image.Error != "" || !strings.HasPrefix(c.Image.Digest, "sha256:") {
					t.Errorf("%s: image %+v", c.Name, c.Image)
				}
				want, err := refs.Want(row, c.Name)
				if err != nil {
					t.Fatal(err)
				}
				got := []report.Finding{}
				for _, f := range c.Findings {
					got = append(got, workloadtest.Compared(f))
					fired[f.ID] = true
					unmitigated = unmitigated || !f.Mitigated
					if f.Title == "" || f.Remediation == "" {
						t.Errorf("%s: %s has no title or remediation", c.Name, f.ID)
					}
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("container %s (-want +got):\n%s", c.Name, d)
				}
			}
			for name := range row.Want {
				if !slices.ContainsFunc(w.Containers, func(c report.Container) bool { return c.Name == name }) {
					t.Errorf("no container %s", name)
				}
			}
			wantVerdict := report.Pass
			if unmitigated {
				wantVerdict = report.Fail
			}
			if w.Gate == nil || w.Gate.Verdict != wantVerdict {
				t.Errorf("gate %+v, want %s (mitigated findings never fail it)", w.Gate, wantVerdict)
			}
		})
	}

	// Completeness: the rows fire every check of the catalogue, and the
	// catalogue agrees with the contract.
	contract := workloadtest.Contract()
	var catalogue, got []string
	for _, c := range workload.Checks() {
		catalogue = append(catalogue, c.ID)
		if want, ok := contract[c.ID]; !ok || want.Severity != c.Severity || want.Category != string(c.Category) {
			t.Errorf("%s: catalogue says %s/%s, contract %v", c.ID, c.Severity, c.Category, want)
		}
	}
	for id := range fired {
		got = append(got, id)
	}
	slices.Sort(got)
	if d := cmp.Diff(catalogue, got); d != "" {
		t.Errorf("checks fired by the table (-catalogue +fired): add a row to internal/workloadtest for each missing check:\n%s", d)
	}
	if len(contract) != len(catalogue) {
		t.Errorf("the contract has %d checks, the catalogue %d", len(contract), len(catalogue))
	}

	// The image findings behind the mitigated ones are in the images'
	// reports, and fail the images' own gate, not the workloads'.
	imageByLayout := map[string]report.Image{}
	for _, img := range r.Images {
		imageByLayout[img.Reference] = img
	}
	for _, c := range []struct{ image, id, path string }{
		{"root", "IA-ROOT-USER", ""},
		{"setuid", "IA-SETUID", "/usr/bin/su"},
		{"setuid", "IA-SETGID", "/usr/bin/wall"},
		{"capping", "IA-FILE-CAPABILITY", "/usr/bin/ping"},
	} {
		img := imageByLayout[layoutOf[c.image]]
		if !slices.ContainsFunc(img.Findings, func(f report.Finding) bool { return f.ID == c.id && f.Path == c.path }) {
			t.Errorf("image %s: no %s %s in %v", c.image, c.id, c.path, img.Findings)
		}
		if img.Gate == nil || img.Gate.Verdict != report.Fail {
			t.Errorf("image %s: gate %+v, want fail at info", c.image, img.Gate)
		}
	}
	if img := imageByLayout[layoutOf["cleared"]]; slices.ContainsFunc(img.Findings, func(f report.Finding) bool {
		return f.ID == "IA-SETUID" || f.ID == "IA-FILE-CAPABILITY"
	}) {
		t.Errorf("cleared image: %v", img.Findings)
	}
	if r.Gate == nil || r.Gate.Verdict != report.Fail {
		t.Errorf("run gate %+v", r.Gate)
	}
}

// TestWorkloadMitigatedPassesGate: a run whose only findings are mitigated
// (a root image under runAsUser 10001, setuid files under
// allowPrivilegeEscalation: false) passes the strictest gate although its
// images fail their own.
func TestWorkloadMitigatedPassesGate(t *testing.T) {
	images, err := workloadtest.Images()
	if err != nil {
		t.Fatal(err)
	}
	rootRef := "registry.test/root@sha256:" + strings.Repeat("4", 64)
	setuidRef := "registry.test/setuid@sha256:" + strings.Repeat("6", 64)
	imageMap := map[string]string{
		rootRef:   "oci:" + it.WriteLayout(t, images["root"]),
		setuidRef: "oci:" + it.WriteLayout(t, images["setuid"]),
	}
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata: {name: mitigated}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: root
        image: ` + rootRef + `
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
      - name: setuid
        image: ` + setuidRef + `
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`
	r, err := audit.Workloads(context.Background(), []string{"-"}, audit.WorkloadOptions{Stdin: strings.NewReader(manifest), ImageMap: imageMap}, audit.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	policy.Evaluate(r, nil, policy.FailOnInfo, time.Now())
	var ids []string
	for _, c := range r.Workloads[0].Containers {
		for _, f := range c.Findings {
			if !f.Mitigated {
				t.Errorf("%s: unmitigated %s", c.Name, f.ID)
			}
			ids = append(ids, c.Name+":"+f.ID)
		}
	}
	if want := []string{"root:IW-ROOT-IMAGE", "setuid:IW-SETUID-ESCALATION", "setuid:IW-SETUID-ESCALATION"}; !slices.Equal(ids, want) {
		t.Errorf("findings %v, want %v", ids, want)
	}
	if r.Gate == nil || r.Gate.Verdict != report.Pass || r.Workloads[0].Gate.Verdict != report.Pass {
		t.Errorf("run gate %+v, workload gate %+v: mitigated findings must not fail", r.Gate, r.Workloads[0].Gate)
	}
	for _, img := range r.Images {
		if img.Gate == nil || img.Gate.Verdict != report.Fail {
			t.Errorf("image %s: gate %+v (its own findings fail at info)", img.Reference, img.Gate)
		}
	}
}
