package workload

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPodSecurity(t *testing.T) {
	ps, err := NewPodSecurity()
	if err != nil {
		t.Fatal(err)
	}
	const restricted = `apiVersion: v1
kind: Pod
metadata: {name: restricted}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
`
	const baseline = `apiVersion: v1
kind: Pod
metadata: {name: baseline}
spec:
  initContainers:
  - name: init
    image: busybox
    securityContext:
      allowPrivilegeEscalation: false
      runAsNonRoot: true
      seccompProfile: {type: RuntimeDefault}
      capabilities: {drop: [ALL]}
  containers:
  - name: app
    image: app
`
	const privileged = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      hostNetwork: true
      volumes: [{name: root, hostPath: {path: /}}]
      containers:
      - name: agent
        image: agent
        securityContext: {privileged: true}
      - name: plain
        image: plain
`
	tests := []struct {
		name, in string
		want     PSSResult
		// per container, in Containers order
		containers []string
	}{
		{"restricted", restricted, PSSResult{Level: "restricted"}, []string{"restricted"}},
		{"baseline", baseline, PSSResult{Level: "baseline", Violations: []Violation{
			{"restricted", "allowPrivilegeEscalation != false", `container "app" must set securityContext.allowPrivilegeEscalation=false`},
			{"restricted", "unrestricted capabilities", `container "app" must set securityContext.capabilities.drop=["ALL"]`},
			{"restricted", "runAsNonRoot != true", `pod or container "app" must set securityContext.runAsNonRoot=true`},
			{"restricted", "seccompProfile", `pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`},
		}}, []string{"restricted", "baseline"}},
		{"privileged", privileged, PSSResult{Level: "privileged", Violations: []Violation{
			{"baseline", "host namespaces", "hostNetwork=true"},
			{"baseline", "hostPath volumes", `volume "root"`},
			{"baseline", "privileged", `container "agent" must not set securityContext.privileged=true`},
			{"restricted", "allowPrivilegeEscalation != false", `containers "agent", "plain" must set securityContext.allowPrivilegeEscalation=false`},
			{"restricted", "unrestricted capabilities", `containers "agent", "plain" must set securityContext.capabilities.drop=["ALL"]`},
			{"restricted", "restricted volume types", `volume "root" uses restricted volume type "hostPath"`},
			{"restricted", "runAsNonRoot != true", `pod or containers "agent", "plain" must set securityContext.runAsNonRoot=true`},
			{"restricted", "seccompProfile", `pod or containers "agent", "plain" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`},
		}}, []string{"privileged", "privileged"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := decodeString(t, tt.name, tt.in).Workloads[0]
			got := ps.Workload(w)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
			for i, want := range tt.containers {
				if got := ps.Container(w, i).Level; got != want {
					t.Errorf("container %s: level %s, want %s", w.Containers[i].Name(), got, want)
				}
			}
		})
	}
}
