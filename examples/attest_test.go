package examples_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/imgaudit/imgaudit/pkg/attest"
)

// index walks into a list.
func index(t *testing.T, v any, i int) any {
	t.Helper()
	l, ok := v.([]any)
	if !ok || len(l) <= i {
		t.Fatalf("not a list of more than %d items: %v", i, v)
	}
	return l[i]
}

// publicKey checks that pem is a public key imgaudit verify and cosign read.
func publicKey(t *testing.T, pem any) {
	t.Helper()
	s, _ := pem.(string)
	if _, err := attest.LoadPublicKey([]byte(s)); err != nil {
		t.Errorf("public key: %v\n%s", err, s)
	}
}

// TestKyvernoPolicy: Kyverno verifies imgaudit's test-result attestation
// with the key and admits only PASSED.
func TestKyvernoPolicy(t *testing.T) {
	doc := decodeAll(t, "admission/kyverno-clusterpolicy.yaml")[0]
	if doc["apiVersion"] != "kyverno.io/v1" || doc["kind"] != "ClusterPolicy" {
		t.Fatalf("%v %v", doc["apiVersion"], doc["kind"])
	}
	if get(t, doc, "spec", "validationFailureAction") != "Enforce" {
		t.Error("the policy does not enforce")
	}
	rule := index(t, get(t, doc, "spec", "rules"), 0)
	vi := index(t, get(t, rule, "verifyImages"), 0)
	att := index(t, get(t, vi, "attestations"), 0)
	if got := get(t, att, "type"); got != attest.PredicateTestResult {
		t.Errorf("attestation type %v, want %s", got, attest.PredicateTestResult)
	}
	keys := get(t, index(t, get(t, index(t, get(t, att, "attestors"), 0), "entries"), 0), "keys")
	publicKey(t, get(t, keys, "publicKeys"))
	if get(t, keys, "rekor", "ignoreTlog") != true {
		t.Error("rekor.ignoreTlog is not true: imgaudit does not write to Rekor")
	}
	cond := index(t, get(t, index(t, get(t, att, "conditions"), 0), "all"), 0)
	if get(t, cond, "key") != "{{ result }}" || get(t, cond, "operator") != "Equals" || get(t, cond, "value") != attest.Passed {
		t.Errorf("condition %v, want {{ result }} Equals PASSED", cond)
	}
}

// TestPolicyControllerPolicy: the sigstore policy-controller verifies the
// same attestation with the key (no transparency log) and a CUE policy
// requires PASSED.
func TestPolicyControllerPolicy(t *testing.T) {
	doc := decodeAll(t, "admission/policy-controller-clusterimagepolicy.yaml")[0]
	if doc["apiVersion"] != "policy.sigstore.dev/v1beta1" || doc["kind"] != "ClusterImagePolicy" {
		t.Fatalf("%v %v", doc["apiVersion"], doc["kind"])
	}
	auth := index(t, get(t, doc, "spec", "authorities"), 0).(map[string]any)
	publicKey(t, get(t, auth, "key", "data"))
	if _, ok := auth["ctlog"]; ok {
		t.Error("the authority checks a transparency log; imgaudit does not write to one")
	}
	att := index(t, get(t, auth, "attestations"), 0)
	if got := get(t, att, "predicateType"); got != attest.PredicateTestResult {
		t.Errorf("predicateType %v", got)
	}
	if get(t, att, "policy", "type") != "cue" {
		t.Error("the policy is not CUE")
	}
	data, _ := get(t, att, "policy", "data").(string)
	for _, want := range []string{`predicateType: "` + attest.PredicateTestResult + `"`, `predicate: result: "PASSED"`} {
		if !strings.Contains(data, want) {
			t.Errorf("policy lacks %q:\n%s", want, data)
		}
	}
}

// TestAttestWorkflow: the workflow gates, then attests with the key from a
// secret, never interpolating expressions into scripts.
func TestAttestWorkflow(t *testing.T) {
	doc := decodeAll(t, "github/imgaudit-attest.yml")[0]
	gate, attestStep := -1, -1
	for i, s := range get(t, doc, "jobs", "attest", "steps").([]any) {
		step := s.(map[string]any)
		script, _ := step["run"].(string)
		if script == "" {
			continue
		}
		if strings.Contains(script, "${{") {
			t.Errorf("step %v interpolates an expression into its script; pass it through env", step["name"])
		}
		bashSyntax(t, script)
		switch {
		case strings.Contains(script, "imgaudit scan --fail-on"):
			gate = i
		case strings.Contains(script, "imgaudit attest") && strings.Contains(script, "--key"):
			attestStep = i
			env := get(t, step, "env").(map[string]any)
			if !strings.Contains(env["COSIGN_PASSWORD"].(string), "secrets.") || !strings.Contains(env["COSIGN_PRIVATE_KEY"].(string), "secrets.") {
				t.Errorf("the key and password do not come from secrets: %v", env)
			}
		}
	}
	if gate < 0 || attestStep < gate {
		t.Errorf("gate step %d, attest step %d: want the attestation after the gate", gate, attestStep)
	}
}

// TestReadmeKyverno keeps the README's Kyverno excerpt in step with the
// example policy: same attestation type and condition.
func TestReadmeKyverno(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(raw), "## Signed verdicts")
	if !ok {
		t.Fatal("README has no Signed verdicts section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, block, ok := strings.Cut(sec, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	if !ok {
		t.Fatal("the section has no YAML block")
	}
	var doc struct {
		VerifyImages []map[string]any `yaml:"verifyImages"`
	}
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil || len(doc.VerifyImages) != 1 {
		t.Fatalf("README Kyverno excerpt: %v", err)
	}
	vi := doc.VerifyImages
	example := index(t, get(t, index(t, get(t, decodeAll(t, "admission/kyverno-clusterpolicy.yaml")[0], "spec", "rules"), 0), "verifyImages"), 0)
	for _, path := range [][]string{{"type"}, {"conditions"}} {
		got := get(t, index(t, get(t, vi[0], "attestations"), 0), path...)
		want := get(t, index(t, get(t, example, "attestations"), 0), path...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("README %v = %v, example has %v", path, got, want)
		}
	}
}
