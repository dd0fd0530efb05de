package attest_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
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
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/imgaudit/imgaudit/internal/e2e"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/pkg/attest"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// inProcess starts go-containerregistry's registry; referrers says
// whether it serves the OCI 1.1 referrers API.
func inProcess(t *testing.T, referrers bool, front func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.WithReferrersSupport(referrers), registry.Logger(log.New(io.Discard, "", 0)))
	if front != nil {
		h = front(h)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// pushImage pushes a random image to host/repo:tag and returns its digest
// reference.
func pushImage(t *testing.T, host, repoTag string, ropts ...remote.Option) name.Digest {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, ropts...); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return ref.Context().Digest(d.String())
}

func client(t *testing.T) *fetch.Client {
	t.Helper()
	c, err := fetch.NewClient(context.Background(), fetch.WithInsecure(), fetch.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// signed returns the attestations of a verdict on d at time at.
func signed(t *testing.T, kp keyPair, d name.Digest, at time.Time, fs ...report.Finding) []attest.Attestation {
	t.Helper()
	img := evaluated(t, d.DigestStr(), policy.Threshold(report.High), fs...)
	img.Reference = d.Context().String() + ":1.0"
	v, err := attest.NewVerdict(attest.Input{Image: img, FailOn: policy.Threshold(report.High), ToolVersion: "1.0.0", Time: at})
	if err != nil {
		t.Fatal(err)
	}
	atts, err := attest.SignVerdict(context.Background(), kp.signer, v, []byte(`{"schemaVersion":1,"images":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	return atts
}

// foreignTag writes someone else's attestation image at d's .att tag: one
// test-result layer without imgaudit's mark.
func foreignTag(t *testing.T, d name.Digest, envelope []byte) {
	t.Helper()
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(envelope, attest.EnvelopeMediaType),
		Annotations: map[string]string{"predicateType": attest.PredicateTestResult, "dev.cosignproject.cosign/signature": ""},
		MediaType:   attest.EnvelopeMediaType,
	})
	if err != nil {
		t.Fatal(err)
	}
	tag := d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + ".att")
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
}

func TestAttachDiscoverVerify(t *testing.T) {
	cosign := cosignBinary(t)
	if cosign == "" {
		t.Log("cosign not found (IMGAUDIT_COSIGN, PATH): the cosign verify-attestation checks are skipped")
	}
	for _, tc := range []struct {
		name string
		host func(t *testing.T) string
	}{
		{"docker-registry", func(t *testing.T) string { return registrytest.Start(t, registrytest.Options{}).Host }},
		{"referrers API", func(t *testing.T) string { return inProcess(t, true, nil) }},
		{"no referrers API", func(t *testing.T) string { return inProcess(t, false, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			host := tc.host(t)
			d := pushImage(t, host, "team/app:1.0")
			c := client(t)
			kp, other := ecdsaKeys(t), ecdsaKeys(t)
			// Someone else's test result, which attesting must keep.
			theirs := signed(t, other, d, t0)[0]
			foreignTag(t, d, theirs.Envelope)

			first := signed(t, kp, d, t0)
			if err := attest.Attach(ctx, c, d, first, attest.AttachOptions{Now: t0}); err != nil {
				t.Fatal(err)
			}
			shell := report.Finding{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Path: "/bin/sh"}
			second := signed(t, kp, d, t0.Add(time.Hour), shell)
			if err := attest.Attach(ctx, c, d, second, attest.AttachOptions{Now: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}

			found, err := attest.Discover(ctx, c, d, "")
			if err != nil {
				t.Fatal(err)
			}
			where := map[string]int{}
			for _, f := range found {
				kind, _, _ := strings.Cut(f.Where, " ")
				where[kind+" "+f.PredicateType+" "+map[bool]string{true: "ours", false: "theirs"}[f.Imgaudit]]++
				if f.Imgaudit && !bytes.Equal(f.Envelope, second[0].Envelope) && !bytes.Equal(f.Envelope, second[1].Envelope) {
					t.Errorf("%s: an envelope of the first attestation survived", f.Where)
				}
			}
			want := map[string]int{
				"tag " + attest.PredicateTestResult + " theirs":    1,
				"tag " + attest.PredicateTestResult + " ours":      1,
				"tag " + attest.PredicateReport + " ours":          1,
				"referrer " + attest.PredicateTestResult + " ours": 1,
				"referrer " + attest.PredicateReport + " ours":     1,
			}
			if !equalCounts(where, want) {
				t.Errorf("found %v, want %v", where, want)
			}

			v, err := attest.Verify(ctx, found, kp.verifier, attest.VerifyOptions{Digest: d.DigestStr(), Require: attest.RequireWarned, Now: t0.Add(2 * time.Hour), MaxAge: 24 * time.Hour})
			if err != nil || v.Result != attest.Warned || v.WarnedTests[0] != "IA-SHELL" {
				t.Fatalf("verify = %+v, %v", v, err)
			}
			if _, err := attest.Verify(ctx, found, kp.verifier, attest.VerifyOptions{Digest: d.DigestStr()}); !errors.Is(err, attest.ErrRequirement) {
				t.Errorf("--require passed: err = %v", err)
			}
			target, err := attest.Target(ctx, c, d.Context().String()+":1.0", fetch.WithInsecure())
			if err != nil || target != d {
				t.Fatalf("Target = %v, %v; want %v", target, err, d)
			}
			v, err = attest.VerifyImage(ctx, c, target, kp.verifier, attest.VerifyOptions{Require: attest.RequireWarned})
			if err != nil || v.Result != attest.Warned {
				t.Errorf("VerifyImage by tag = %+v, %v", v, err)
			}

			if cosign != "" {
				for _, pt := range []string{attest.PredicateTestResult, attest.PredicateReport} {
					out, err := cosignVerify(t, cosign, kp.pub, pt, d.String())
					if err != nil {
						t.Errorf("cosign verify-attestation --type %s: %v\n%s", pt, err, out)
					} else if !strings.Contains(out, "The cosign claims were validated") {
						t.Errorf("cosign verify-attestation --type %s said:\n%s", pt, out)
					}
				}
				if out, err := cosignVerify(t, cosign, other.pub, attest.PredicateReport, d.String()); err == nil {
					t.Errorf("cosign accepted imgaudit's report with another key:\n%s", out)
				}
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	host := inProcess(t, true, nil)
	c := client(t)
	kp, other := ecdsaKeys(t), ecdsaKeys(t)
	verify := func(d name.Digest, v signature.Verifier, o attest.VerifyOptions) error {
		_, err := attest.VerifyImage(ctx, c, d, v, o)
		return err
	}

	missing := pushImage(t, host, "team/missing:1")
	if err := verify(missing, kp.verifier, attest.VerifyOptions{}); !errors.Is(err, attest.ErrNoAttestation) {
		t.Errorf("missing: %v", err)
	}

	good := pushImage(t, host, "team/good:1")
	if err := attest.Attach(ctx, c, good, signed(t, kp, good, t0), attest.AttachOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if err := verify(good, kp.verifier, attest.VerifyOptions{Now: t0.Add(time.Hour)}); err != nil {
		t.Errorf("good: %v", err)
	}
	err := verify(good, other.verifier, attest.VerifyOptions{})
	if !errors.Is(err, attest.ErrBadSignature) || errors.Is(err, attest.ErrNoAttestation) {
		t.Errorf("wrong key: %v", err)
	}
	err = verify(good, kp.verifier, attest.VerifyOptions{MaxAge: 24 * time.Hour, Now: t0.Add(48 * time.Hour)})
	if !errors.Is(err, attest.ErrExpired) {
		t.Errorf("expired: %v", err)
	}

	tampered := pushImage(t, host, "team/tampered:1")
	atts := signed(t, kp, tampered, t0)
	atts[0].Envelope = bytes.Replace(atts[0].Envelope, []byte(`"payload":"`), []byte(`"payload":"eyJ`), 1)
	if err := attest.Attach(ctx, c, tampered, atts[:1], attest.AttachOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if err := verify(tampered, kp.verifier, attest.VerifyOptions{}); !errors.Is(err, attest.ErrBadSignature) {
		t.Errorf("tampered: %v", err)
	}

	elsewhere := pushImage(t, host, "team/elsewhere:1")
	if err := attest.Attach(ctx, c, elsewhere, signed(t, kp, good, t0), attest.AttachOptions{Now: t0, NoReferrer: true}); err != nil {
		t.Fatal(err)
	}
	if err := verify(elsewhere, kp.verifier, attest.VerifyOptions{}); !errors.Is(err, attest.ErrOtherDigest) {
		t.Errorf("another digest: %v", err)
	}
	for _, err := range []error{verify(elsewhere, kp.verifier, attest.VerifyOptions{}), verify(tampered, other.verifier, attest.VerifyOptions{})} {
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("not one line: %q", err)
		}
	}
}

func TestAttachReadOnlyRegistry(t *testing.T) {
	ctx := context.Background()
	readOnly := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("X-Test-Setup") == "" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	host := inProcess(t, true, readOnly)
	d := pushImage(t, host, "team/app:1", remote.WithTransport(setupTransport{}))
	kp := ecdsaKeys(t)
	err := attest.Attach(ctx, client(t), d, signed(t, kp, d, t0), attest.AttachOptions{Now: t0})
	if !errors.Is(err, fetch.ErrUnauthorized) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

// setupTransport marks the test's own pushes, which the read-only front
// lets through.
type setupTransport struct{}

func (setupTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Setup", "1")
	return http.DefaultTransport.RoundTrip(r)
}

// cosignBinary finds the real cosign CLI ($IMGAUDIT_COSIGN, else PATH);
// without it the cosign checks are skipped, unless CI=true or IMGAUDIT_E2E=1 (internal/e2e).
func cosignBinary(t *testing.T) string {
	t.Helper()
	return e2e.Lookup(t, "cosign", "IMGAUDIT_COSIGN", "bash .ci/run builds it from its Go module")
}

func cosignVerify(t *testing.T, cosign, pub, predicateType, ref string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cosign, "verify-attestation", "--key", pub, "--type", predicateType,
		"--insecure-ignore-tlog=true", "--allow-insecure-registry", "--output", "json", ref)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "TUF_ROOT="+filepath.Join(home, "tuf"), "SIGSTORE_NO_CACHE=true")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCosignEd25519: cosign verify-attestation also accepts what an
// Ed25519 PKCS#8 key signed.
func TestCosignEd25519(t *testing.T) {
	cosign := cosignBinary(t)
	if cosign == "" {
		t.Skip("cosign not found (IMGAUDIT_COSIGN, PATH)")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kp := loadPair(t, priv, pub, nil)
	host := inProcess(t, true, nil)
	d := pushImage(t, host, "team/ed:1")
	if err := attest.Attach(context.Background(), client(t), d, signed(t, kp, d, t0), attest.AttachOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if out, err := cosignVerify(t, cosign, kp.pub, attest.PredicateTestResult, d.String()); err != nil || !strings.Contains(out, "The cosign claims were validated") {
		t.Fatalf("cosign verify-attestation: %v\n%s", err, out)
	}
}

// TestAttachNoDelete: on a registry that does not delete manifests the
// earlier referrer stays, and verification takes the newest verdict.
func TestAttachNoDelete(t *testing.T) {
	ctx := context.Background()
	noDelete := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusMethodNotAllowed)
				io.WriteString(w, `{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	d := pushImage(t, inProcess(t, true, noDelete), "team/app:1")
	c, kp := client(t), ecdsaKeys(t)
	shell := report.Finding{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Path: "/bin/sh"}
	for _, at := range []time.Time{t0, t0.Add(time.Hour)} {
		atts := signed(t, kp, d, at, shell)
		if at.Equal(t0) {
			atts = signed(t, kp, d, at)
		}
		if err := attest.Attach(ctx, c, d, atts[:1], attest.AttachOptions{Now: at, NoTag: true}); err != nil {
			t.Fatal(err)
		}
	}
	found, err := attest.Discover(ctx, c, d, attest.PredicateTestResult)
	if err != nil || len(found) != 2 {
		t.Fatalf("found %d, %v; want both referrers", len(found), err)
	}
	v, err := attest.Verify(ctx, found, kp.verifier, attest.VerifyOptions{Digest: d.DigestStr(), Require: attest.RequireWarned})
	if err != nil || v.Result != attest.Warned {
		t.Errorf("verify = %s, %v; want the newer WARNED", v.Result, err)
	}
}
