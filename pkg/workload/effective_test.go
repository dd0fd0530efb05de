package workload

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"

	"github.com/imgaudit/imgaudit/pkg/caps"
)

func ptr[T any](v T) *T { return &v }

func capSet(names ...string) caps.Set {
	var s caps.Set
	for _, n := range names {
		i, ok := caps.Parse(n)
		if !ok {
			panic(n)
		}
		s |= 1 << i
	}
	return s
}

func TestEffective(t *testing.T) {
	const pod = `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    container.apparmor.security.beta.kubernetes.io/annotated: localhost/k8s-nginx
    container.apparmor.security.beta.kubernetes.io/both: unconfined
spec:
  automountServiceAccountToken: false
  hostPID: true
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
    appArmorProfile: {type: RuntimeDefault}
  volumes:
  - name: sock
    hostPath: {path: /var/run/docker.sock, type: Socket}
  - name: tmp
    emptyDir: {}
  containers:
  - name: inherits
    image: a
  - name: overrides
    image: a
    volumeMounts: [{name: sock, mountPath: /var/run/docker.sock}]
    securityContext:
      runAsUser: 0
      runAsNonRoot: false
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      procMount: Unmasked
      seccompProfile: {type: Localhost, localhostProfile: prof.json}
      capabilities: {drop: [ALL], add: [net_bind_service, CAP_NET_RAW]}
  - name: annotated
    image: a
  - name: both
    image: a
    securityContext:
      appArmorProfile: {type: Localhost, localhostProfile: p1}
      capabilities: {add: [SYS_ADMIN], drop: [CHOWN]}
  - name: priv
    image: a
    securityContext:
      privileged: true
      capabilities: {drop: [ALL]}
`
	s := decodeString(t, "pod.yaml", pod)
	w := s.Workloads[0]
	pf := PodFacts{HostPID: true, HostUsers: true, Volumes: w.PodSpec.Volumes,
		HostPathVolumes: []HostPath{{"sock", "/var/run/docker.sock", "Socket"}},
		ServiceAccount:  "default", AutomountToken: false, AutomountSource: "pod"}
	podSeccomp := Profile{Type: "RuntimeDefault", Source: "pod"}
	want := []Effective{
		{Container: "inherits", Type: Regular, RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](3000), RunAsNonRoot: true,
			ProcMount: "Default", Bounding: DefaultCapabilities, Seccomp: podSeccomp, AppArmor: Profile{Type: "RuntimeDefault", Source: "pod"}, Pod: pf},
		{Container: "overrides", Type: Regular, RunAsUser: ptr[int64](0), RunAsGroup: ptr[int64](3000), RunAsNonRoot: false,
			AllowPrivilegeEscalation: ptr(false), NoNewPrivs: true, ReadOnlyRootFilesystem: true, ProcMount: "Unmasked",
			Add: []corev1.Capability{"net_bind_service", "CAP_NET_RAW"}, Drop: []corev1.Capability{"ALL"},
			Bounding: capSet("NET_BIND_SERVICE"), Seccomp: Profile{Type: "Localhost", Localhost: "prof.json", Source: "container"},
			AppArmor: Profile{Type: "RuntimeDefault", Source: "pod"}, Mounts: w.Containers[1].Spec.VolumeMounts, Pod: pf},
		{Container: "annotated", Type: Regular, RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](3000), RunAsNonRoot: true,
			ProcMount: "Default", Bounding: DefaultCapabilities, Seccomp: podSeccomp,
			AppArmor: Profile{Type: "Localhost", Localhost: "k8s-nginx", Source: "annotation"}, Pod: pf},
		{Container: "both", Type: Regular, RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](3000), RunAsNonRoot: true,
			ProcMount: "Default", Add: []corev1.Capability{"SYS_ADMIN"}, Drop: []corev1.Capability{"CHOWN"},
			Bounding: DefaultCapabilities&^capSet("CHOWN") | capSet("SYS_ADMIN"), Seccomp: podSeccomp,
			AppArmor: Profile{Type: "Localhost", Localhost: "p1", Source: "container"}, Pod: pf},
		{Container: "priv", Type: Regular, RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](3000), RunAsNonRoot: true,
			Privileged: true, ProcMount: "Default", Drop: []corev1.Capability{"ALL"}, Bounding: caps.All, Seccomp: podSeccomp,
			AppArmor: Profile{Type: "RuntimeDefault", Source: "pod"}, Pod: pf},
	}
	for i := range w.Containers {
		got := w.Effective(i)
		// From is TestEffectiveReport's.
		if d := cmp.Diff(want[i], got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Effective{}, "From")); d != "" {
			t.Errorf("container %s (-want +got):\n%s", w.Containers[i].Name(), d)
		}
	}
}

func TestEffectiveDefaults(t *testing.T) {
	s := decodeString(t, "d.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns}
spec:
  template:
    spec:
      serviceAccountName: builder
      containers: [{name: c, image: x}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: other}
automountServiceAccountToken: false
`)
	e := s.Workloads[0].Effective(0)
	want := Effective{Container: "c", Type: Regular, ProcMount: "Default", Bounding: DefaultCapabilities,
		Pod: PodFacts{HostUsers: true, ServiceAccount: "builder", AutomountToken: true, AutomountSource: "default"}}
	if d := cmp.Diff(want, e, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Effective{}, "From")); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestBounding(t *testing.T) {
	tests := []struct {
		add, drop []corev1.Capability
		want      caps.Set
	}{
		{nil, nil, DefaultCapabilities},
		{nil, []corev1.Capability{"all"}, 0},
		{[]corev1.Capability{"ALL"}, []corev1.Capability{"chown"}, caps.All &^ capSet("CHOWN")},
		// drop ALL empties the set before the adds, whatever the order written
		{[]corev1.Capability{"NET_ADMIN"}, []corev1.Capability{"ALL"}, capSet("NET_ADMIN")},
		{[]corev1.Capability{"ALL"}, []corev1.Capability{"ALL"}, 0},
		// a CAP_ prefix names nothing containerd knows: ignored
		{nil, []corev1.Capability{"CAP_NET_RAW"}, DefaultCapabilities},
	}
	for _, tt := range tests {
		if got := bounding(false, tt.add, tt.drop); got != tt.want {
			t.Errorf("bounding(%v, %v) = %v, want %v", tt.add, tt.drop, got, tt.want)
		}
	}
	if len(DefaultCapabilities.Names()) != 14 {
		t.Fatalf("DefaultCapabilities = %v", DefaultCapabilities.Names())
	}
}
