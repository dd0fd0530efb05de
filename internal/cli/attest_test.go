package cli_test

import (
	"context"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/e2e"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/internal/testimages"
	"github.com/imgaudit/imgaudit/pkg/attest"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// Sentinel secrets: none may ever appear in any output.
const (
	keyPassword = "s3ntinel-K3y-Pa55word"
	regPassword = "s3ntinel-Pa55word"
)

// cosignPath finds the real cosign CLI ($IMGAUDIT_COSIGN, else PATH); when
// missing the cosign checks are skipped, unless CI=true or IMGAUDIT_E2E=1 (internal/e2e).
func cosignPath(t *testing.T) string {
	t.Helper()
	return e2e.Lookup(t, "cosign", "IMGAUDIT_COSIGN", "bash .ci/run builds it from its Go module")
}

// keyPair writes cosign.key and cosign.pub into dir: made by the real
// `cosign generate-key-pair` when there is one, else in the same format
// by sigstore's generator.
func keyPair(t *testing.T, cosign, dir string) (priv, pub string) {
	t.Helper()
	priv, pub = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	if cosign != "" {
		cmd := exec.Command(cosign, "generate-key-pair")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+keyPassword, "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
		}
		return priv, pub
	}
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(keyPassword)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(priv, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// noSecrets fails when output shows a password or any line of the key.
func noSecrets(t *testing.T, what string, r result, privFile string) {
	t.Helper()
	out := r.stdout + r.stderr
	for _, s := range []string{keyPassword, regPassword} {
		if strings.Contains(out, s) {
			t.Errorf("%s: a password appears in the output:\n%s", what, out)
		}
	}
	key, _ := os.ReadFile(privFile)
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(out, line) {
			t.Errorf("%s: the private key appears in the output:\n%s", what, out)
		}
	}
}

// TestAttestVerify attests the demo image in the real registry over TLS
// with htpasswd auth, then verifies the verdict with imgaudit verify and
// with the real cosign CLI, and checks each bad input's one-line error
// and exit code.
func TestAttestVerify(t *testing.T) {
	cosign := cosignPath(t)
	dir := t.TempDir()
	priv, pub := keyPair(t, cosign, dir)
	_, otherPub := keyPair(t, cosign, t.TempDir())

	reg := registrytest.Start(t, registrytest.Options{TLS: true, Username: "ci", Password: regPassword})
	img, err := testimages.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(reg.Ref(t, "team/demo:1.0"), img, reg.RemoteOptions()...); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	ref := reg.Host + "/team/demo:1.0"
	conn := []string{"--ca-file", reg.CAFile, "--username", "ci", "--password-stdin", "--retries", "0"}
	now := time.Now()
	env := func(at time.Time) cli.Env {
		return cli.Env{Stdin: strings.NewReader(regPassword + "\n"), Now: func() time.Time { return at },
			Getenv: func(k string) string { return map[string]string{"COSIGN_PASSWORD": keyPassword}[k] }}
	}
	step := func(name string, at time.Time, wantCode int, args ...string) result {
		t.Helper()
		r := runEnv(t, env(at), args...)
		noSecrets(t, name, r, priv)
		if r.code != wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, r.code, wantCode, r.stdout, r.stderr)
		}
		if wantCode != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: more than one line:\n%s", name, r.stderr)
		}
		return r
	}

	// --fail-on none: the demo image's findings only warn.
	r := step("attest", now, 0, append(append([]string{"attest", "--no-policy", "--fail-on", "none", "--key", priv, "--report"}, conn...), ref)...)
	if !strings.Contains(r.stdout, "attested "+reg.Host+"/team/demo@"+d.String()+": WARNED") {
		t.Errorf("attest output: %q", r.stdout)
	}
	r = step("verify warned", now, 0, append(append([]string{"verify", "--key", pub, "--require", "warned", "--max-age", "7d"}, conn...), ref)...)
	if !strings.Contains(r.stdout, d.String()+": WARNED") {
		t.Errorf("verify output: %q", r.stdout)
	}
	r = step("verify passed", now, 1, append(append([]string{"verify", "--key", pub}, conn...), ref)...)
	if !strings.Contains(r.stderr, "verdict does not meet the requirement: WARNED") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = step("wrong key", now, 2, append(append([]string{"verify", "--key", otherPub}, conn...), ref)...)
	if !strings.Contains(r.stderr, "bad signature") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = step("expired", now.Add(8*24*time.Hour), 2, append(append([]string{"verify", "--key", pub, "--max-age", "7d", "--require", "warned"}, conn...), ref)...)
	if !strings.Contains(r.stderr, "attestation too old") {
		t.Errorf("stderr %q", r.stderr)
	}
	other, _ := random.Image(256, 1)
	if err := remote.Write(reg.Ref(t, "team/other:1"), other, reg.RemoteOptions()...); err != nil {
		t.Fatal(err)
	}
	r = step("missing", now, 2, append(append([]string{"verify", "--key", pub}, conn...), reg.Host+"/team/other:1")...)
	if !strings.Contains(r.stderr, "no imgaudit attestation") {
		t.Errorf("stderr %q", r.stderr)
	}
	badEnv := env(now)
	badEnv.Getenv = func(k string) string { return map[string]string{"COSIGN_PASSWORD": "wrong-" + keyPassword}[k] }
	r = runEnv(t, badEnv, append(append([]string{"attest", "--key", priv}, conn...), ref)...)
	noSecrets(t, "wrong password", r, priv)
	if r.code != 2 || !strings.Contains(r.stderr, "does not decrypt") || strings.Contains(r.stderr, "wrong-") {
		t.Errorf("wrong password: exit %d, stderr %q", r.code, r.stderr)
	}

	if cosign == "" {
		return
	}
	for _, pt := range []string{attest.PredicateTestResult, attest.PredicateReport} {
		out, err := cosignVerifyAttestation(t, cosign, pub, pt, reg, reg.Host+"/team/demo@"+d.String())
		if err != nil || !strings.Contains(out, "The cosign claims were validated") {
			t.Errorf("cosign verify-attestation --type %s: %v\n%s", pt, err, out)
		}
	}
	if out, err := cosignVerifyAttestation(t, cosign, otherPub, attest.PredicateTestResult, reg, reg.Host+"/team/demo@"+d.String()); err == nil {
		t.Errorf("cosign accepted the attestation with another key:\n%s", out)
	}
}

