// Package registrytest starts a real CNCF distribution registry
// (the Debian "docker-registry" package, /usr/bin/docker-registry) for
// end-to-end tests.
//
// Each call to [Start] launches a private registry process bound to
// 127.0.0.1 on a free port, with its storage, configuration, optional TLS
// material and optional htpasswd file in a per-test temporary directory.
// The process is stopped automatically when the test finishes (via
// t.Cleanup), or earlier with [Registry.Stop].
//
// A typical test:
//
//	r := registrytest.Start(t, registrytest.Options{})
//	ref := r.Ref(t, "library/busybox:latest")
//	err := remote.Write(ref, img, r.RemoteOptions()...)
//
// The registry binary is a system dependency that CI installs with
// .ci/run; when it is missing, Start fails the test rather than skipping it.
package registrytest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgaudit/imgaudit/internal/e2e"
)

// BinaryPath is the registry executable started by [Start]. It is provided
// by the Debian package docker-registry (CNCF distribution v2).
const BinaryPath = "/usr/bin/docker-registry"

const (
	readyTimeout = 15 * time.Second // how long Start waits for GET /v2/
	stopTimeout  = 5 * time.Second  // how long Stop waits after SIGTERM
	maxAttempts  = 3                // port-bind race retries
	logTailBytes = 4096             // how much of the log failure messages show
	instanceHdr  = "X-Registrytest-Instance"
)

// Options configures the registry started by [Start].
type Options struct {
	// TLS serves HTTPS with a server certificate for 127.0.0.1/localhost
	// signed by a freshly generated CA (see Registry.CAFile).
	TLS bool
	// Username and Password, when set, enable htpasswd (basic) auth with
	// this single account. Both must be set, or neither.
	Username, Password string
}

// Registry is a running registry process started by [Start].
type Registry struct {
	// Host is "127.0.0.1:PORT", suitable as the registry part of a reference.
	Host string
	// CAFile is the PEM file of the CA that signed the server certificate
	// when Options.TLS is set; empty otherwise.
	CAFile string
	// Username and Password are the htpasswd credentials (empty without auth).
	Username, Password string
	// LogPath is the file receiving the registry's stdout and stderr.
	LogPath string

	tls       bool
	transport *http.Transport

	mu       sync.Mutex
	proc     *process
	stopOnce sync.Once
	tb       testing.TB
}

// process is one started registry process.
type process struct {
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	done    chan struct{} // closed once the process has been reaped
	waitErr error         // valid after done is closed
}

// Start starts a registry configured by opts and waits until it answers
// GET /v2/. It calls t.Fatalf (with the tail of the registry log) on any
// failure of a registry that is installed. The registry is
// stopped by a t.Cleanup hook; calling [Registry.Stop] earlier is allowed.
// Without the registry binary the test skips, or fails in CI (internal/e2e).
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()

	if fi, err := os.Stat(BinaryPath); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		why := "not installed"
		if err == nil {
			why = BinaryPath + " is not an executable file"
		}
		e2e.Missing(t, "docker-registry", why, "as root, apt-get install -y docker-registry apache2-utils; or run .ci/run")
	}
	if (opts.Username == "") != (opts.Password == "") {
		t.Fatalf("registrytest: Options.Username and Options.Password must be set together")
	}
	if strings.ContainsAny(opts.Username, ":\n") {
		t.Fatalf("registrytest: invalid username %q", opts.Username)
	}

	// TempDir must be requested before registering Stop so that (LIFO)
	// cleanup stops the process before the directory is removed.
	dir := t.TempDir()
	r := &Registry{
		Username: opts.Username,
		Password: opts.Password,
		tls:      opts.TLS,
		tb:       t,
	}
	t.Cleanup(r.Stop)

	cfg := config{
		storageDir: filepath.Join(dir, "storage"),
		secret:     randomHex(t, 16),
		instance:   randomHex(t, 16),
	}
	if err := os.Mkdir(cfg.storageDir, 0o700); err != nil {
		t.Fatalf("registrytest: %v", err)
	}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // never send loopback traffic through a proxy
	if opts.TLS {
		caPEM, certPEM, keyPEM := generateCerts(t)
		r.CAFile = filepath.Join(dir, "ca.pem")
		cfg.certFile = filepath.Join(dir, "server.pem")
		cfg.keyFile = filepath.Join(dir, "server-key.pem")
		writeFile(t, r.CAFile, caPEM, 0o644)
		writeFile(t, cfg.certFile, certPEM, 0o644)
		writeFile(t, cfg.keyFile, keyPEM, 0o600)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	r.transport = tr
	if opts.Username != "" {
		cfg.htpasswdFile = filepath.Join(dir, "htpasswd")
		writeFile(t, cfg.htpasswdFile, htpasswdEntry(t, opts.Username, opts.Password), 0o600)
	}

	var lastFailure string
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		port := freePort(t)
		r.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cfg.addr = r.Host
		cfgPath := filepath.Join(dir, "config.yml")
		writeFile(t, cfgPath, cfg.yaml(), 0o600)
		r.LogPath = filepath.Join(dir, fmt.Sprintf("registry-%d.log", attempt))

		p, err := startProcess(cfgPath, r.LogPath, dir)
		if err != nil {
			t.Fatalf("registrytest: starting %s: %v", BinaryPath, err)
		}
		r.mu.Lock()
		r.proc = p
		r.mu.Unlock()

		err = r.waitReady(p, cfg.instance, opts.Username != "")
		if err == nil {
			return r
		}
		p.stop(stopTimeout)
		r.mu.Lock()
		r.proc = nil // already stopped; keep Stop from reporting it
		r.mu.Unlock()
		tail := logTail(r.LogPath)
		lastFailure = fmt.Sprintf("%v\n--- tail of %s ---\n%s", err, r.LogPath, tail)
		if !strings.Contains(tail, "address already in use") {
			break
		}
		t.Logf("registrytest: port %d was taken (attempt %d/%d), retrying", port, attempt, maxAttempts)
	}
	t.Fatalf("registrytest: registry did not become ready: %s", lastFailure)
	return nil
}

