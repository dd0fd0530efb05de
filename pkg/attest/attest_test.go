package attest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/imgaudit/imgaudit/pkg/attest"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// evaluated returns an image with findings, gated by policy.Evaluate.
func evaluated(t *testing.T, digest string, failOn policy.Threshold, fs ...report.Finding) report.Image {
	t.Helper()
	r := &report.Report{Images: []report.Image{{Reference: "registry.example.com/team/app:1.2", Digest: digest, Findings: fs, Layers: []report.Layer{}}}}
	policy.Evaluate(r, nil, failOn, t0)
	return r.Images[0]
}

func TestNewVerdict(t *testing.T) {
	shell := report.Finding{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Path: "/bin/sh"}
	root := report.Finding{ID: "IA-ROOT-USER", Category: "root-user", Severity: report.High}
	for _, tc := range []struct {
		name         string
		failOn       policy.Threshold
		findings     []report.Finding
		want         string
		warned, fail []string
	}{
		{"clean", policy.Threshold(report.High), nil, attest.Passed, nil, nil},
		{"below the threshold", policy.Threshold(report.High), []report.Finding{shell}, attest.Warned, []string{"IA-SHELL"}, nil},
		{"at the threshold", policy.Threshold(report.High), []report.Finding{shell, root}, attest.Failed, []string{"IA-SHELL"}, []string{"IA-ROOT-USER"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := evaluated(t, digestA, tc.failOn, tc.findings...)
			v, err := attest.NewVerdict(attest.Input{Image: img, FailOn: tc.failOn, ToolVersion: "1.0.0", Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			if v.Result != tc.want || !slices.Equal(v.WarnedTests, tc.warned) || !slices.Equal(v.FailedTests, tc.fail) {
				t.Errorf("verdict %s warned %v failed %v, want %s %v %v", v.Result, v.WarnedTests, v.FailedTests, tc.want, tc.warned, tc.fail)
			}
			if slices.Contains(v.PassedTests, "IA-SHELL") == (len(tc.warned) > 0) || len(v.PassedTests) < 10 {
				t.Errorf("passed tests %v", v.PassedTests)
			}
			// The statement round-trips through the in-toto bindings.
			b, err := v.Statement()
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := json.Unmarshal(b, &raw); err != nil || raw["_type"] != "https://in-toto.io/Statement/v1" || raw["predicateType"] != attest.PredicateTestResult {
				t.Fatalf("statement %s (%v)", b, err)
			}
			st, err := attest.ParseStatement(b)
			if err != nil {
				t.Fatal(err)
			}
			back, err := attest.ParseVerdict(st)
			if err != nil {
				t.Fatal(err)
			}
			if back.Result != v.Result || back.Digest != digestA || !back.Time.Equal(t0) || back.Subject != "registry.example.com/team/app" || back.FailOn != tc.failOn.String() {
				t.Errorf("parsed %+v", back)
			}
		})
	}
	t.Run("incomplete", func(t *testing.T) {
		r := &report.Report{Images: []report.Image{{Reference: "x", Digest: digestA, Error: "boom", Findings: []report.Finding{}}}}
		policy.Evaluate(r, nil, policy.Threshold(report.High), t0)
		if _, err := attest.NewVerdict(attest.Input{Image: r.Images[0]}); !errors.Is(err, attest.ErrIncomplete) {
			t.Fatalf("err = %v", err)
		}
	})
}

// keyFiles writes a private and a public key PEM into dir.
func pkcs8(t *testing.T, dir string, priv any, pub any) (privFile, pubFile string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	privFile, pubFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	write(t, privFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	write(t, pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	return privFile, pubFile
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

type keyPair struct {
	signer   signature.SignerVerifier
	verifier signature.Verifier
	priv     string // file
	pub      string // file
}

func ecdsaKeys(t *testing.T) keyPair {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return loadPair(t, k, &k.PublicKey, nil)
}

func loadPair(t *testing.T, priv, pub any, password []byte) keyPair {
	t.Helper()
	dir := t.TempDir()
	privFile, pubFile := pkcs8(t, dir, priv, pub)
	s, err := attest.LoadPrivateKeyFile(privFile, func() ([]byte, error) { return password, nil })
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.LoadPublicKeyFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{s, v, privFile, pubFile}
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	stmt := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, kp := range map[string]keyPair{"ecdsa": ecdsaKeys(t), "ed25519": loadPair(t, edPriv, edPub, nil)} {
		env, err := attest.Sign(ctx, kp.signer, stmt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := attest.Open(ctx, env, kp.verifier)
		if err != nil || string(got) != string(stmt) {
			t.Fatalf("%s: open = %q, %v", name, got, err)
		}
	}

	// A cosign-format key (scrypt + secretbox, "ENCRYPTED SIGSTORE PRIVATE
	// KEY"), as sigstore's own generator writes it.
	const password = "s3ntinel-k3y-Pa55"
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(privPEM), "ENCRYPTED SIGSTORE PRIVATE KEY") {
		t.Fatalf("unexpected PEM %s", privPEM)
	}
	s, err := attest.LoadPrivateKey(privPEM, func() ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.LoadPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	env, err := attest.Sign(ctx, s, stmt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Open(ctx, env, v); err != nil {
		t.Fatal(err)
	}
	_, err = attest.LoadPrivateKey(privPEM, func() ([]byte, error) { return []byte("wrong-" + password), nil })
	if !errors.Is(err, attest.ErrPassword) || strings.Contains(err.Error(), password) {
		t.Errorf("wrong password: %v", err)
	}

	// Bad keys: one-line errors that quote nothing of the key.
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(p384)
	for name, b := range map[string][]byte{
		"public key": pubPEM,
		"P-384":      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"garbage":    []byte("not a key"),
		"truncated":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der[:20]}),
	} {
		_, err := attest.LoadPrivateKey(b, nil)
		if err == nil || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(der[:12])) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	ctx := context.Background()
	kp, other := ecdsaKeys(t), ecdsaKeys(t)
	env, err := attest.Sign(ctx, kp.signer, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	e["payload"] = base64.StdEncoding.EncodeToString([]byte(`{"a":2}`))
	tampered, _ := json.Marshal(e)
	for name, tc := range map[string]struct {
		env []byte
		v   signature.Verifier
	}{
		"tampered":  {tampered, kp.verifier},
		"wrong key": {env, other.verifier},
		"garbage":   {[]byte("{"), kp.verifier},
	} {
		if _, err := attest.Open(ctx, tc.env, tc.v); !errors.Is(err, attest.ErrBadSignature) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestParseMaxAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := attest.ParseMaxAge(in); err != nil || got != want {
			t.Errorf("%s = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0d", "-1h", "7x", "d"} {
		if _, err := attest.ParseMaxAge(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
