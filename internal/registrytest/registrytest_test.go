package registrytest

import (
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// TestPlainPushPull pushes a random image over plain HTTP, reads it back,
// then checks that Stop really terminates the process.
func TestPlainPushPull(t *testing.T) {
	t.Parallel()
	r := Start(t, Options{})

	if !strings.HasPrefix(r.Host, "127.0.0.1:") {
		t.Errorf("Host = %q, want 127.0.0.1:PORT", r.Host)
	}
	if r.CAFile != "" {
		t.Errorf("CAFile = %q without TLS", r.CAFile)
	}
	if r.Auth() != authn.Anonymous {
		t.Errorf("Auth() = %v, want authn.Anonymous", r.Auth())
	}

	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := r.Ref(t, "imgaudit/plain:v1")
	if got := ref.Context().Scheme(); got != "http" {
		t.Errorf("ref scheme = %q, want http", got)
	}
	if err := remote.Write(ref, img, r.RemoteOptions()...); err != nil {
		t.Fatalf("remote.Write: %v", err)
	}
	pulled, err := remote.Image(ref, r.RemoteOptions()...)
	if err != nil {
		t.Fatalf("remote.Image: %v", err)
	}
	got, err := pulled.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("pulled digest %s, pushed %s", got, want)
	}
	// Read a layer back too, so blobs (not just the manifest) round-trip.
	layers, err := pulled.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("Layers() = %d layers, %v", len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatalf("fetching layer: %v", err)
	}
	rc.Close()

	pid := r.proc.cmd.Process.Pid
	start := time.Now()
	r.Stop()
	t.Logf("Stop took %v", time.Since(start))
	r.Stop() // idempotent

	if c, err := net.DialTimeout("tcp", r.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Stop", r.Host)
	}
	// The process has been reaped and its process group is empty.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) after Stop = %v, want ESRCH", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(-%d, 0) after Stop = %v, want ESRCH", pid, err)
	}
}

// schemeRecorder records the URL scheme of every request it forwards.
type schemeRecorder struct {
	base http.RoundTripper

	mu      sync.Mutex
	schemes map[string]int
}

func (s *schemeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	if s.schemes == nil {
		s.schemes = map[string]int{}
	}
	s.schemes[req.URL.Scheme]++
	s.mu.Unlock()
	return s.base.RoundTrip(req)
}

// TestTLSAuth checks that a TLS + htpasswd registry rejects anonymous and
// wrong-password pushes with 401 and serves authenticated clients over
// HTTPS trusting only the generated CA.
func TestTLSAuth(t *testing.T) {
	t.Parallel()
	r := Start(t, Options{TLS: true, Username: "alice", Password: "s3cret pass"})

	if r.Username != "alice" || r.Password != "s3cret pass" {
		t.Errorf("credentials = %q/%q", r.Username, r.Password)
	}
	if !strings.HasPrefix(r.URL(), "https://") {
		t.Errorf("URL() = %q, want https", r.URL())
	}
	caPEM, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatalf("reading CAFile: %v", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
		t.Fatalf("CAFile %s holds no PEM certificate", r.CAFile)
	}

	// Without the CA, the server certificate is not trusted.
	plain := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	if resp, err := plain.Get(r.URL() + "/v2/"); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s/v2/ without the CA succeeded", r.URL())
	} else if !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("GET without the CA: %v, want x509.UnknownAuthorityError", err)
	}

	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := r.Ref(t, "imgaudit/secure:v1")
	rec := &schemeRecorder{base: r.Transport()}

	for _, tc := range []struct {
		name string
		auth authn.Authenticator
	}{
		{"anonymous", authn.Anonymous},
		{"wrong password", &authn.Basic{Username: "alice", Password: "nope"}},
	} {
		err := remote.Write(ref, img, remote.WithTransport(rec), remote.WithAuth(tc.auth))
		var terr *transport.Error
		if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s push: err = %v, want HTTP 401", tc.name, err)
		}
	}

	opts := []remote.Option{remote.WithTransport(rec), remote.WithAuth(r.Auth())}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("authenticated remote.Write: %v", err)
	}
	pulled, err := remote.Image(ref, opts...)
	if err != nil {
		t.Fatalf("authenticated remote.Image: %v", err)
	}
	got, err := pulled.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("pulled digest %s, pushed %s", got, want)
	}

	// go-containerregistry may fall back to http for loopback hosts; make
	// sure everything actually went over TLS.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.schemes["https"] == 0 || len(rec.schemes) != 1 {
		t.Errorf("request schemes = %v, want only https", rec.schemes)
	}
}

// TestConfig checks the rendered configuration for the required settings.
func TestConfig(t *testing.T) {
	c := config{
		addr:         "127.0.0.1:5000",
		storageDir:   `/tmp/dir "with" quotes`,
		secret:       "s",
		instance:     "i",
		certFile:     "/c.pem",
		keyFile:      "/k.pem",
		htpasswdFile: "/h",
	}
	y := string(c.yaml())
	for _, want := range []string{
		"version: 0.1",
		`addr: "127.0.0.1:5000"`,
		`rootdirectory: "/tmp/dir \"with\" quotes"`,
		"delete:\n    enabled: true",
		"accesslog:\n    disabled: true",
		"level: warn",
		`certificate: "/c.pem"`,
		`path: "/h"`,
	} {
		if !strings.Contains(y, want) {
			t.Errorf("config lacks %q:\n%s", want, y)
		}
	}
	if strings.Contains(y, "debug:") {
		t.Errorf("config enables the debug server:\n%s", y)
	}
}
