// Package faultproxy is an HTTP server on 127.0.0.1 that forwards every
// request to an upstream server (in tests, the real registry started by
// internal/registrytest) and injects the faults a test scripts: error
// statuses (500, 502, 503, 429 with Retry-After, 401), connections reset
// before or in the middle of a body, bodies shorter than their
// Content-Length, wrong bytes for a digest, stalls longer than a client's
// timeout, and slow bodies. It counts the requests it sees.
//
//	reg := registrytest.Start(t, registrytest.Options{})
//	p := faultproxy.New(t, reg.URL(), reg.Transport())
//	p.Set(faultproxy.Fault{Kind: faultproxy.Status, Code: 503, Method: "GET", Path: "/manifests/", Times: 2})
//	fetch.Open(ctx, p.Host+"/app:1", fetch.WithInsecure())
//
// Faults match by method and by a substring of the request path; the first
// matching fault that still has uses left applies. Nothing here ever
// connects anywhere but the upstream URL given to New.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind is what a fault does to a request.
type Kind int

// Fault kinds.
const (
	// Status answers with Code (and Header, Body) instead of forwarding.
	Status Kind = iota + 1
	// Drop resets the connection before any response is sent.
	Drop
	// Reset forwards the request, sends the response headers and N bytes
	// of the body, then resets the connection (TCP RST).
	Reset
	// Truncate forwards the request, sends the response headers (with the
	// full Content-Length) and N bytes of the body, then closes the
	// connection cleanly: the body is shorter than announced.
	Truncate
	// Corrupt forwards the request and flips the bits of one byte in the
	// middle of the body: same length, wrong content for its digest.
	Corrupt
	// Stall waits Delay (or until the client gives up) before forwarding.
	Stall
	// Slow forwards the body in chunks of N bytes, Delay apart.
	Slow
)

var kindNames = map[Kind]string{Status: "status", Drop: "drop", Reset: "reset", Truncate: "truncate", Corrupt: "corrupt", Stall: "stall", Slow: "slow"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// AuthPlaceholder in a Status fault's Body is replaced by the request's
// Authorization header, as a careless server echoing its input would do.
const AuthPlaceholder = "{{authorization}}"

// Fault is one scripted failure.
type Fault struct {
	Kind Kind
	// Method must equal the request's method; "" matches any.
	Method string
	// Path must be a substring of the request's path ("/manifests/",
	// "/blobs/sha256:…", "/v2/app/"); "" matches any.
	Path string
	// Times is how many matching requests the fault applies to; 0 means
	// every one.
	Times int

	Code   int               // Status: the status code
	Header map[string]string // Status: headers, e.g. {"Retry-After": "2"}
	Body   string            // Status: the body (see AuthPlaceholder)

	N     int64         // Reset, Truncate: body bytes sent first; Slow: chunk size
	Delay time.Duration // Stall: the wait; Slow: the pause between chunks
}

// Request is one request the proxy saw.
type Request struct {
	Method, Path string
	// Fault is the kind of fault applied, 0 when the request was forwarded
	// untouched.
	Fault Kind
	// Authorization is whether the request carried credentials.
	Authorization bool
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is "http://127.0.0.1:PORT"; Host is "127.0.0.1:PORT".
	URL, Host string

	srv      *httptest.Server
	upstream *url.URL
	client   *http.Client
	closing  chan struct{}
	stop     sync.Once

	mu     sync.Mutex
	faults []*rule
	log    []Request
	served map[string]int64 // body bytes sent, by path
}

type rule struct {
	Fault
	used int
}

// New starts a proxy on 127.0.0.1 in front of upstream ("http://HOST:PORT"
// or "https://…"), reaching it through rt (nil: a plain transport that
// ignores proxy settings). It is closed when the test ends.
func New(t testing.TB, upstream string, rt http.RoundTripper) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Fatalf("faultproxy: bad upstream %q", upstream)
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		t.Fatalf("faultproxy: upstream %q is not on the loopback interface", upstream)
	}
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		rt = tr
	}
	p := &Proxy{
		upstream: u,
		// No redirects are followed: the client sees them, rewritten.
		client:  &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		closing: make(chan struct{}),
		served:  map[string]int64{},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	p.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(p.serve)}}
	p.srv.Start()
	p.URL = p.srv.URL
	p.Host = strings.TrimPrefix(p.srv.URL, "http://")
	t.Cleanup(p.Close)
	return p
}

// Close stops the proxy, cutting stalled requests short.
func (p *Proxy) Close() {
	p.stop.Do(func() {
		close(p.closing)
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.client.CloseIdleConnections()
	})
}

