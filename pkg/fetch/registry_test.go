package fetch

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var (
	amd64   = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64   = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	armv7   = v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	ppc64le = v1.Platform{OS: "linux", Architecture: "ppc64le"}
)

func TestOpenRegistry(t *testing.T) {
	host := newRegistry(t, nil)
	single := randomImage(t, 2, amd64)
	pushImage(t, host+"/app:1", single)
	idx, imgs := multiIndex(t, amd64, arm64, armv7)
	pushIndex(t, host+"/multi:1", idx)
	noAMD, noAMDImgs := multiIndex(t, arm64, ppc64le)
	pushIndex(t, host+"/noamd:1", noAMD)
	one, oneImgs := multiIndex(t, arm64)
	pushIndex(t, host+"/one:1", one)

	sd := mustDigest(t, single).String()
	id := mustDigest(t, idx).String()
	dig := func(m map[string]v1.Image, p string) string { return mustDigest(t, m[p]).String() }

	tests := []struct {
		name string
		ref  string
		opts []Option
		want []summary
	}{
		{"tag", host + "/app:1", nil, []summary{{SourceRegistry, sd, "", "linux/amd64", ""}}},
		{"digest", host + "/app@" + sd, nil, []summary{{SourceRegistry, sd, "", "linux/amd64", ""}}},
		{"docker scheme", "docker://" + host + "/app:1", nil, []summary{{SourceRegistry, sd, "", "linux/amd64", ""}}},
		{"single image matching platform", host + "/app:1", []Option{WithPlatform("linux/amd64")}, []summary{{SourceRegistry, sd, "", "linux/amd64", ""}}},
		{"index default", host + "/multi:1", nil, []summary{
			{SourceRegistry, dig(imgs, "linux/amd64"), id, "linux/amd64", "linux/amd64 (default; index has 3 platforms)"},
		}},
		{"index explicit", host + "/multi:1", []Option{WithPlatform("linux/arm/v7")}, []summary{
			{SourceRegistry, dig(imgs, "linux/arm/v7"), id, "linux/arm/v7", ""},
		}},
		{"index explicit arm64 without variant", host + "/multi:1", []Option{WithPlatform("linux/arm64")}, []summary{
			{SourceRegistry, dig(imgs, "linux/arm64/v8"), id, "linux/arm64/v8", ""},
		}},
		{"index by digest", host + "/multi@" + id, nil, []summary{
			{SourceRegistry, dig(imgs, "linux/amd64"), id, "linux/amd64", "linux/amd64 (default; index has 3 platforms)"},
		}},
		{"all platforms", host + "/multi:1", []Option{WithAllPlatforms()}, []summary{
			{SourceRegistry, dig(imgs, "linux/amd64"), id, "linux/amd64", ""},
			{SourceRegistry, dig(imgs, "linux/arm64/v8"), id, "linux/arm64/v8", ""},
			{SourceRegistry, dig(imgs, "linux/arm/v7"), id, "linux/arm/v7", ""},
		}},
		{"no amd64: first", host + "/noamd:1", nil, []summary{
			{SourceRegistry, dig(noAMDImgs, "linux/arm64/v8"), mustDigest(t, noAMD).String(), "linux/arm64/v8", "linux/arm64/v8 (first of 2 platforms; no linux/amd64)"},
		}},
		{"only platform", host + "/one:1", nil, []summary{
			{SourceRegistry, dig(oneImgs, "linux/arm64/v8"), mustDigest(t, one).String(), "linux/arm64/v8", "linux/arm64/v8 (only platform)"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := openOK(t, tc.ref, tc.opts...)
			if diff := cmp.Diff(tc.want, summarize(res.Targets)); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			for _, tg := range res.Targets {
				if tg.Reference != tc.ref {
					t.Errorf("Reference = %q, want %q", tg.Reference, tc.ref)
				}
				if got := mustDigest(t, tg.Image); got != tg.Digest {
					t.Errorf("Image digest %s != Target.Digest %s", got, tg.Digest)
				}
			}
		})
	}
}

func TestOpenRegistryErrors(t *testing.T) {
	host := newRegistry(t, nil)
	pushImage(t, host+"/app:1", randomImage(t, 1, amd64))
	idx, _ := multiIndex(t, amd64, arm64)
	pushIndex(t, host+"/multi:1", idx)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name      string
		ref       string
		opts      []Option
		want      error
		fragments []string
		exact     string
	}{
		{name: "missing tag", ref: host + "/app:nope", want: ErrNotFound, exact: host + "/app:nope: not found: manifest unknown"},
		{name: "missing repo", ref: host + "/nothere:1", want: ErrNotFound},
		{name: "missing digest", ref: host + "/app@sha256:" + strings.Repeat("0", 64), want: ErrNotFound},
		{name: "missing platform", ref: host + "/multi:1", opts: []Option{WithPlatform("linux/s390x")}, want: ErrNoPlatform,
			fragments: []string{"linux/s390x", "available: linux/amd64, linux/arm64/v8"}},
		{name: "single image other platform", ref: host + "/app:1", opts: []Option{WithPlatform("linux/arm64")}, want: ErrNoPlatform,
			fragments: []string{"the image is linux/amd64"}},
		{name: "bad platform syntax", ref: host + "/app:1", opts: []Option{WithPlatform("linux")}, want: ErrInvalidOption, fragments: []string{`platform "linux"`}},
		{name: "bad platform chars", ref: host + "/app:1", opts: []Option{WithPlatform("linux/AMD64/")}, want: ErrInvalidOption},
		{name: "unreachable", ref: closedAddr + "/app:1", want: ErrUnreachable},
		{name: "unknown host", ref: "registry.invalid/app:1", opts: []Option{WithTransport(dnsFailure{})}, want: ErrUnreachable, fragments: []string{"no such host"}},
		{name: "upper case repo", ref: "Library/Alpine", want: ErrInvalidReference},
		{name: "bad tag", ref: "alpine:not a tag", want: ErrInvalidReference},
		{name: "bad digest", ref: "alpine@sha256:zzz", want: ErrInvalidReference},
		{name: "empty", ref: "", want: ErrInvalidReference},
		{name: "docker-daemon", ref: "docker-daemon:alpine:3.20", want: ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(context.Background(), tc.ref, testOptions(tc.opts...)...)
			checkErr(t, err, tc.ref, tc.want, tc.fragments...)
			if tc.exact != "" && err.Error() != tc.exact {
				t.Errorf("error = %q, want %q", err, tc.exact)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// dnsFailure fails every request as an unknown host would, without any
// network traffic.
type dnsFailure struct{}

func (dnsFailure) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: r.URL.Hostname(), IsNotFound: true}}
}

func TestOpenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Open(ctx, "example.com/app:1", testOptions()...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

const (
	authUser = "alice"
	// authPassword is a sentinel that must never show up in an error.
	authPassword = "S3NTINEL-pa55word-xyzzy"
)

// basicAuth requires user:pass on every /v2/ request.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="imgaudit-test"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestAuth(t *testing.T) {
	host := newRegistry(t, nil)
	authHost := newRegistry(t, basicAuth(authUser, authPassword))
	img := randomImage(t, 1, amd64)
	pushImage(t, host+"/app:1", img)
	pushAuthed(t, authHost+"/app:1", img)

	ref := authHost + "/app:1"
	tests := []struct {
		name string
		opts []Option
		want error
	}{
		{"no credentials", nil, ErrUnauthorized},
		{"right credentials", []Option{WithCredentials(authUser, authPassword)}, nil},
		{"wrong password", []Option{WithCredentials(authUser, "wrong-"+authPassword)}, ErrUnauthorized},
		{"wrong user", []Option{WithCredentials("mallory", authPassword)}, ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Open(context.Background(), ref, testOptions(tc.opts...)...)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer res.Close()
				readLayers(t, res.Targets[0].Image)
				return
			}
			checkErr(t, err, ref, tc.want)
			msg := err.Error()
			for _, secret := range []string{authPassword, base64.StdEncoding.EncodeToString([]byte(authUser + ":" + authPassword))} {
				if strings.Contains(msg, secret) {
					t.Errorf("error leaks a secret: %q", msg)
				}
			}
		})
	}

	t.Run("catalog and tags with credentials", func(t *testing.T) {
		opts := testOptions(WithCredentials(authUser, authPassword))
		repos, err := Catalog(context.Background(), authHost, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"app"}, repos); diff != "" {
			t.Errorf("catalog (-want +got):\n%s", diff)
		}
		_, err = Tags(context.Background(), authHost+"/app", testOptions(WithCredentials(authUser, "bad-"+authPassword))...)
		checkErr(t, err, authHost+"/app", ErrUnauthorized)
		if strings.Contains(err.Error(), authPassword) {
			t.Errorf("error leaks the password: %q", err)
		}
	})
}