// Stop stops the registry: SIGTERM to its process group, then SIGKILL if it
// has not exited within 5 seconds. It waits until the process is reaped and
// is safe to call more than once; Start registers it with t.Cleanup.
// If the registry had already exited on its own, Stop reports a test error.
func (r *Registry) Stop() {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		p := r.proc
		r.mu.Unlock()
		if p == nil {
			return
		}
		select {
		case <-p.done:
			r.tb.Errorf("registrytest: registry %s exited unexpectedly: %v\n--- tail of %s ---\n%s",
				r.Host, p.waitErr, r.LogPath, logTail(r.LogPath))
		default:
		}
		p.stop(stopTimeout)
		r.transport.CloseIdleConnections()
	})
}

// Transport returns an HTTP transport for talking to the registry. With TLS
// it trusts CAFile (and only CAFile). It does not add credentials; see Auth.
func (r *Registry) Transport() http.RoundTripper { return r.transport }

// Auth returns basic-auth credentials for the registry, or
// authn.Anonymous when it was started without auth.
func (r *Registry) Auth() authn.Authenticator {
	if r.Username == "" {
		return authn.Anonymous
	}
	return &authn.Basic{Username: r.Username, Password: r.Password}
}

// RemoteOptions returns the go-containerregistry remote options (Transport
// and Auth) needed to talk to the registry.
func (r *Registry) RemoteOptions() []remote.Option {
	return []remote.Option{remote.WithTransport(r.Transport()), remote.WithAuth(r.Auth())}
}

