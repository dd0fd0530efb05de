package examples_test

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "sigs.k8s.io/yaml"
)

// decodeStrict decodes every document of path into the upstream API type
// of its kind, refusing unknown and duplicate fields.
func decodeStrict(t *testing.T, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []any
	for _, doc := range regexp.MustCompile(`(?m)^---$`).Split(string(data), -1) {
		var tm metav1.TypeMeta
		if err := k8syaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "batch/v1 CronJob":
			obj = &batchv1.CronJob{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "rbac.authorization.k8s.io/v1 Role":
			obj = &rbacv1.Role{}
		case "rbac.authorization.k8s.io/v1 RoleBinding":
			obj = &rbacv1.RoleBinding{}
		default:
			t.Fatalf("%s: unexpected kind %q %q", path, tm.APIVersion, tm.Kind)
		}
		if err := k8syaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s: %s: %v", path, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs
}

func only[T any](t *testing.T, objs []any) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of type %T, want 1", len(found), *new(T))
	}
	return found[0]
}

// hardened checks what every pod of the sharded example keeps: non-root,
// read-only root filesystem, no privilege escalation, no capabilities.
func hardened(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod not non-root: %+v", what, psc)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q", what, pod.RestartPolicy)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s: container %s not hardened: %+v", what, c.Name, sc)
		}
	}
}

// claim returns the mount path of the PersistentVolumeClaim name in the
// pod's first container.
func claim(t *testing.T, what string, pod corev1.PodSpec, name string) string {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != name {
			continue
		}
		for _, m := range pod.Containers[0].VolumeMounts {
			if m.Name == v.Name {
				return m.MountPath
			}
		}
	}
	t.Fatalf("%s: claim %s not mounted", what, name)
	return ""
}

// TestShardedExamples decodes the sharded-audit manifests with the
// upstream API types and checks what makes them work: an Indexed Job whose
// --shard takes its index from JOB_COMPLETION_INDEX with N = completions,
// each shard's report on the shared volume under its own index, the merge
// reading that volume, credentials from a Secret, hardened pods, and a
// CronJob driving both from the same files.
func TestShardedExamples(t *testing.T) {
	pvc := only[*corev1.PersistentVolumeClaim](t, decodeStrict(t, "kubernetes/sharded/storage.yaml"))
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("the shard volume is %v, want ReadWriteMany", pvc.Spec.AccessModes)
	}

	job := only[*batchv1.Job](t, decodeStrict(t, "kubernetes/sharded/indexed-job.yaml"))
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || s.BackoffLimitPerIndex == nil {
		t.Fatalf("not an Indexed Job with backoffLimitPerIndex: %+v", s)
	}
	if s.Parallelism == nil || *s.Parallelism != *s.Completions {
		t.Errorf("parallelism %v, completions %d", s.Parallelism, *s.Completions)
	}
	pod := s.Template.Spec
	hardened(t, "indexed job", pod)
	c := pod.Containers[0]
	if c.Args[0] != "registry" || !slices.Contains(c.Args, "--shard=/"+strconv.Itoa(int(*s.Completions))) {
		t.Errorf("args %q: want registry --shard=/%d (the index from %s)", c.Args, *s.Completions, "JOB_COMPLETION_INDEX")
	}
	out := claim(t, "indexed job", pod, pvc.Name)
	if !slices.Contains(c.Args, "--output=jsonl="+out+"/shard-$(JOB_COMPLETION_INDEX).jsonl") {
		t.Errorf("args %q: no jsonl report per index on the volume %s", c.Args, out)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["JOB_COMPLETION_INDEX"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
		e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("JOB_COMPLETION_INDEX is not the completion index annotation: %+v", e)
	}
	for _, name := range []string{"IMGAUDIT_USERNAME", "IMGAUDIT_PASSWORD"} {
		if e := env[name]; e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s does not come from a Secret: %+v", name, e)
		}
	}
	if !slices.Contains(c.Args, "--fail-on=none") {
		t.Errorf("args %q: a shard with findings would fail its index", c.Args)
	}

	merge := only[*batchv1.Job](t, decodeStrict(t, "kubernetes/sharded/merge-job.yaml"))
	mpod := merge.Spec.Template.Spec
	hardened(t, "merge job", mpod)
	if mc := mpod.Containers[0]; mc.Args[0] != "merge" || mc.Args[len(mc.Args)-1] != claim(t, "merge job", mpod, pvc.Name) {
		t.Errorf("merge args %q do not read the shard volume", mc.Args)
	}
	if mc := mpod.Containers[0]; mc.Image != c.Image {
		t.Errorf("merge image %s, shard image %s: merge refuses shards of another version", mc.Image, c.Image)
	}

	objs := decodeStrict(t, "kubernetes/sharded/cronjob.yaml")
	cj := only[*batchv1.CronJob](t, objs)
	sa := only[*corev1.ServiceAccount](t, objs)
	role := only[*rbacv1.Role](t, objs)
	binding := only[*rbacv1.RoleBinding](t, objs)
	dpod := cj.Spec.JobTemplate.Spec.Template.Spec
	hardened(t, "cronjob", dpod)
	if dpod.ServiceAccountName != sa.Name || binding.RoleRef.Name != role.Name || binding.Subjects[0].Name != sa.Name {
		t.Errorf("the driver's service account is not bound to its role")
	}
	if r := role.Rules[0]; !slices.Contains(r.Resources, "jobs") || !slices.Contains(r.Verbs, "create") || len(role.Rules) != 1 {
		t.Errorf("role rules %+v: want jobs only", role.Rules)
	}
	script := dpod.Containers[0].Args[0]
	bashSyntax(t, script)
	if claim(t, "cronjob", dpod, pvc.Name) != out {
		t.Errorf("the driver clears another path than the shards write")
	}
	for _, want := range []string{"rm -f " + out + "/*.jsonl", "kubectl create -f /jobs/indexed-job.yaml", "wait_for " + job.Name,
		"kubectl create -f /jobs/merge-job.yaml", "wait_for " + merge.Name} {
		if !strings.Contains(script, want) {
			t.Errorf("driver script lacks %q", want)
		}
	}
	if i, j := strings.Index(script, "wait_for "+job.Name), strings.Index(script, "/jobs/merge-job.yaml"); i < 0 || j < i {
		t.Error("the driver does not wait for the shards before the merge")
	}
	raw, _ := os.ReadFile("kubernetes/sharded/cronjob.yaml")
	if !bytes.Contains(raw, []byte("--from-file=indexed-job.yaml --from-file=merge-job.yaml")) {
		t.Error("cronjob.yaml does not say how to make the ConfigMap of the two Jobs")
	}
}
