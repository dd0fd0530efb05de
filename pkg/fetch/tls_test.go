package fetch

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	ref := host + "/app:1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, randomImage(t, 1, amd64), remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		opts []Option
		want error
	}{
		{"unknown authority", nil, ErrTLS},
		{"nil transport", []Option{WithTransport(nil)}, ErrInvalidOption},
		{"CA file", []Option{WithCAFile(caFile)}, nil},
		{"insecure", []Option{WithInsecure()}, nil},
		{"missing CA file", []Option{WithCAFile(filepath.Join(dir, "nothere.pem"))}, ErrInvalidOption},
		{"CA file without PEM", []Option{WithCAFile(notPEM)}, ErrInvalidOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Open(context.Background(), ref, testOptions(tc.opts...)...)
			if tc.want != nil {
				checkErr(t, err, ref, tc.want)
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer res.Close()
			readLayers(t, res.Targets[0].Image)
		})
	}
}

// A plain-HTTP registry under a non-local name needs WithInsecure; without
// it the TLS attempt fails with a hint. The name is routed to the test
// server by a WithTransport dialer.
func TestPlainHTTPNeedsInsecure(t *testing.T) {
	addr := newRegistry(t, nil)
	pushImage(t, addr+"/app:1", randomImage(t, 1, amd64))
	rt := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	ref := "registry.test:5000/app:1"

	_, err := Open(context.Background(), ref, testOptions(WithTransport(rt))...)
	checkErr(t, err, ref, ErrTLS, "insecure")

	res, err := Open(context.Background(), ref, testOptions(WithTransport(rt), WithInsecure())...)
	if err != nil {
		t.Fatalf("Open with insecure: %v", err)
	}
	defer res.Close()
	readLayers(t, res.Targets[0].Image)
}