// cosignVerifyAttestation runs the real cosign against reg (its CA and
// credentials in a throwaway HOME and DOCKER_CONFIG).
func cosignVerifyAttestation(t *testing.T, cosign, pub, predicateType string, reg *registrytest.Registry, ref string) (string, error) {
	t.Helper()
	home := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Host: map[string]string{"auth": auth}}})
	if err := os.WriteFile(filepath.Join(home, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cosign, "verify-attestation", "--key", pub, "--type", predicateType,
		"--insecure-ignore-tlog=true", "--allow-insecure-registry", ref)
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+home, "SSL_CERT_FILE="+reg.CAFile)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestAttestOutput writes the envelopes of a local layout's verdict to a
// file; without --output there is nowhere to attach them.
func TestAttestOutput(t *testing.T) {
	dir := t.TempDir()
	priv, pub := keyPair(t, "", dir)
	image := "oci:" + filepath.Join("..", "..", "testdata", "images", "hardened")
	envs := filepath.Join(dir, "verdict.intoto.jsonl")
	e := cli.Env{Getenv: func(k string) string { return map[string]string{"COSIGN_PASSWORD": keyPassword}[k] }}
	r := runEnv(t, e, "attest", "--no-policy", "--key", priv, "--report", "--output", envs, image)
	noSecrets(t, "attest --output", r, priv)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(envs)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d envelopes, want 2", len(lines))
	}
	v, err := attest.LoadPublicKeyFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := attest.Open(context.Background(), []byte(lines[0]), v)
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	vd, err := attest.ParseVerdict(st)
	if err != nil {
		t.Fatal(err)
	}
	want := decode(t, run(t, nil, "", "scan", "--no-policy", "--no-sbom", "--format", "json", image).stdout).Images[0]
	if vd.Digest != want.Digest || vd.ToolVersion != "test" {
		t.Errorf("verdict %+v, want digest %s", vd, want.Digest)
	}
	// The policy file is named by its SHA-256, its threshold applies.
	pol := filepath.Join(dir, "policy.yaml")
	polData := []byte("version: 1\nfail-on: critical\n")
	if err := os.WriteFile(pol, polData, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runEnv(t, e, "attest", "--policy", pol, "--key", priv, "--output", envs, image); r.code != 0 {
		t.Fatalf("attest --policy: exit %d: %s", r.code, r.stderr)
	}
	raw, _ = os.ReadFile(envs)
	payload, err = attest.Open(context.Background(), raw[:strings.IndexByte(string(raw), '\n')], v)
	if err != nil {
		t.Fatal(err)
	}
	st, _ = attest.ParseStatement(payload)
	if vd, err = attest.ParseVerdict(st); err != nil || vd.FailOn != policy.Threshold(report.Critical).String() || vd.PolicyName != pol ||
		vd.PolicyDigest != fmt.Sprintf("sha256:%x", sha256.Sum256(polData)) {
		t.Errorf("verdict with a policy: %+v, %v", vd, err)
	}

	r = runEnv(t, e, "attest", "--no-policy", "--key", priv, image)
	if r.code != 2 || !strings.Contains(r.stderr, "not in a registry") {
		t.Errorf("attest without --output: exit %d, %q", r.code, r.stderr)
	}
}

// TestAttestPushDenied: a registry that lets the audit pull but refuses
// the push: one line, exit 2.
func TestAttestPushDenied(t *testing.T) {
	reg := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	const setup = "X-Test-Setup"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get(setup) == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host+"/team/app:1", name.Insecure)
	tr := headerTransport{setup}
	if err := remote.Write(ref, img, remote.WithTransport(tr)); err != nil {
		t.Fatal(err)
	}
	priv, _ := keyPair(t, "", t.TempDir())
	e := cli.Env{Getenv: func(k string) string { return map[string]string{"COSIGN_PASSWORD": keyPassword}[k] }}
	r := runEnv(t, e, "attest", "--insecure", "--retries", "0", "--no-policy", "--key", priv, host+"/team/app:1")
	noSecrets(t, "push denied", r, priv)
	if r.code != 2 || !strings.Contains(r.stderr, "unauthorized: requested access to the resource is denied") ||
		strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// headerTransport sets a header on every request.
type headerTransport struct{ header string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.header, "1")
	return http.DefaultTransport.RoundTrip(r)
}