// CloseConnections closes every client connection and the idle upstream
// connections, so that a test can count goroutines.
func (p *Proxy) CloseConnections() {
	p.srv.CloseClientConnections()
	p.client.CloseIdleConnections()
}

// Set replaces the faults (and forgets how often the old ones applied).
func (p *Proxy) Set(faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = p.faults[:0]
	for _, f := range faults {
		p.faults = append(p.faults, &rule{Fault: f})
	}
}

// Clear removes the faults and clears the request log and counters.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
	p.log = nil
	p.served = map[string]int64{}
}

// Requests returns the requests seen since the last Clear.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

// Count returns how many requests seen since the last Clear had the method
// ("" any) and a path containing path.
func (p *Proxy) Count(method, path string) int {
	n := 0
	for _, r := range p.Requests() {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, path) {
			n++
		}
	}
	return n
}

// Faulted returns how many requests got a fault of kind k (0: any).
func (p *Proxy) Faulted(k Kind) int {
	n := 0
	for _, r := range p.Requests() {
		if r.Fault != 0 && (k == 0 || r.Fault == k) {
			n++
		}
	}
	return n
}

// Served returns the body bytes sent for paths containing path.
func (p *Proxy) Served(path string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for k, v := range p.served {
		if strings.Contains(k, path) {
			n += v
		}
	}
	return n
}

func (p *Proxy) match(r *http.Request) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	var f *Fault
	for _, ru := range p.faults {
		if (ru.Method == "" || ru.Method == r.Method) && strings.Contains(r.URL.Path, ru.Path) && (ru.Times == 0 || ru.used < ru.Times) {
			ru.used++
			c := ru.Fault
			f = &c
			break
		}
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization") != ""}
	if f != nil {
		req.Fault = f.Kind
	}
	p.log = append(p.log, req)
	return f
}

func (p *Proxy) count(path string, n int) {
	p.mu.Lock()
	p.served[path] += int64(n)
	p.mu.Unlock()
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	f := p.match(r)
	if f == nil {
		p.forward(w, r, nil)
		return
	}
	switch f.Kind {
	case Status:
		for k, v := range f.Header {
			w.Header().Set(k, v)
		}
		body := strings.ReplaceAll(f.Body, AuthPlaceholder, r.Header.Get("Authorization"))
		if body != "" && w.Header().Get("Content-Type") == "" && strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(f.Code)
		io.WriteString(w, body)
	case Drop:
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			reset(conn)
		}
	case Stall:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		case <-p.closing:
			return
		}
		p.forward(w, r, nil)
	default:
		p.forward(w, r, f)
	}
}

// forward sends r upstream and copies the answer back, altered by f.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, f *Fault) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream.Scheme+"://"+p.upstream.Host+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.ContentLength = r.ContentLength
	resp, err := p.client.Do(out)
	if err != nil {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	h := resp.Header.Clone()
	if loc := h.Get("Location"); loc != "" {
		h.Set("Location", strings.Replace(loc, p.upstream.Scheme+"://"+p.upstream.Host, p.URL, 1))
	}
	if f == nil || resp.StatusCode != http.StatusOK || r.Method == http.MethodHead {
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		n, _ := io.Copy(w, resp.Body)
		p.count(r.URL.Path, int(n))
		return
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, "faultproxy: upstream body: "+err.Error(), http.StatusBadGateway)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	switch f.Kind {
	case Corrupt:
		if len(body) > 0 {
			body[len(body)/2] ^= 0xff
		}
	case Reset, Truncate:
		conn, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		n := min(int(max(f.N, 0)), len(body))
		fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
		h.Del("Connection")
		h.Write(bw)
		bw.WriteString("\r\n")
		bw.Write(body[:n])
		bw.Flush()
		p.count(r.URL.Path, n)
		if f.Kind == Reset {
			reset(conn)
		} else {
			conn.Close()
		}
		return
	case Slow:
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		step := int(max(f.N, 1))
		for off := 0; off < len(body); off += step {
			if off > 0 {
				select {
				case <-time.After(f.Delay):
				case <-r.Context().Done():
					return
				case <-p.closing:
					return
				}
			}
			chunk := body[off:min(off+step, len(body))]
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			p.count(r.URL.Path, len(chunk))
		}
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	n, _ := io.Copy(w, bytes.NewReader(body))
	p.count(r.URL.Path, int(n))
}

// reset closes conn with a TCP RST rather than a FIN.
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
