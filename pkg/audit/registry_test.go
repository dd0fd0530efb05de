package audit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// blobCounter counts GETs of blobs by digest.
type blobCounter struct {
	inner http.RoundTripper
	mu    sync.Mutex
	gets  map[string]int
}

func (c *blobCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		if i := strings.Index(req.URL.Path, "/blobs/"); i >= 0 {
			c.mu.Lock()
			c.gets[req.URL.Path[i+len("/blobs/"):]]++
			c.mu.Unlock()
		}
	}
	return c.inner.RoundTrip(req)
}

func (c *blobCounter) count(digests ...v1.Hash) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, d := range digests {
		n += c.gets[d.String()]
	}
	return n
}

func (c *blobCounter) reset() {
	c.mu.Lock()
	c.gets = map[string]int{}
	c.mu.Unlock()
}

type fleet struct {
	base       v1.Layer
	unique     []v1.Hash // layer digests other than the base
	images     int       // distinct images expected in the report
	aliases    map[string]bool
	brokenRepo string
}

// pushFleet pushes 20 images over one shared base layer (several tags on
// some digests), a two-platform index, and an image whose layer blob is then
// deleted from the registry.
func pushFleet(t *testing.T, reg *registrytest.Registry) fleet {
	t.Helper()
	blob, err := it.SynthLayer(it.SynthSpec{Seed: 42, Files: 300, Bytes: 4 << 20, Prefix: "usr/lib/base"})
	if err != nil {
		t.Fatal(err)
	}
	base, err := layerFromGzip(blob)
	if err != nil {
		t.Fatal(err)
	}
	shell, err := it.Layer(it.Dir("bin", 0o755), it.File("bin/sh", 0o755, it.ELF("", 16)))
	if err != nil {
		t.Fatal(err)
	}
	f := fleet{base: base, aliases: map[string]bool{}}
	opts := reg.RemoteOptions()
	for i := 0; i < 20; i++ {
		top, err := it.Layer(it.Text(fmt.Sprintf("app/version-%d", i), "x"))
		if err != nil {
			t.Fatal(err)
		}
		ls := []v1.Layer{base, top}
		if i%4 == 0 {
			ls = append(ls, shell)
		}
		img, err := mutate.AppendLayers(empty.Image, ls...)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := top.Digest()
		f.unique = append(f.unique, d)
		repo := fmt.Sprintf("fleet/app%d", i%5)
		tags := []string{fmt.Sprintf("v1.%d.0", i)}
		if i%5 == 0 {
			tags = append(tags, fmt.Sprintf("latest-%d", i), fmt.Sprintf("stable-%d", i))
		}
		for k, tag := range tags {
			if err := remote.Write(reg.Ref(t, repo+":"+tag), img, opts...); err != nil {
				t.Fatal(err)
			}
			if k > 0 {
				f.aliases[reg.Host+"/"+repo+":"+tag] = true
			}
		}
		f.images++
	}
	sd, _ := shell.Digest()
	f.unique = append(f.unique, sd)

	// A two-platform index: the audit takes linux/amd64 by default.
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		top, _ := it.Layer(it.Text("multi-"+arch, arch))
		img, _ := mutate.AppendLayers(empty.Image, base, top)
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, _ = mutate.ConfigFile(img, cf)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		d, _ := top.Digest()
		f.unique = append(f.unique, d)
	}
	if err := remote.WriteIndex(reg.Ref(t, "fleet/multi:1"), idx, opts...); err != nil {
		t.Fatal(err)
	}
	f.images++

	// A broken image: its own layer blob is deleted after the push.
	top, _ := it.Layer(it.Text("broken", "b"))
	img, _ := mutate.AppendLayers(empty.Image, base, top)
	f.brokenRepo = "fleet/broken"
	if err := remote.Write(reg.Ref(t, f.brokenRepo+":1"), img, opts...); err != nil {
		t.Fatal(err)
	}
	d, _ := top.Digest()
	req, _ := http.NewRequest(http.MethodDelete, reg.URL()+"/v2/"+f.brokenRepo+"/blobs/"+d.String(), nil)
	if reg.Username != "" {
		req.SetBasicAuth(reg.Username, reg.Password)
	}
	resp, err := (&http.Client{Transport: reg.Transport()}).Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deleting blob: %v %v", err, resp)
	}
	resp.Body.Close()
	f.images++
	return f
}

