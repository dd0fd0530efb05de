package workload

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type wantContainer struct {
	Type  ContainerType
	Name  string
	Image string
	Line  int
}

type wantWorkload struct {
	Kind, Namespace, Name string
	Line                  int
	Containers            []wantContainer
}

func summarize(s *Set) []wantWorkload {
	var out []wantWorkload
	for _, w := range s.Workloads {
		ww := wantWorkload{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Line: w.Line}
		for _, c := range w.Containers {
			ww.Containers = append(ww.Containers, wantContainer{c.Type, c.Name(), c.Image(), c.Line})
		}
		out = append(out, ww)
	}
	return out
}

func decodeString(t *testing.T, name, in string) *Set {
	t.Helper()
	s, err := Decode(context.Background(), name, strings.NewReader(in))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return s
}

const multiDoc = `# Source: chart/templates/pod.yaml
---
# only a comment
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: ns1
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
spec:
  initContainers:
  - name: init
    image: busybox:1.36
  containers:
  - name: app
    image: example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000
  - &side
    name: side
    image: envoy:v1
  ephemeralContainers:
  - name: dbg
    image: alpine:3.20
    targetContainerName: app
---
apiVersion: v1
kind: Service
metadata: {name: svc}
--- 
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: c, image: "busybox"}]
...
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ss}
spec:
  template:
    spec:
      containers:
      - {name: a, image: a:1}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec: {template: {spec: {containers: [{name: d, image: d:1}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec: {template: {spec: {containers: [{name: r, image: r:1}]}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec: {template: {spec: {containers: [{name: r, image: r:1}]}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
apiVersion: example.com/v1
kind: Deployment
metadata: {name: custom}
spec: {template: 3}
`

