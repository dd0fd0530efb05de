package workload

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestEffectiveReport: the effective security context as the report carries
// it, each value with where it came from (container, pod, annotation or
// the default).
func TestEffectiveReport(t *testing.T) {
	s := decodeString(t, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    container.apparmor.security.beta.kubernetes.io/annotated: unconfined
spec:
  securityContext:
    runAsUser: 1000
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: inherits
    image: a
  - name: overrides
    image: a
    securityContext:
      runAsUser: 0
      runAsGroup: 10
      runAsNonRoot: false
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      privileged: false
      procMount: Default
      seccompProfile: {type: Localhost, localhostProfile: prof.json}
      appArmorProfile: {type: RuntimeDefault}
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
  - name: annotated
    image: a
`)
	w := s.Workloads[0]
	defaults := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
		"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}
	want := []report.SecurityContext{
		{RunAsUser: ptr[int64](1000), RunAsNonRoot: true, ProcMount: "Default",
			Capabilities:   report.Capabilities{Bounding: defaults},
			SeccompProfile: report.Profile{Type: "RuntimeDefault"},
			From: report.SecurityContextSources{RunAsUser: "pod", RunAsGroup: "default", RunAsNonRoot: "pod",
				AllowPrivilegeEscalation: "default", Privileged: "default", ReadOnlyRootFilesystem: "default", ProcMount: "default",
				Capabilities: "default", SeccompProfile: "pod", AppArmorProfile: "default"}},
		{RunAsUser: ptr[int64](0), RunAsGroup: ptr[int64](10), AllowPrivilegeEscalation: ptr(false), NoNewPrivs: true,
			ReadOnlyRootFilesystem: true, ProcMount: "Default",
			Capabilities:    report.Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}, Bounding: []string{"CAP_NET_BIND_SERVICE"}},
			SeccompProfile:  report.Profile{Type: "Localhost", LocalhostProfile: "prof.json"},
			AppArmorProfile: report.Profile{Type: "RuntimeDefault"},
			From: report.SecurityContextSources{RunAsUser: "container", RunAsGroup: "container", RunAsNonRoot: "container",
				AllowPrivilegeEscalation: "container", Privileged: "container", ReadOnlyRootFilesystem: "container", ProcMount: "container",
				Capabilities: "container", SeccompProfile: "container", AppArmorProfile: "container"}},
		{RunAsUser: ptr[int64](1000), RunAsNonRoot: true, ProcMount: "Default",
			Capabilities:    report.Capabilities{Bounding: defaults},
			SeccompProfile:  report.Profile{Type: "RuntimeDefault"},
			AppArmorProfile: report.Profile{Type: "Unconfined"},
			From: report.SecurityContextSources{RunAsUser: "pod", RunAsGroup: "default", RunAsNonRoot: "pod",
				AllowPrivilegeEscalation: "default", Privileged: "default", ReadOnlyRootFilesystem: "default", ProcMount: "default",
				Capabilities: "default", SeccompProfile: "pod", AppArmorProfile: "annotation"}},
	}
	for i := range w.Containers {
		got := w.Effective(i).Report()
		if d := cmp.Diff(want[i], got); d != "" {
			t.Errorf("container %s (-want +got):\n%s", w.Containers[i].Name(), d)
		}
	}
	// Privileged: every capability in the bounding set.
	s = decodeString(t, "priv.yaml", `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: a
    securityContext: {privileged: true, capabilities: {drop: [ALL]}}
`)
	sc := s.Workloads[0].Effective(0).Report()
	if !sc.Privileged || sc.From.Privileged != "container" || len(sc.Capabilities.Bounding) != 41 {
		t.Fatalf("privileged: %+v", sc)
	}
	// JSON: an unset runAsUser and allowPrivilegeEscalation are absent, a
	// false allowPrivilegeEscalation is written.
	b, err := json.Marshal(want[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["allowPrivilegeEscalation"]; ok {
		t.Errorf("unset allowPrivilegeEscalation written: %s", b)
	}
	if _, ok := m["runAsGroup"]; ok {
		t.Errorf("unset runAsGroup written: %s", b)
	}
	b, _ = json.Marshal(want[1])
	if err := json.Unmarshal(b, &m); err != nil || m["allowPrivilegeEscalation"] != false || m["runAsUser"] != float64(0) {
		t.Errorf("set values not written: %s", b)
	}
}

func TestSkippedKinds(t *testing.T) {
	s := decodeString(t, "all.yaml", multiDoc+`---
apiVersion: v1
kind: Service
metadata: {name: two}
`)
	want := []report.SkippedKind{{Kind: "Service", Count: 2}, {Kind: "ConfigMap", Count: 1}, {Kind: "Deployment (example.com/v1)", Count: 1}}
	if d := cmp.Diff(want, s.SkippedKinds()); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	if got := (&Set{Skipped: map[string]int{}}).SkippedKinds(); got != nil {
		t.Fatalf("nothing skipped: %v", got)
	}
}
