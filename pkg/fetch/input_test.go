package fetch

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestTrimScheme(t *testing.T) {
	tests := []struct {
		in       string
		insecure bool
		want     string
		wantErr  string
	}{
		{in: "ghcr.io/org/app:1", want: "ghcr.io/org/app:1"},
		{in: "https://ghcr.io/org/app:1", want: "ghcr.io/org/app:1"},
		{in: "HTTPS://registry.example/", want: "registry.example"},
		{in: "https://registry.example/team/", want: "registry.example/team"},
		{in: "http://127.0.0.1:5055", want: "127.0.0.1:5055"},
		{in: "http://localhost:5000/app:1", want: "localhost:5000/app:1"},
		{in: "http://registry.example:5000", wantErr: "http://registry.example:5000: invalid reference: a plain HTTP registry needs the insecure option (--insecure registry.example:5000)"},
		{in: "http://registry.example:5000/", insecure: true, want: "registry.example:5000"},
		{in: "https://", wantErr: "no registry host after the scheme"},
		{in: "https:///app", wantErr: "no registry host after the scheme"},
		{in: "https://ghcr.io/org/app?tab=tags", wantErr: `a registry reference has no query or fragment ("?tab=tags")`},
		{in: "docker://alpine", want: "docker://alpine"},
	}
	for _, tc := range tests {
		var opts []Option
		if tc.insecure {
			opts = append(opts, WithInsecure())
		}
		got, err := TrimScheme(tc.in, opts...)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalidReference) {
				t.Errorf("TrimScheme(%q) = %q, %v; want error %q", tc.in, got, err, tc.wantErr)
			}
		case err != nil || got != tc.want:
			t.Errorf("TrimScheme(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// countingTransport fails every request and counts them: a reference
// taken for a path must never reach a registry.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no network in this test")
}

// A reference that looks like a path and names nothing is a missing file,
// never a registry lookup (Docker Hub, for a name without a host).
func TestMissingPathIsNotARegistryLookup(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "testdata", "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	missing := []struct{ ref, hint string }{
		{"testdata/images/nope", "write docker://testdata/images/nope"},
		{"testdata/nope", "write docker://testdata/nope"},
		{"./nope", ""},
		{"../nope-" + filepath.Base(dir), ""},
		{filepath.Join(dir, "nope"), ""},
		{"~/nope", ""},
	}
	// An existing directory that is not a layout, written as a path.
	for _, ref := range []string{"testdata/images", "testdata/images/", "./testdata"} {
		rt := &countingTransport{}
		_, err := Open(context.Background(), ref, testOptions(WithTransport(rt))...)
		checkErr(t, err, ref, ErrUnsupported, "is neither an OCI image layout directory nor an archive file")
		if n := rt.n.Load(); n != 0 {
			t.Errorf("%s: %d registry requests, want none", ref, n)
		}
	}
	for _, tc := range missing {
		rt := &countingTransport{}
		_, err := Open(context.Background(), tc.ref, testOptions(WithTransport(rt))...)
		checkErr(t, err, tc.ref, ErrNotFound, "no such file or directory", tc.hint)
		if tc.hint == "" && strings.Contains(err.Error(), "docker://") {
			t.Errorf("%s: %q offers docker:// for a reference that is not one", tc.ref, err)
		}
		if n := rt.n.Load(); n != 0 {
			t.Errorf("%s: %d registry requests, want none", tc.ref, n)
		}
	}
	// Names whose parent is not a local directory are registry references,
	// and docker:// forces the registry for a path-looking one.
	for _, ref := range []string{"library/alpine:3", "alpine", "testdata/images:1", "testdata/app@sha256:" + strings.Repeat("a", 64), "docker://testdata/images/nope", "ghcr.io/org/app:1"} {
		rt := &countingTransport{}
		_, err := Open(context.Background(), ref, testOptions(WithTransport(rt), WithRetries(0))...)
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want a failed registry request", ref, err)
		}
		if rt.n.Load() == 0 {
			t.Errorf("%s: no registry request made", ref)
		}
	}
}

// An image reference may carry an https:// scheme (and http:// for a
// loopback registry or with the insecure option).
func TestOpenWithScheme(t *testing.T) {
	addr := newRegistry(t, nil)
	pushImage(t, addr+"/app:1", randomImage(t, 1, amd64))
	for _, ref := range []string{"http://" + addr + "/app:1", "HTTP://" + addr + "/app:1"} {
		res := openOK(t, ref)
		if got := res.Targets[0].Reference; got != ref {
			t.Errorf("Reference = %q, want what the user wrote (%q)", got, ref)
		}
	}
	// https:// is what a registry reference means anyway (a loopback
	// registry is spoken to in plain HTTP by go-containerregistry).
	openOK(t, "https://"+addr+"/app:1")
}
