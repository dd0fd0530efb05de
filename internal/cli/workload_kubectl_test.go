package cli_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/kubetest"
	"github.com/imgaudit/imgaudit/internal/workloadtest"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// clusterObjects are what `kubectl get pods,deployments,cronjobs -A` finds
// in a small cluster, as the API server stores them (defaulted fields,
// status, the service account token volume the admission plugin adds):
// a Deployment "web" (hardened spec, tag reference) and its Pod, a root
// debug Pod, and a CronJob "backup" (digest reference, no securityContext).
func clusterObjects(backupRef string) map[string]any {
	created := metav1.NewTime(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
	yes, no := true, false
	tokenVolume := corev1.Volume{Name: "kube-api-access-7xk2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(3607))}}}}}}
	tokenMount := corev1.VolumeMount{Name: "kube-api-access-7xk2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}
	defaults := func(c corev1.Container) corev1.Container {
		c.ImagePullPolicy = corev1.PullIfNotPresent
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
		return c
	}
	webPodSpec := corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{defaults(corev1.Container{Name: "web", Image: "registry.example.com/shop/web:1.0",
			Ports: []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}})},
		RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst, SchedulerName: corev1.DefaultSchedulerName,
		TerminationGracePeriodSeconds: ptr(int64(30)),
	}
	webPod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-6d8f7b9c4d-x2x8k", Namespace: "shop", UID: types.UID("4c1d9a52-8f0e-4d1a-9b57-2f7e1f1a0001"),
			ResourceVersion: "41873", CreationTimestamp: created, Labels: map[string]string{"app": "web", "pod-template-hash": "6d8f7b9c4d"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-6d8f7b9c4d",
				UID: types.UID("4c1d9a52-8f0e-4d1a-9b57-2f7e1f1a0002"), Controller: &yes, BlockOwnerDeletion: &yes}}},
		Spec: *webPodSpec.DeepCopy(),
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.12", StartTime: &created,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, Image: "registry.example.com/shop/web:1.0",
				ImageID: "registry.example.com/shop/web@sha256:" + strings.Repeat("1", 64), ContainerID: "containerd://" + strings.Repeat("a", 64)}}},
	}
	webPod.Spec.NodeName = "node-1"
	webPod.Spec.ServiceAccountName = "default"
	webPod.Spec.Volumes = []corev1.Volume{tokenVolume}
	webPod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{tokenMount}
	debugPod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "debug", Namespace: "default", UID: types.UID("4c1d9a52-8f0e-4d1a-9b57-2f7e1f1a0003"),
			ResourceVersion: "41990", CreationTimestamp: created, Labels: map[string]string{"run": "debug"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{defaults(corev1.Container{Name: "debug", Image: "registry.example.com/tools/debug:latest",
			Args: []string{"sleep", "3600"}, VolumeMounts: []corev1.VolumeMount{tokenMount}})},
			Volumes: []corev1.Volume{tokenVolume}, RestartPolicy: corev1.RestartPolicyNever, DNSPolicy: corev1.DNSClusterFirst,
			ServiceAccountName: "default", NodeName: "node-1", SchedulerName: corev1.DefaultSchedulerName},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	web := appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: types.UID("4c1d9a52-8f0e-4d1a-9b57-2f7e1f1a0004"),
			ResourceVersion: "41850", Generation: 1, CreationTimestamp: created, Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "1"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template:             corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: *webPodSpec.DeepCopy()},
			Strategy:             appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			RevisionHistoryLimit: ptr(int32(10)), ProgressDeadlineSeconds: ptr(int32(600))},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1},
	}
	backup := batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: "ops", UID: types.UID("4c1d9a52-8f0e-4d1a-9b57-2f7e1f1a0005"),
			ResourceVersion: "40001", Generation: 1, CreationTimestamp: created},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", ConcurrencyPolicy: batchv1.AllowConcurrent, Suspend: &no,
			SuccessfulJobsHistoryLimit: ptr(int32(3)), FailedJobsHistoryLimit: ptr(int32(1)),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers:    []corev1.Container{defaults(corev1.Container{Name: "backup", Image: backupRef, Command: []string{"/app", "--all"}})},
				RestartPolicy: corev1.RestartPolicyOnFailure, DNSPolicy: corev1.DNSClusterFirst, SchedulerName: corev1.DefaultSchedulerName}}}}},
	}
	list := metav1.ListMeta{ResourceVersion: "42000"}
	return map[string]any{
		"/api/v1/pods": corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: list, Items: []corev1.Pod{debugPod, webPod}},
		"/apis/apps/v1/deployments": appsv1.DeploymentList{TypeMeta: metav1.TypeMeta{Kind: "DeploymentList", APIVersion: "apps/v1"},
			ListMeta: list, Items: []appsv1.Deployment{web}},
		"/apis/batch/v1/cronjobs": batchv1.CronJobList{TypeMeta: metav1.TypeMeta{Kind: "CronJobList", APIVersion: "batch/v1"},
			ListMeta: list, Items: []batchv1.CronJob{backup}},
	}
}

func ptr[T any](v T) *T { return &v }

