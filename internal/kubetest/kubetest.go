// Package kubetest runs the real kubectl in tests against a minimal API
// server on 127.0.0.1: enough legacy discovery (/api, /apis and the group
// versions of the workload kinds) for kubectl to map resources, and the
// lists a test gives it. kubectl then prints what it prints for a cluster
// (`kubectl get … -o json|yaml`), and `kubectl run --dry-run=client`, which
// needs discovery, works without one.
//
// kubectl runs with an empty environment but PATH, a throwaway HOME (its
// discovery cache) and an empty KUBECONFIG in the test's temporary
// directory, and --server pointing at the test server: it contacts nothing
// else.
package kubetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"github.com/imgaudit/imgaudit/internal/e2e"
)

// Require returns the path of kubectl. When it is missing the test skips
// with one notice per test binary, or fails under CI=true or
// IMGAUDIT_E2E=1 (internal/e2e; .ci/run installs Debian's
// kubernetes-client).
func Require(t testing.TB) string {
	t.Helper()
	return e2e.Tool(t, "kubectl", "", "as root, apt-get install -y kubernetes-client; or run .ci/run")
}

// resources are the workload resources the server's discovery lists, by
// group version.
func resources() map[string][]metav1.APIResource {
	return map[string][]metav1.APIResource{
		"v1": {
			{Name: "pods", SingularName: "pod", Namespaced: true, Kind: "Pod", ShortNames: []string{"po"}},
			{Name: "replicationcontrollers", SingularName: "replicationcontroller", Namespaced: true, Kind: "ReplicationController", ShortNames: []string{"rc"}},
			{Name: "serviceaccounts", SingularName: "serviceaccount", Namespaced: true, Kind: "ServiceAccount", ShortNames: []string{"sa"}},
		},
		"apps/v1": {
			{Name: "deployments", SingularName: "deployment", Namespaced: true, Kind: "Deployment", ShortNames: []string{"deploy"}},
			{Name: "statefulsets", SingularName: "statefulset", Namespaced: true, Kind: "StatefulSet", ShortNames: []string{"sts"}},
			{Name: "daemonsets", SingularName: "daemonset", Namespaced: true, Kind: "DaemonSet", ShortNames: []string{"ds"}},
			{Name: "replicasets", SingularName: "replicaset", Namespaced: true, Kind: "ReplicaSet", ShortNames: []string{"rs"}},
		},
		"batch/v1": {
			{Name: "jobs", SingularName: "job", Namespaced: true, Kind: "Job"},
			{Name: "cronjobs", SingularName: "cronjob", Namespaced: true, Kind: "CronJob", ShortNames: []string{"cj"}},
		},
	}
}

// Server is a running test API server.
type Server struct {
	// URL is http://127.0.0.1:PORT.
	URL  string
	dir  string
	bin  string
	mu   sync.Mutex
	reqs []string
}

// Start starts a server that answers discovery and, for each path of lists
// ("/api/v1/pods", "/apis/apps/v1/deployments", …), that list encoded as
// JSON (a *corev1.PodList, *appsv1.DeploymentList, …, with its TypeMeta
// set). Any other path is 404. It requires kubectl (see Require); the
// server stops when the test ends.
func Start(t testing.TB, lists map[string]any) *Server {
	t.Helper()
	s := &Server{bin: Require(t), dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.dir, "kubeconfig"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{}
	add := func(path string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("kubetest: %s: %v", path, err)
		}
		bodies[path] = b
	}
	add("/version", version.Info{Major: "1", Minor: "32", GitVersion: "v1.32.0", Platform: "linux/amd64"})
	add("/api", metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: "127.0.0.1"}}})
	groups := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, gv := range []string{"apps/v1", "batch/v1"} {
		group, ver, _ := strings.Cut(gv, "/")
		v := metav1.GroupVersionForDiscovery{GroupVersion: gv, Version: ver}
		groups.Groups = append(groups.Groups, metav1.APIGroup{Name: group, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v})
	}
	add("/apis", groups)
	for gv, rs := range resources() {
		path := "/apis/" + gv
		if gv == "v1" {
			path = "/api/v1"
		}
		l := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
		for _, r := range rs {
			r.Verbs = metav1.Verbs{"create", "delete", "get", "list", "patch", "update", "watch"}
			l.APIResources = append(l.APIResources, r)
		}
		add(path, l)
	}
	for path, l := range lists {
		add(path, l)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		b, ok := bodies[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"%s not found","reason":"NotFound","code":404}`, r.URL.Path)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Kubectl runs kubectl args against the server and returns its standard
// output; a failure fails the test with kubectl's standard error.
func (s *Server) Kubectl(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx := t.Context()
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"--server", s.URL}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "KUBECONFIG=" + filepath.Join(s.dir, "kubeconfig")}
	cmd.Dir = s.dir
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %v: %v\n%s\nrequests: %v", args, err, stderr.Bytes(), s.Requests())
	}
	return stdout.Bytes()
}

// Requests are the requests the server answered ("GET /api/v1/pods"), in
// order, duplicates removed.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reqs {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// Version is kubectl's client version ("v1.32.4").
func (s *Server) Version(t testing.TB) string {
	t.Helper()
	var v struct {
		ClientVersion version.Info `json:"clientVersion"`
	}
	if err := json.Unmarshal(s.Kubectl(t, "version", "--client", "-o", "json"), &v); err != nil {
		t.Fatalf("kubectl version: %v", err)
	}
	return v.ClientVersion.GitVersion
}