func TestDecodeMultiDoc(t *testing.T) {
	s := decodeString(t, "all.yaml", multiDoc)
	want := []wantWorkload{
		{"Pod", "ns1", "p", 5, []wantContainer{
			{Init, "init", "busybox:1.36", 14},
			{Regular, "app", "example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", 17},
			{Regular, "side", "envoy:v1", 19},
			{Ephemeral, "dbg", "alpine:3.20", 23},
		}},
		{"CronJob", "", "cj", 31, []wantContainer{{Regular, "c", "busybox", 40}}},
		{"StatefulSet", "", "ss", 42, []wantContainer{{Regular, "a", "a:1", 49}}},
		{"DaemonSet", "", "ds", 51, []wantContainer{{Regular, "d", "d:1", 54}}},
		{"ReplicaSet", "", "rs", 56, []wantContainer{{Regular, "r", "r:1", 59}}},
		{"ReplicationController", "", "rc", 61, []wantContainer{{Regular, "r", "r:1", 64}}},
	}
	if d := cmp.Diff(want, summarize(s)); d != "" {
		t.Fatalf("workloads (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"Service": 1, "ConfigMap": 1, "Deployment (example.com/v1)": 1}, s.Skipped); d != "" {
		t.Fatalf("skipped (-want +got):\n%s", d)
	}
	if s.Documents != 9 {
		t.Fatalf("Documents = %d, want 9", s.Documents)
	}
	for _, w := range s.Workloads {
		if w.File != "all.yaml" {
			t.Fatalf("File = %q", w.File)
		}
	}
}

func TestDecodeKubectl(t *testing.T) {
	read := func(name string) *Set {
		t.Helper()
		f, err := os.Open("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := Decode(context.Background(), name, f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	three := func(dep, cj, job int, cdep, ccj, cjob int) []wantWorkload {
		return []wantWorkload{
			{"Deployment", "", "web", dep, []wantContainer{{Regular, "nginx", "nginx:1.27", cdep}}},
			{"CronJob", "", "backup", cj, []wantContainer{{Regular, "backup", "busybox:1.36", ccj}}},
			{"Job", "", "once", job, []wantContainer{{Regular, "once", "busybox:1.36", cjob}}},
		}
	}
	tests := []struct {
		file string
		want []wantWorkload
	}{
		{"deployment.yaml", three(1, 0, 0, 21, 0, 0)[:1]},
		{"cronjob.yaml", three(0, 1, 0, 0, 17, 0)[1:2]},
		{"job.json", three(0, 0, 1, 0, 0, 15)[2:]},
		{"stream.json", three(1, 45, 88, 29, 68, 105)},
		{"list.json", three(4, 48, 91, 32, 71, 108)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if d := cmp.Diff(tt.want, summarize(read(tt.file))); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}

	t.Run("kustomize", func(t *testing.T) {
		s := read("kustomize.out.yaml")
		want := []wantWorkload{{"Deployment", "shop", "web", 8, []wantContainer{{Regular, "nginx", "nginx:1.27", 29}}}}
		if d := cmp.Diff(want, summarize(s)); d != "" {
			t.Fatalf("(-want +got):\n%s", d)
		}
		w := s.Workloads[0]
		if w.ServiceAccount == nil || w.ServiceAccount.Name != "web" {
			t.Fatalf("ServiceAccount = %+v", w.ServiceAccount)
		}
		if e := w.Effective(0); e.Pod.AutomountToken || e.Pod.AutomountSource != "serviceAccount" {
			t.Fatalf("automount = %v from %q", e.Pod.AutomountToken, e.Pod.AutomountSource)
		}
	})
}

func TestDecodeYAMLList(t *testing.T) {
	in := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a}
  spec:
    containers:
    - name: c
      image: x
- apiVersion: v1
  kind: Secret
  metadata: {name: s}
- apiVersion: apps/v1
  kind: DeploymentList
  items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: d}
    spec:
      template:
        spec:
          containers:
          - name: c
            image: "y:1"
`
	s := decodeString(t, "-", in)
	want := []wantWorkload{
		{"Pod", "", "a", 4, []wantContainer{{Regular, "c", "x", 9}}},
		{"Deployment", "", "d", 17, []wantContainer{{Regular, "c", "y:1", 24}}},
	}
	if d := cmp.Diff(want, summarize(s)); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	if s.Skipped["Secret"] != 1 {
		t.Fatalf("Skipped = %v", s.Skipped)
	}
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"yaml syntax", "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n", "in.yaml:4: yaml: near line 6: did not find expected ',' or ']'"},
		{"no kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n\nmetadata: {name: b}\n", "in.yaml:6: object has no kind"},
		{"no apiVersion", "kind: Deployment\n", "in.yaml:1: Deployment has no apiVersion"},
		{"wrong type", "# c\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers: nginx\n", "in.yaml:2: Deployment: "},
		{"scalar document", "---\njust text\n", "in.yaml:2: not a Kubernetes object"},
		{"json syntax", "{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\"}\n{\"kind\": \n", "in.yaml:3: unexpected EOF"},
		{"yaml tab", "apiVersion: v1\nkind: Pod\n---\n# comment\n\napiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n", "in.yaml:6: yaml: near line 9: found character that cannot start any token"},
		{"bad list item", "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  apiVersion: v1\n- kind: Pod\n  apiVersion: v1\n  spec: 3\n", "in.yaml:6: Pod: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(context.Background(), "in.yaml", strings.NewReader(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestDecodeHostile(t *testing.T) {
	// alias expansion bomb: yaml.v3 refuses it rather than expanding
	bomb := "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\nkind: Pod\napiVersion: v1\n"
	if _, err := Decode(context.Background(), "bomb.yaml", strings.NewReader(bomb)); err == nil {
		t.Fatal("alias bomb decoded without error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Decode(ctx, "x", strings.NewReader(multiDoc)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	s := decodeString(t, "empty", "")
	if len(s.Workloads) != 0 || s.Documents != 0 {
		t.Fatalf("empty input: %+v", s)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(multiDoc)
	f.Add(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a"}]}}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Decode(context.Background(), "f", strings.NewReader(in))
		if err != nil {
			return
		}
		for _, w := range s.Workloads {
			for i := range w.Containers {
				_ = w.Effective(i)
			}
		}
	})
}

func TestDecodeTabJSON(t *testing.T) {
	// jq --tab output: tabs indent flow collections, which yaml.v3 accepts,
	// so container lines are known here too.
	in := "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"metadata\": {\"name\": \"t\"},\n\t\"spec\": {\n\t\t\"containers\": [\n\t\t\t{\"name\": \"c\", \"image\": \"i\"}\n\t\t]\n\t}\n}\n"
	want := []wantWorkload{{"Pod", "", "t", 1, []wantContainer{{Regular, "c", "i", 7}}}}
	if d := cmp.Diff(want, summarize(decodeString(t, "tab.json", in))); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}