// pushAuthed pushes img with the test credentials.
func pushAuthed(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithAuth(&authn.Basic{Username: authUser, Password: authPassword})); err != nil {
		t.Fatal(err)
	}
}

// failing wraps a handler so that the first n requests to /v2/ paths get
// status (with Retry-After if set), then passes through. It counts all
// requests.
type failing struct {
	n          int64
	status     int
	retryAfter string
	always     bool
	served     atomic.Int64 // requests answered with the failure
	total      atomic.Int64
}

func (f *failing) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.total.Add(1)
		if f.always || f.served.Load() < f.n {
			f.served.Add(1)
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			w.WriteHeader(f.status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestRetries(t *testing.T) {
	img := randomImage(t, 1, amd64)
	tests := []struct {
		name       string
		f          *failing
		retries    int
		want       error
		wantServed int64
		minTime    time.Duration
	}{
		{name: "503 twice then ok", f: &failing{n: 2, status: 503}, retries: 3, wantServed: 2},
		{name: "429 with Retry-After 0", f: &failing{n: 3, status: 429, retryAfter: "0"}, retries: 3, wantServed: 3},
		{name: "429 with Retry-After 1 is honoured", f: &failing{n: 1, status: 429, retryAfter: "1"}, retries: 3, wantServed: 1, minTime: 900 * time.Millisecond},
		{name: "always 500", f: &failing{status: 500, always: true}, retries: 2, want: ErrUnavailable, wantServed: 3},
		{name: "no retries", f: &failing{n: 1, status: 502}, retries: 0, want: ErrUnavailable, wantServed: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var armed atomic.Bool
			host := newRegistry(t, func(next http.Handler) http.Handler {
				inner := tc.f.wrap(next)
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if armed.Load() {
						inner.ServeHTTP(w, r)
						return
					}
					next.ServeHTTP(w, r)
				})
			})
			pushImage(t, host+"/app:1", img)
			armed.Store(true)
			ref := host + "/app:1"
			start := time.Now()
			res, err := Open(context.Background(), ref, testOptions(WithRetries(tc.retries), WithBackoff(5*time.Millisecond, 2*time.Second))...)
			elapsed := time.Since(start)
			if tc.want != nil {
				checkErr(t, err, ref, tc.want)
			} else if err != nil {
				t.Fatalf("Open: %v", err)
			} else {
				res.Close()
			}
			if got := tc.f.served.Load(); got != tc.wantServed {
				t.Errorf("failures served = %d, want %d", got, tc.wantServed)
			}
			if elapsed < tc.minTime {
				t.Errorf("took %s, want at least %s (Retry-After)", elapsed, tc.minTime)
			}
			if elapsed > 3*time.Second {
				t.Errorf("took %s", elapsed)
			}
		})
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second, true},
		{now.Add(-3 * time.Second).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := retryAfter(tc.in, now)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// slowBlobs serves the bodies of the layer blobs of img in chunks with a
// pause between them, or a stall after the first chunk.
func slowBlobs(t *testing.T, img v1.Image, chunks int, pause, stallAfter time.Duration) func(http.Handler) http.Handler {
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	slow := map[string]bool{}
	for _, l := range layers {
		slow["/blobs/"+mustDigest(t, l).String()] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i := strings.Index(r.URL.Path, "/blobs/")
			if r.Method != http.MethodGet || i < 0 || !slow[r.URL.Path[i:]] {
				next.ServeHTTP(w, r)
				return
			}
			rec := &recorder{header: http.Header{}}
			next.ServeHTTP(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			body := []byte(rec.body.String())
			step := max(1, len(body)/chunks)
			for i := 0; i < len(body); i += step {
				w.Write(body[i:min(i+step, len(body))])
				w.(http.Flusher).Flush()
				wait := pause
				if stallAfter > 0 && i > 0 {
					wait = stallAfter
				}
				select {
				case <-r.Context().Done():
					return
				case <-time.After(wait):
				}
			}
		})
	}
}

