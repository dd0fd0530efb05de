// Package examples holds ready-to-copy CI and Kubernetes configurations for
// imgaudit; this test keeps them, and the GitHub Action in action.yml,
// well-formed.
package examples_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// decodeAll parses every YAML document in path.
func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s holds no YAML document", path)
	}
	return docs
}

// TestYAMLParses parses every YAML file under examples/ and action.yml.
func TestYAMLParses(t *testing.T) {
	files := []string{"../action.yml"}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) { decodeAll(t, f) })
	}
}

// get walks a decoded YAML document along keys (map keys or list indexes
// written as numbers are not needed here).
func get(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%q: not a mapping at %q", keys, k)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%q: no key %q", keys, k)
		}
	}
	return v
}

// TestAction checks the composite action: every input it uses is declared,
// every run step names its shell and is valid bash, and the SARIF upload is
// GitHub's.
func TestAction(t *testing.T) {
	doc := decodeAll(t, "../action.yml")[0]
	if got := get(t, doc, "runs", "using"); got != "composite" {
		t.Fatalf("runs.using = %v", got)
	}
	inputs := get(t, doc, "inputs").(map[string]any)
	raw, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`inputs\.([a-z-]+)`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := inputs[m[1]]; !ok {
			t.Errorf("action.yml uses inputs.%s, which it does not declare", m[1])
		}
	}
	if _, ok := inputs["image"].(map[string]any)["required"]; !ok {
		t.Error("the image input is not required")
	}
	uploads := 0
	for i, s := range get(t, doc, "runs", "steps").([]any) {
		step := s.(map[string]any)
		if uses, ok := step["uses"].(string); ok {
			if strings.HasPrefix(uses, "github/codeql-action/upload-sarif@") {
				uploads++
			}
			continue
		}
		script, _ := step["run"].(string)
		if script == "" {
			t.Errorf("step %d (%v) neither runs nor uses anything", i, step["name"])
			continue
		}
		if step["shell"] != "bash" {
			t.Errorf("step %d (%v): shell %v, want bash", i, step["name"], step["shell"])
		}
		if strings.Contains(script, "${{") {
			t.Errorf("step %d (%v) interpolates an expression into its script; pass it through env", i, step["name"])
		}
		bashSyntax(t, script)
	}
	if uploads != 1 {
		t.Errorf("%d upload-sarif steps, want 1", uploads)
	}
}

// bashSyntax checks script with bash -n, when bash is there.
func bashSyntax(t *testing.T, script string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		return
	}
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v\n%s\n%s", err, out, script)
	}
}

// TestGitLabTemplate: the template has a hidden job to extend, a job using
// it, and keeps the reports as artifacts even when the gate fails.
func TestGitLabTemplate(t *testing.T) {
	doc := decodeAll(t, "gitlab/imgaudit.gitlab-ci.yml")[0]
	if got := get(t, doc, "imgaudit", "extends"); got != ".imgaudit" {
		t.Errorf("imgaudit.extends = %v", got)
	}
	if got := get(t, doc, ".imgaudit", "artifacts", "when"); got != "always" {
		t.Errorf("artifacts.when = %v, want always", got)
	}
	var script []string
	for _, l := range get(t, doc, ".imgaudit", "script").([]any) {
		script = append(script, l.(string))
	}
	all := strings.Join(script, "\n")
	for _, want := range []string{"go install", "imgaudit scan", "--fail-on", "sarif=imgaudit.sarif", "json=imgaudit.json"} {
		if !strings.Contains(all, want) {
			t.Errorf("script lacks %q:\n%s", want, all)
		}
	}
	bashSyntax(t, all)
}