// itemLines are the lines where kubectl's List output starts each item:
// "- " at the start of a line in YAML, an element of "items" (indented 8
// spaces) in JSON.
func itemLines(out []byte, yamlOut bool) []int {
	var lines []int
	for i, l := range strings.Split(string(out), "\n") {
		if (yamlOut && strings.HasPrefix(l, "- ")) || (!yamlOut && l == "        {") {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// TestWorkloadKubectlGet pipes the real `kubectl get pods,deployments,cronjobs
// -A -o json` (and -o yaml), run against kubetest's API server, into
// imgaudit workload -: each listed object is a workload at its line in
// kubectl's output, each container at its entry, with its findings.
func TestWorkloadKubectlGet(t *testing.T) {
	images, err := workloadtest.Images()
	if err != nil {
		t.Fatal(err)
	}
	d, err := images["setuid"].Digest()
	if err != nil {
		t.Fatal(err)
	}
	backupRef := "registry.example.com/ops/backup@" + d.String()
	srv := kubetest.Start(t, clusterObjects(backupRef))
	layout := func(name string) string { return "oci:" + imagetest.WriteLayout(t, images[name]) }
	maps := []string{
		"--image-map", "registry.example.com/shop/web:1.0=" + layout("hardened"),
		"--image-map", "registry.example.com/tools/debug:latest=" + layout("root"),
		"--image-map", backupRef + "=" + layout("setuid"),
	}
	type want struct {
		kind, namespace, name, container string
		ids                              []string
	}
	wants := []want{
		{"Pod", "default", "debug", "debug", []string{"IW-EFFECTIVE-ROOT", "IW-ALLOW-PRIVILEGE-ESCALATION", "IW-CAPS-NOT-DROPPED",
			"IW-SECCOMP-UNCONFINED", "IW-WRITABLE-ROOT", "IW-SA-TOKEN", "IW-MUTABLE-REFERENCE"}},
		{"Pod", "shop", "web-6d8f7b9c4d-x2x8k", "web", []string{"IW-SA-TOKEN", "IW-MUTABLE-REFERENCE"}},
		{"Deployment", "shop", "web", "web", []string{"IW-SA-TOKEN", "IW-MUTABLE-REFERENCE"}},
		{"CronJob", "ops", "backup", "backup", []string{"IW-SETUID-ESCALATION", "IW-SETUID-ESCALATION", "IW-CAPS-NOT-DROPPED",
			"IW-SECCOMP-UNCONFINED", "IW-WRITABLE-ROOT", "IW-SA-TOKEN"}},
	}
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			out := srv.Kubectl(t, "get", "pods,deployments,cronjobs", "-A", "-o", format)
			if !bytes.Contains(out, []byte("kind: List")) && !bytes.Contains(out, []byte(`"kind": "List"`)) {
				t.Fatalf("kubectl printed no List:\n%s", out)
			}
			r := runEnv(t, cli.Env{Dir: t.TempDir(), Stdin: bytes.NewReader(out)}, append(append([]string{"workload", "--no-cache", "--no-sbom", "--no-policy", "-q", "-f", "json"}, maps...), "-")...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (effective root)\nstderr: %s", r.code, r.stderr)
			}
			rep := decode(t, r.stdout)
			lines := itemLines(out, format == "yaml")
			if len(rep.Workloads) != len(wants) || len(lines) != len(wants) {
				t.Fatalf("%d workloads, %d items in kubectl's output, want %d:\n%s", len(rep.Workloads), len(lines), len(wants), out)
			}
			outLines := strings.Split(string(out), "\n")
			for i, w := range rep.Workloads {
				wt := wants[i]
				if w.Kind != wt.kind || w.Namespace != wt.namespace || w.Name != wt.name || w.File != "-" || w.Line != lines[i] {
					t.Errorf("workload %d: %s %s/%s at %s:%d, want %s %s/%s at -:%d", i, w.Kind, w.Namespace, w.Name, w.File, w.Line, wt.kind, wt.namespace, wt.name, lines[i])
				}
				if len(w.Containers) != 1 {
					t.Errorf("%s: %d containers", w.Name, len(w.Containers))
					continue
				}
				c := w.Containers[0]
				// The container's line opens its entry; the entry's name
				// (kubectl sorts keys: image, imagePullPolicy, name) follows.
				entry := ""
				if c.Line > 0 && c.Line <= len(outLines) {
					entry = strings.Join(outLines[c.Line-1:min(len(outLines), c.Line+8)], "\n")
				}
				if c.Name != wt.container || c.Line <= w.Line || !strings.Contains(entry, "name: "+wt.container) && !strings.Contains(entry, `"name": "`+wt.container+`"`) {
					t.Errorf("%s: container %s at line %d:\n%s", w.Name, c.Name, c.Line, entry)
				}
				if c.Image.Error != "" || !strings.HasPrefix(c.Image.Digest, "sha256:") {
					t.Errorf("%s: image %+v", w.Name, c.Image)
				}
				var ids []string
				for _, f := range c.Findings {
					if f.Mitigated {
						t.Errorf("%s: mitigated %s", w.Name, f.ID)
					}
					ids = append(ids, f.ID)
				}
				if !slices.Equal(ids, wt.ids) {
					t.Errorf("%s %s: findings %v, want %v", w.Kind, w.Name, ids, wt.ids)
				}
			}
			if lvl := rep.Workloads[2].Containers[0].PodSecurity.Level; lvl != "restricted" {
				t.Errorf("web deployment: podSecurity %s, want restricted", lvl)
			}
			if g := rep.Workloads[0].Gate; g == nil || g.Verdict != report.Fail {
				t.Errorf("debug pod gate %+v", g)
			}
		})
	}
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(r, "GET /") {
			t.Errorf("kubectl wrote to the server: %s", r)
		}
	}
	t.Logf("kubectl asked: %v", srv.Requests())
}