// URL returns the registry's base URL, "http://HOST" or "https://HOST".
func (r *Registry) URL() string {
	if r.tls {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// Ref parses repoAndTag ("repo/name:tag" or "repo/name@sha256:...") as a
// reference in this registry, calling t.Fatalf if it is invalid. Without TLS
// the reference is name.Insecure (plain HTTP).
//
// Note that go-containerregistry also falls back to plain HTTP for loopback
// hosts when HTTPS fails, even without name.Insecure.
func (r *Registry) Ref(t testing.TB, repoAndTag string) name.Reference {
	t.Helper()
	var opts []name.Option
	if !r.tls {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(r.Host+"/"+repoAndTag, opts...)
	if err != nil {
		t.Fatalf("registrytest: bad reference %q: %v", repoAndTag, err)
	}
	return ref
}

// waitReady polls GET /v2/ until it answers 200 (401 with auth) with our
// instance header, the process exits, or readyTimeout passes.
func (r *Registry) waitReady(p *process, instance string, auth bool) error {
	client := &http.Client{Transport: r.transport, Timeout: time.Second}
	want := http.StatusOK
	if auth {
		want = http.StatusUnauthorized
	}
	url := r.URL() + "/v2/"
	deadline := time.Now().Add(readyTimeout)
	lastErr := errors.New("no attempt made")
	for {
		select {
		case <-p.done:
			return fmt.Errorf("registry exited during startup: %v", p.waitErr)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			switch {
			case resp.Header.Get(instanceHdr) != instance:
				// Something else owns the port (bind race): keep polling until
				// our process exits with "address already in use".
				lastErr = fmt.Errorf("GET %s: answered by another server (status %s)", url, resp.Status)
			case resp.StatusCode != want:
				lastErr = fmt.Errorf("GET %s: status %s, want %d", url, resp.Status, want)
			default:
				return nil
			}
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %v", readyTimeout, lastErr)
		}
		select {
		case <-p.done:
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// startProcess starts "docker-registry serve cfgPath" in its own process
// group with output to logPath.
func startProcess(cfgPath, logPath, dir string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, BinaryPath, "serve", cfgPath)
	cmd.Dir = dir
	cmd.Env = registryEnv()
	cmd.Stdin = nil
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If the test binary dies (e.g. a -timeout panic) the registry
		// must not outlive it.
		Pdeathsig: syscall.SIGKILL,
	}
	cmd.Cancel = func() error {
		// Kill the whole process group, not just the leader.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	p := &process{cmd: cmd, cancel: cancel, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM to the process group, waits up to timeout, then
// SIGKILLs the group (via the context) and waits until it is reaped.
func (p *process) stop(timeout time.Duration) {
	defer p.cancel()
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(timeout):
	}
	p.cancel() // cmd.Cancel: SIGKILL to the process group
	<-p.done
}

// registryEnv is the current environment minus REGISTRY_* variables, which
// distribution would otherwise apply as configuration overrides.
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	return env
}

// config holds the values rendered into the registry's config.yml.
type config struct {
	addr         string
	storageDir   string
	secret       string
	instance     string // value of the X-Registrytest-Instance response header
	certFile     string // TLS when set
	keyFile      string
	htpasswdFile string // auth when set
}

// yaml renders the distribution v0.1 configuration. Strings are written
// as JSON strings, which are valid YAML double-quoted scalars.
func (c config) yaml() []byte {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: %s
  headers:
    X-Content-Type-Options: [nosniff]
    %s: [%s]
`, q(c.storageDir), q(c.addr), q(c.secret), instanceHdr, q(c.instance))
	// No http.debug section: no debug server, no prometheus metrics.
	if c.certFile != "" {
		fmt.Fprintf(&b, "  tls:\n    certificate: %s\n    key: %s\n", q(c.certFile), q(c.keyFile))
	}
	if c.htpasswdFile != "" {
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: %s\n    path: %s\n",
			q("registrytest"), q(c.htpasswdFile))
	}
	return []byte(b.String())
}

// htpasswdEntry returns a bcrypt htpasswd line made by "htpasswd -Bbn"
// (golang.org/x/crypto is not in this module's graph).
func htpasswdEntry(t testing.TB, user, pass string) []byte {
	t.Helper()
	bin := e2e.Tool(t, "htpasswd", "", "as root, apt-get install -y apache2-utils; or run .ci/run")
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-Bbn", user, pass)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("registrytest: htpasswd -Bbn: %v: %s", err, stderr.Bytes())
	}
	line := strings.TrimSpace(string(out))
	if !strings.HasPrefix(line, user+":$2") {
		t.Fatalf("registrytest: unexpected htpasswd output %q", line)
	}
	return []byte(line + "\n")
}

// generateCerts returns PEM encodings of a new ECDSA P-256 CA certificate
// and of a server certificate (and its key) for 127.0.0.1, ::1 and
// localhost, signed by that CA.
func generateCerts(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	now := time.Now()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{Organization: []string{"imgaudit registrytest"}, CommonName: "imgaudit registrytest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("registrytest: creating CA certificate: %v", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{Organization: []string{"imgaudit registrytest"}, CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatalf("registrytest: creating server certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	return n.Add(n, big.NewInt(1)) // serials must be positive
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. The port is
// released before the registry binds it, so Start retries on a bind race.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("registrytest: picking a port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	return hex.EncodeToString(b)
}

func writeFile(t testing.TB, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatalf("registrytest: %v", err)
	}
}

// logTail returns roughly the last logTailBytes of the file at path,
// starting at a line boundary.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	off := fi.Size() - logTailBytes
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if off > 0 {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		b = append([]byte("...\n"), b...)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return "(log is empty)"
	}
	return string(b)
}

// StaticKeychain hands out one username and password for every registry,
// as a credential helper of the Docker config would.
type StaticKeychain struct{ Username, Password string }

// Resolve implements authn.Keychain.
func (k StaticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: k.Username, Password: k.Password}, nil
}
