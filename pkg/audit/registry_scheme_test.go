package audit_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
)

// A registry target may carry the scheme a user copies from a browser:
// https:// always, http:// for a loopback registry (spoken to in plain
// HTTP anyway) or with the insecure option; otherwise the error says
// which option is missing, before anything is requested.
func TestRegistryTargetScheme(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	o := audit.DefaultOptions()
	o.Fetch = []fetch.Option{fetch.WithRetries(0)}
	for _, target := range []string{"http://" + host, "http://" + host + "/", "HTTPS://" + host + "/team", host} {
		r, err := audit.Registry(context.Background(), target, audit.RegistryOptions{}, o, nil)
		if err != nil {
			t.Fatalf("Registry(%q): %v", target, err)
		}
		if len(r.Images) != 1 || r.Images[0].Reference != host+"/team/app:1" {
			t.Errorf("Registry(%q) = %d images (%v), want %s/team/app:1", target, len(r.Images), r.Images, host)
		}
	}
	_, err = audit.Registry(context.Background(), "http://registry.invalid:5000", audit.RegistryOptions{}, o, nil)
	if !errors.Is(err, fetch.ErrInvalidReference) || !strings.Contains(err.Error(), "--insecure registry.invalid:5000") {
		t.Errorf("plain HTTP without --insecure: %v", err)
	}
}