type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func TestTimeouts(t *testing.T) {
	img := randomImage(t, 1, amd64)

	t.Run("slow but steady download is not cut", func(t *testing.T) {
		host := newRegistry(t, slowBlobs(t, img, 8, 60*time.Millisecond, 0))
		pushImage(t, host+"/app:1", img)
		start := time.Now()
		res := openOK(t, host+"/app:1", WithTimeout(250*time.Millisecond))
		readLayers(t, res.Targets[0].Image)
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Logf("download took only %s; the test may not exercise the watchdog", d)
		}
	})

	t.Run("stalled body hits the idle watchdog", func(t *testing.T) {
		host := newRegistry(t, slowBlobs(t, img, 4, 0, 2*time.Second))
		pushImage(t, host+"/app:1", img)
		res := openOK(t, host+"/app:1", WithTimeout(200*time.Millisecond), WithRetries(0))
		layers, err := res.Targets[0].Image.Layers()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rc, err := layers[0].Compressed()
		if err == nil {
			_, err = io.ReadAll(rc)
			rc.Close()
		}
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("took %s", d)
		}
	})

	t.Run("no response headers", func(t *testing.T) {
		host := newRegistry(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "/manifests/") {
					select {
					case <-r.Context().Done():
						return
					case <-time.After(3 * time.Second):
					}
				}
				next.ServeHTTP(w, r)
			})
		})
		ref := host + "/app:1"
		start := time.Now()
		_, err := Open(context.Background(), ref, testOptions(WithTimeout(200*time.Millisecond), WithRetries(1))...)
		checkErr(t, err, ref, ErrTimeout)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s", d)
		}
	})
}