// TestCronJob: the registry audit runs as a non-root user on a read-only
// root filesystem, with the cache on a volume and the credentials from a
// Secret.
func TestCronJob(t *testing.T) {
	docs := decodeAll(t, "kubernetes/cronjob.yaml")
	kinds := map[string]map[string]any{}
	for _, d := range docs {
		kinds[d["kind"].(string)] = d
	}
	cj, ok := kinds["CronJob"]
	if !ok || kinds["Secret"] == nil {
		t.Fatalf("kinds %v, want a CronJob and a Secret", docs)
	}
	pod := get(t, cj, "spec", "jobTemplate", "spec", "template", "spec").(map[string]any)
	if get(t, pod, "securityContext", "runAsNonRoot") != true {
		t.Error("runAsNonRoot is not true")
	}
	c := get(t, pod, "containers").([]any)[0].(map[string]any)
	if get(t, c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("readOnlyRootFilesystem is not true")
	}
	var args []string
	for _, a := range get(t, c, "args").([]any) {
		args = append(args, a.(string))
	}
	if args[0] != "registry" || !strings.Contains(strings.Join(args, " "), "--cache-dir=/cache") {
		t.Errorf("args %q: want imgaudit registry with --cache-dir=/cache", args)
	}
	env := map[string]bool{}
	for _, e := range get(t, c, "env").([]any) {
		em := e.(map[string]any)
		if _, ok := em["valueFrom"]; ok {
			env[em["name"].(string)] = true
		}
	}
	if !env["IMGAUDIT_USERNAME"] || !env["IMGAUDIT_PASSWORD"] {
		t.Errorf("credentials from a Secret: %v", env)
	}
	mounts := map[string]string{}
	for _, m := range get(t, c, "volumeMounts").([]any) {
		mm := m.(map[string]any)
		mounts[mm["mountPath"].(string)] = mm["name"].(string)
	}
	if mounts["/cache"] == "" {
		t.Errorf("no volume at /cache: %v", mounts)
	}
}

// TestWorkloadExamples: the GitHub workflow and the GitLab job that audit
// Kubernetes manifests together with the image the pipeline built.
func TestWorkloadExamples(t *testing.T) {
	doc := decodeAll(t, "github/imgaudit-workload.yml")[0]
	steps := get(t, doc, "jobs", "workload", "steps").([]any)
	var audit string
	uploads := 0
	for i, s := range steps {
		step := s.(map[string]any)
		if uses, ok := step["uses"].(string); ok {
			if strings.HasPrefix(uses, "github/codeql-action/upload-sarif@") {
				uploads++
				if cond, _ := step["if"].(string); !strings.Contains(cond, "always()") {
					t.Errorf("upload-sarif runs only on success (if: %q): a failing gate would hide its findings", cond)
				}
			}
			continue
		}
		script, _ := step["run"].(string)
		if strings.Contains(script, "${{") {
			t.Errorf("step %d (%v) interpolates an expression into its script; pass it through env", i, step["name"])
		}
		if strings.Contains(script, "imgaudit workload") {
			audit = script
		}
		bashSyntax(t, script)
	}
	for _, want := range []string{"--image-map", "oci-archive:image.tar", "sarif=workload.sarif", "markdown=workload.md", "GITHUB_STEP_SUMMARY"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the workload step lacks %q:\n%s", want, audit)
		}
	}
	if uploads != 1 {
		t.Errorf("%d upload-sarif steps, want 1", uploads)
	}

	gl := decodeAll(t, "gitlab/imgaudit.gitlab-ci.yml")[0]
	var script []string
	for _, l := range get(t, gl, ".imgaudit-workload", "script").([]any) {
		script = append(script, l.(string))
	}
	all := strings.Join(script, "\n")
	for _, want := range []string{"imgaudit workload", "--image-map", "$IMGAUDIT_MANIFESTS", "sarif=imgaudit-workload.sarif"} {
		if !strings.Contains(all, want) {
			t.Errorf("GitLab workload script lacks %q:\n%s", want, all)
		}
	}
	if got := get(t, gl, ".imgaudit-workload", "artifacts", "when"); got != "always" {
		t.Errorf(".imgaudit-workload artifacts.when = %v, want always", got)
	}
	bashSyntax(t, all)
}