func TestRegistryAudit(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts registrytest.Options
	}{
		{"plain", registrytest.Options{}},
		{"tls+htpasswd", registrytest.Options{TLS: true, Username: "auditor", Password: "fleet-Secret-42"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.Start(t, tc.opts)
			f := pushFleet(t, reg)
			counter := &blobCounter{inner: reg.Transport(), gets: map[string]int{}}
			cache, err := layers.NewDiskCache(t.TempDir(), 0)
			if err != nil {
				t.Fatal(err)
			}
			o := audit.DefaultOptions()
			o.Fetch = []fetch.Option{fetch.WithTransport(counter), fetch.WithRetries(0)}
			if tc.opts.TLS {
				o.Fetch = append(o.Fetch, fetch.WithCredentials(reg.Username, reg.Password))
			} else {
				o.Fetch = append(o.Fetch, fetch.WithInsecure())
			}
			o.Cache = cache
			var emitted int
			r, err := audit.Registry(context.Background(), reg.Host, audit.RegistryOptions{}, o, func(report.Image) { emitted++ })
			if !errors.Is(err, audit.ErrIncomplete) {
				t.Fatalf("err = %v, want ErrIncomplete (one broken image)", err)
			}
			if len(r.Images) != f.images || emitted != f.images {
				t.Fatalf("%d images reported, %d emitted; want %d", len(r.Images), emitted, f.images)
			}
			seen := map[string]bool{}
			aliases := map[string]bool{}
			for _, img := range r.Images {
				if seen[img.Digest] && img.Digest != "" {
					t.Errorf("digest %s reported twice", img.Digest)
				}
				seen[img.Digest] = true
				for _, a := range img.AlsoKnownAs {
					aliases[a] = true
				}
				broken := strings.Contains(img.Reference, f.brokenRepo)
				if broken != (img.Error != "") {
					t.Errorf("%s: error %q", img.Reference, img.Error)
				}
				if strings.Contains(img.Error, tc.opts.Password) && tc.opts.Password != "" {
					t.Error("password in error")
				}
			}
			if len(aliases) != len(f.aliases) {
				t.Errorf("aliases %v, want %v", aliases, f.aliases)
			}
			if r.Summary.Images != f.images || r.Summary.Errors != 1 {
				t.Errorf("summary = %+v", r.Summary)
			}
			bd, _ := f.base.Digest()
			if n := counter.count(bd); n != 1 {
				t.Errorf("shared base layer downloaded %d times, want 1", n)
			}

			// Warm: every layer is in the cache, no layer blob is downloaded.
			counter.reset()
			r2, err := audit.Registry(context.Background(), reg.Host, audit.RegistryOptions{}, o, nil)
			if !errors.Is(err, audit.ErrIncomplete) || len(r2.Images) != f.images {
				t.Fatalf("warm audit: %v, %d images", err, len(r2.Images))
			}
			if n := counter.count(append(f.unique, bd)...); n != 0 {
				t.Errorf("warm audit downloaded %d layer blobs, want 0", n)
			}

			// Filters: one repository, newest two tags.
			r3, _ := audit.Registry(context.Background(), reg.Host+"/fleet", audit.RegistryOptions{RepoGlob: "fleet/app1", MaxTags: 2}, o, nil)
			var refs []string
			for _, img := range r3.Images {
				refs = append(refs, strings.TrimPrefix(img.Reference, reg.Host+"/"))
			}
			if want := "fleet/app1:v1.16.0,fleet/app1:v1.11.0"; strings.Join(refs, ",") != want && strings.Join(refs, ",") != "fleet/app1:v1.11.0,fleet/app1:v1.16.0" {
				t.Errorf("filtered refs = %v, want %s", refs, want)
			}
		})
	}
}