func TestUserAgent(t *testing.T) {
	var mu sync.Mutex
	agents := map[string]bool{}
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			agents[r.UserAgent()] = true
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	pushImage(t, host+"/app:1", randomImage(t, 1, amd64))
	mu.Lock()
	clear(agents)
	mu.Unlock()
	openOK(t, host+"/app:1", WithVersion("1.2.3"))
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(map[string]bool{"imgaudit/1.2.3": true}, agents); diff != "" {
		t.Errorf("user agents (-want +got):\n%s", diff)
	}
}

func TestCatalogAndTags(t *testing.T) {
	host := newRegistry(t, nil)
	img := randomImage(t, 1, amd64)
	for _, r := range []string{"b/app", "a/app", "c"} {
		pushImage(t, host+"/"+r+":1", img)
	}
	pushImage(t, host+"/c:2", img)

	repos, err := Catalog(context.Background(), host, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(repos)
	if diff := cmp.Diff([]string{"a/app", "b/app", "c"}, repos); diff != "" {
		t.Errorf("catalog (-want +got):\n%s", diff)
	}
	tags, err := Tags(context.Background(), host+"/c", testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1", "2"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	_, err = Tags(context.Background(), host+"/nothere", testOptions()...)
	checkErr(t, err, host+"/nothere", ErrNotFound)
	_, err = Catalog(context.Background(), "bad registry name", testOptions()...)
	checkErr(t, err, "bad registry name", ErrInvalidReference)
}

func TestCatalogPagination(t *testing.T) {
	pages := map[string]struct {
		repos []string
		next  string
	}{
		"":  {[]string{"a", "b"}, "b"},
		"b": {[]string{"c", "d"}, "d"},
		"d": {[]string{"e"}, ""},
	}
	var calls atomic.Int64
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v2/_catalog" {
				next.ServeHTTP(w, r)
				return
			}
			calls.Add(1)
			p := pages[r.URL.Query().Get("last")]
			if p.next != "" {
				w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?last=%s&n=2>; rel="next"`, p.next))
			}
			fmt.Fprintf(w, `{"repositories":["%s"]}`, strings.Join(p.repos, `","`))
		})
	})
	pageOf2 := func(o *options) error { o.pageSize = 2; return nil }
	repos, err := Catalog(context.Background(), host, testOptions(pageOf2)...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e"}, repos); diff != "" {
		t.Errorf("catalog (-want +got):\n%s", diff)
	}
	if calls.Load() != 3 {
		t.Errorf("catalog pages fetched = %d, want 3", calls.Load())
	}
}
