package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgaudit/imgaudit/internal/faultproxy"
	"github.com/imgaudit/imgaudit/internal/registrytest"
)

// Registry faults, injected by internal/faultproxy in front of the real
// registry: bounded retries with backoff (Retry-After honoured within the
// cap), timeouts, the right sentinel, one-line errors naming the image, and
// no secret anywhere.

const faultTimeout = 300 * time.Millisecond

// faultOptions: plain HTTP, no keychain, short timeout and backoff.
func faultOptions(retries int, extra ...Option) []Option {
	return append([]Option{
		WithKeychain(authn.NewMultiKeychain()), WithInsecure(), WithRetries(retries),
		WithBackoff(20*time.Millisecond, 200*time.Millisecond), WithTimeout(faultTimeout),
	}, extra...)
}

// readAll opens ref and reads its config and every layer blob to the end,
// returning the first error (already classified by the image) under ref, as
// pkg/audit reports it.
func readAll(ctx context.Context, ref string, opts []Option) error {
	res, err := Open(ctx, ref, opts...)
	if err != nil {
		return err
	}
	defer res.Close()
	for _, tg := range res.Targets {
		if _, err := tg.Image.ConfigFile(); err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		ls, err := tg.Image.Layers()
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		for _, l := range ls {
			rc, err := l.Compressed()
			if err == nil {
				_, err = io.Copy(io.Discard, rc)
				rc.Close()
			}
			if err != nil {
				return fmt.Errorf("%s: %w", ref, err)
			}
		}
	}
	return nil
}

type faultRegistry struct {
	reg    *registrytest.Registry
	proxy  *faultproxy.Proxy
	img    v1.Image
	ref    string // through the proxy
	layer  string // digest of the first layer blob
	config string // digest of the config blob
}

func startFaultRegistry(t *testing.T, opts registrytest.Options) *faultRegistry {
	t.Helper()
	reg := registrytest.Start(t, opts)
	img := randomImage(t, 2, amd64)
	if err := remote.Write(reg.Ref(t, "app:1"), img, reg.RemoteOptions()...); err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, reg.URL(), reg.Transport())
	return &faultRegistry{reg: reg, proxy: p, img: img, ref: p.Host + "/app:1", layer: mustDigest(t, ls[0]).String(), config: cfg.String()}
}

func TestRegistryFaults(t *testing.T) {
	fr := startFaultRegistry(t, registrytest.Options{})
	p := fr.proxy
	type fault = faultproxy.Fault
	const (
		get  = "GET"
		mani = "/manifests/"
	)
	tests := []struct {
		name    string
		faults  []fault
		retries int
		want    error // nil: the image reads completely
		notKind []error
		// attempts is how many requests the faulted path must have seen.
		path     string
		attempts int
		// upTo, when set, allows more attempts: net/http itself replays a
		// GET whose reused connection was dropped before any answer.
		upTo    int
		minTime time.Duration
		maxTime time.Duration
	}{
		{name: "500 twice, then ok", faults: []fault{{Kind: faultproxy.Status, Code: 500, Method: get, Path: mani, Times: 2}},
			retries: 3, path: mani, attempts: 3, minTime: 20*time.Millisecond + 40*time.Millisecond},
		{name: "502 always", faults: []fault{{Kind: faultproxy.Status, Code: 502, Method: get, Path: mani}},
			retries: 2, want: ErrUnavailable, path: mani, attempts: 3, minTime: 60 * time.Millisecond},
		{name: "503 always, no retries", faults: []fault{{Kind: faultproxy.Status, Code: 503, Method: get, Path: mani}},
			retries: 0, want: ErrUnavailable, path: mani, attempts: 1},
		{name: "503 on a layer blob", faults: []fault{{Kind: faultproxy.Status, Code: 503, Method: get, Path: "/blobs/" + "LAYER"}},
			retries: 2, want: ErrUnavailable, path: "LAYER", attempts: 3},
		{name: "429 Retry-After is capped by the maximum backoff", faults: []fault{{Kind: faultproxy.Status, Code: 429, Header: map[string]string{"Retry-After": "120"}, Method: get, Path: mani, Times: 1}},
			retries: 3, path: mani, attempts: 2, minTime: 200 * time.Millisecond, maxTime: 1500 * time.Millisecond},
		{name: "429 always", faults: []fault{{Kind: faultproxy.Status, Code: 429, Header: map[string]string{"Retry-After": "0"}, Method: get, Path: mani}},
			retries: 2, want: ErrUnavailable, path: mani, attempts: 3},
		{name: "connection dropped before the answer, once", faults: []fault{{Kind: faultproxy.Drop, Method: get, Path: mani, Times: 1}},
			retries: 1, path: mani, attempts: 2},
		{name: "connection dropped always", faults: []fault{{Kind: faultproxy.Drop, Method: get, Path: "LAYER"}},
			retries: 2, want: nil, path: "LAYER", attempts: 3, upTo: 6},
		{name: "connection reset in the middle of a blob", faults: []fault{{Kind: faultproxy.Reset, N: 200, Method: get, Path: "LAYER"}},
			retries: 2, want: errAny, notKind: []error{ErrCorrupt}, path: "LAYER", attempts: 1},
		{name: "blob shorter than its Content-Length", faults: []fault{{Kind: faultproxy.Truncate, N: 200, Method: get, Path: "LAYER"}},
			retries: 2, want: errAny, notKind: []error{ErrCorrupt}, path: "LAYER", attempts: 1},
		{name: "wrong bytes for a layer digest", faults: []fault{{Kind: faultproxy.Corrupt, Method: get, Path: "LAYER"}},
			retries: 2, want: ErrCorrupt, path: "LAYER", attempts: 1},
		{name: "wrong bytes for the config digest", faults: []fault{{Kind: faultproxy.Corrupt, Method: get, Path: "CONFIG"}},
			retries: 2, want: ErrCorrupt, path: "CONFIG", attempts: 1},
		{name: "manifest stalls past the timeout", faults: []fault{{Kind: faultproxy.Stall, Delay: 10 * time.Second, Method: get, Path: mani}},
			retries: 1, want: ErrTimeout, path: mani, attempts: 2, minTime: 2 * faultTimeout, maxTime: 2 * time.Second},
		{name: "blob body stalls midway", faults: []fault{{Kind: faultproxy.Slow, N: 100, Delay: 10 * time.Second, Method: get, Path: "LAYER"}},
			retries: 1, want: ErrTimeout, path: "LAYER", attempts: 1, minTime: faultTimeout, maxTime: 2 * time.Second},
		{name: "slow but steady blob", faults: []fault{{Kind: faultproxy.Slow, N: 64, Delay: 20 * time.Millisecond, Method: get, Path: "LAYER"}},
			retries: 0, path: "LAYER", attempts: 1},
		{name: "401 from the registry", faults: []fault{{Kind: faultproxy.Status, Code: 401, Header: map[string]string{"WWW-Authenticate": `Basic realm="r"`}, Method: get, Path: mani}},
			retries: 2, want: ErrUnauthorized, path: mani, attempts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.Clear()
			for i := range tc.faults {
				tc.faults[i].Path = strings.NewReplacer("LAYER", fr.layer, "CONFIG", fr.config).Replace(tc.faults[i].Path)
			}
			tc.path = strings.NewReplacer("LAYER", fr.layer, "CONFIG", fr.config).Replace(tc.path)
			p.Set(tc.faults...)
			start := time.Now()
			err := readAll(context.Background(), fr.ref, faultOptions(tc.retries))
			elapsed := time.Since(start)
			t.Logf("%s: %v", elapsed.Round(time.Millisecond), err)
			switch {
			case tc.want == nil && tc.name == "connection dropped always":
				// Every attempt dropped: a network error after the retries.
				if err == nil || errors.Is(err, ErrCorrupt) {
					t.Errorf("err = %v, want a network error", err)
				}
			case tc.want == nil:
				if err != nil {
					t.Fatalf("err = %v, want the image read completely", err)
				}
			case tc.want == errAny:
				checkErr(t, err, fr.ref, err) // some error, one line, naming the image
			default:
				checkErr(t, err, fr.ref, tc.want)
			}
			for _, k := range tc.notKind {
				if errors.Is(err, k) {
					t.Errorf("err %v wraps %v", err, k)
				}
			}
			if n := p.Count(get, tc.path); n < tc.attempts || n > max(tc.attempts, tc.upTo) {
				t.Errorf("%d requests to %s, want %d", n, tc.path, tc.attempts)
			}
			if elapsed < tc.minTime {
				t.Errorf("took %s, want at least %s (backoff)", elapsed, tc.minTime)
			}
			limit := tc.maxTime
			if limit == 0 {
				limit = time.Second
			}
			if elapsed > limit {
				t.Errorf("took %s, want at most %s", elapsed, limit)
			}
		})
	}

	t.Run("429 Retry-After is honoured", func(t *testing.T) {
		p.Clear()
		p.Set(fault{Kind: faultproxy.Status, Code: 429, Header: map[string]string{"Retry-After": "1"}, Method: get, Path: mani, Times: 1})
		start := time.Now()
		err := readAll(context.Background(), fr.ref, faultOptions(1, WithBackoff(time.Millisecond, 5*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 950*time.Millisecond || d > 3*time.Second {
			t.Errorf("took %s, want about 1s", d)
		}
	})

	t.Run("a cancelled context stops the retries", func(t *testing.T) {
		p.Clear()
		p.Set(fault{Kind: faultproxy.Status, Code: 503, Method: get, Path: mani})
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := readAll(ctx, fr.ref, faultOptions(100, WithBackoff(50*time.Millisecond, 50*time.Millisecond)))
		if !errors.Is(err, ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the deadline", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %s", d)
		}
	})
}

// errAny stands for "some error" in the table above.
var errAny = errors.New("any error")

func TestHostileRegistryDocuments(t *testing.T) {
	fr := startFaultRegistry(t, registrytest.Options{})
	p := fr.proxy
	serve := func(path string, mt types.MediaType, doc any) {
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		p.Clear()
		p.Set(faultproxy.Fault{Kind: faultproxy.Status, Code: 200, Method: "GET", Path: path, Body: string(b),
			Header: map[string]string{"Content-Type": string(mt), "Docker-Content-Digest": fmt.Sprintf("sha256:%x", sha256.Sum256(b))}})
	}
	h := func(s string) v1.Hash {
		x, _ := v1.NewHash(fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))))
		return x
	}

	t.Run("10,000-entry index", func(t *testing.T) {
		idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
		for i := 0; i < 10_000; i++ {
			idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 100, Digest: h(fmt.Sprint(i)),
				Platform: &v1.Platform{OS: "linux", Architecture: fmt.Sprintf("arch%d", i)}})
		}
		serve("/manifests/big", types.OCIImageIndex, idx)
		start := time.Now()
		_, err := Open(context.Background(), p.Host+"/app:big", faultOptions(0, WithAllPlatforms())...)
		checkErr(t, err, p.Host+"/app:big", ErrUnsupported, "more than 4096 manifests")
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %s", d)
		}
		if n := p.Count("GET", "/manifests/"); n != 1 {
			t.Errorf("%d manifest requests, want 1 (no child fetched)", n)
		}
	})

	t.Run("index that names itself", func(t *testing.T) {
		// Content addressing makes a true cycle impossible; a registry can
		// still answer a child's digest with the index itself. The digest
		// check refuses it before any recursion.
		child := h("child")
		idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
			{MediaType: types.OCIImageIndex, Size: 300, Digest: child},
		}}
		b, _ := json.Marshal(idx)
		p.Clear()
		p.Set(faultproxy.Fault{Kind: faultproxy.Status, Code: 200, Method: "GET", Path: "/manifests/", Body: string(b),
			Header: map[string]string{"Content-Type": string(types.OCIImageIndex)}})
		start := time.Now()
		_, err := Open(context.Background(), p.Host+"/app:loop", faultOptions(0)...)
		checkErr(t, err, p.Host+"/app:loop", ErrCorrupt, "does not match")
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %s", d)
		}
		if n := p.Count("GET", "/manifests/"); n != 2 {
			t.Errorf("%d manifest requests, want 2", n)
		}
	})

	t.Run("manifest announcing a huge config", func(t *testing.T) {
		for size, want := range map[int64]string{10 << 30: "image config size limit (4194304 bytes)", -1: "announced as -1 bytes"} {
			m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
				Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: size, Digest: h("config")}}
			serve("/manifests/huge", types.OCIManifestSchema1, m)
			_, err := Open(context.Background(), p.Host+"/app:huge", faultOptions(0)...)
			checkErr(t, err, p.Host+"/app:huge", ErrUnsupported, want)
			if n := p.Count("GET", "/blobs/"); n != 0 {
				t.Errorf("config size %d: %d blob requests, want 0", size, n)
			}
		}
	})

	t.Run("hostile tag names and error messages", func(t *testing.T) {
		p.Clear()
		p.Set(faultproxy.Fault{Kind: faultproxy.Status, Code: 500, Method: "GET", Path: "/manifests/",
			Body: `{"errors":[{"code":"UNKNOWN","message":"\u001b[2J\u001b[31mclean\nOK\r"}]}`})
		err := readAll(context.Background(), p.Host+"/app:1", faultOptions(0))
		checkErr(t, err, p.Host+"/app:1", ErrUnavailable)
		if strings.ContainsAny(err.Error(), "\x1b\r\n") {
			t.Errorf("control characters in %q", err)
		}
		_, err = Open(context.Background(), p.Host+"/app:v1\x1b[2J", faultOptions(0)...)
		if err == nil || strings.ContainsAny(err.Error(), "\x1b\r\n") {
			t.Errorf("err = %q", err)
		}
	})
}

func TestSecretsNeverLeak(t *testing.T) {
	const (
		user     = "ci-bot"
		sentinel = "S3NTINEL-keychain-Pa55-qwerty"
	)
	secrets := []string{
		sentinel,
		base64.StdEncoding.EncodeToString([]byte(user + ":" + sentinel)),
		base64.StdEncoding.EncodeToString([]byte(sentinel)),
	}
	fr := startFaultRegistry(t, registrytest.Options{Username: user, Password: sentinel})
	p := fr.proxy
	echo := func(what string) string {
		return `{"errors":[{"code":"UNKNOWN","message":"backend failed; request had ` + what + `"}]}`
	}
	// The keychain goes first, as it did when secrets were remembered
	// process-wide: each call must scrub what its own keychain resolved.
	credentials := []struct {
		name string
		opt  Option
	}{
		{"keychain", WithKeychain(registrytest.StaticKeychain{Username: user, Password: sentinel})},
		{"options", WithCredentials(user, sentinel)},
	}
	faults := map[string]faultproxy.Fault{
		"manifest 500 echoing Authorization":  {Kind: faultproxy.Status, Code: 500, Path: "/manifests/", Body: echo("Authorization: " + faultproxy.AuthPlaceholder)},
		"manifest 500 echoing the password":   {Kind: faultproxy.Status, Code: 500, Path: "/manifests/", Body: echo("password=" + sentinel)},
		"blob 500 echoing Authorization":      {Kind: faultproxy.Status, Code: 500, Path: fr.layer, Body: echo("Authorization: " + faultproxy.AuthPlaceholder)},
		"blob 502 echoing the base64 alone":   {Kind: faultproxy.Status, Code: 502, Path: fr.layer, Body: echo("credentials " + secrets[1])},
		"blob 401 with token echo":            {Kind: faultproxy.Status, Code: 401, Path: fr.layer, Body: `{"errors":[{"code":"UNAUTHORIZED","message":"{\"token\":\"` + sentinel + `\"}"}]}`},
		"catalog 500 echoing Authorization":   {Kind: faultproxy.Status, Code: 500, Path: "/_catalog", Body: echo(faultproxy.AuthPlaceholder)},
		"tags 500 echoing Authorization":      {Kind: faultproxy.Status, Code: 500, Path: "/tags/list", Body: echo(faultproxy.AuthPlaceholder)},
		"connection reset in the middle":      {Kind: faultproxy.Reset, N: 10, Path: fr.layer},
		"stall past the timeout":              {Kind: faultproxy.Stall, Delay: 5 * time.Second, Path: "/manifests/"},
		"wrong bytes for a digest":            {Kind: faultproxy.Corrupt, Path: fr.layer},
		"registry refuses the right password": {Kind: faultproxy.Status, Code: 401, Path: "/manifests/", Header: map[string]string{"WWW-Authenticate": `Basic realm="r"`}},
	}
	for _, c := range credentials {
		cname, cred := c.name, c.opt
		for fname, f := range faults {
			t.Run(cname+"/"+fname, func(t *testing.T) {
				p.Clear()
				p.Set(f)
				opts := faultOptions(0, cred)
				var err error
				switch {
				case strings.Contains(fname, "catalog"):
					_, err = Catalog(context.Background(), p.Host, opts...)
				case strings.Contains(fname, "tags"):
					_, err = Tags(context.Background(), p.Host+"/app", opts...)
				default:
					err = readAll(context.Background(), fr.ref, opts)
				}
				if err == nil {
					t.Fatal("no error")
				}
				if p.Faulted(0) == 0 {
					t.Fatal("the fault never applied")
				}
				for _, r := range p.Requests() {
					if r.Path != "/v2/" && !r.Authorization {
						t.Errorf("%s %s sent without credentials", r.Method, r.Path)
					}
				}
				noSecret(t, err.Error(), secrets)
				var fe *Error
				if !errors.As(err, &fe) {
					t.Errorf("error is a %T", err)
				}
			})
		}
	}

	t.Run("wrong password", func(t *testing.T) {
		p.Clear()
		err := readAll(context.Background(), fr.ref, faultOptions(0, WithCredentials(user, "wrong-"+sentinel)))
		checkErr(t, err, fr.ref, ErrUnauthorized)
		noSecret(t, err.Error(), append(secrets, "wrong-"+sentinel))
	})

	t.Run("TLS failure", func(t *testing.T) {
		tlsReg := registrytest.Start(t, registrytest.Options{TLS: true, Username: user, Password: sentinel})
		ref := tlsReg.Host + "/app:1"
		for _, c := range credentials {
			_, err := Open(context.Background(), ref, WithKeychain(authn.NewMultiKeychain()), WithRetries(0), WithTimeout(time.Second), c.opt)
			checkErr(t, err, ref, ErrTLS)
			t.Logf("%s: %v", c.name, err)
			noSecret(t, err.Error(), secrets)
		}
	})
}

func noSecret(t *testing.T, msg string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("message leaks %q: %s", s, msg)
		}
	}
}

// writeLayoutFile writes name (relative to dir) with b.
func writeLayoutFile(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHostileLayouts(t *testing.T) {
	h := func(b []byte) v1.Hash { x, _ := v1.NewHash(fmt.Sprintf("sha256:%x", sha256.Sum256(b))); return x }
	mkLayout := func(t *testing.T, root v1.IndexManifest, blobs map[v1.Hash][]byte) string {
		dir := t.TempDir()
		writeLayoutFile(t, dir, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
		b, _ := json.Marshal(root)
		writeLayoutFile(t, dir, "index.json", b)
		for d, b := range blobs {
			writeLayoutFile(t, dir, "blobs/sha256/"+d.Hex, b)
		}
		return dir
	}

	t.Run("index that names itself", func(t *testing.T) {
		self := h([]byte("self"))
		doc, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
			{MediaType: types.OCIImageIndex, Digest: self, Size: 200},
		}})
		dir := mkLayout(t, v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{{MediaType: types.OCIImageIndex, Digest: self, Size: int64(len(doc))}}},
			map[v1.Hash][]byte{self: doc})
		start := time.Now()
		_, err := Open(context.Background(), "oci:"+dir, testOptions()...)
		checkErr(t, err, "oci:"+dir, ErrCorrupt, "does not match its digest")
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %s", d)
		}
	})

	t.Run("indexes nested 5 deep", func(t *testing.T) {
		var idx v1.ImageIndex = mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: randomImage(t, 1, amd64), Descriptor: v1.Descriptor{Platform: &amd64}})
		for i := 0; i < 4; i++ {
			idx = mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx})
		}
		dir := t.TempDir()
		if _, err := layout.Write(dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx})); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), "oci:"+dir, testOptions()...)
		checkErr(t, err, "oci:"+dir, ErrUnsupported, "nested more than 4 deep")
	})

	t.Run("10,000-entry index.json", func(t *testing.T) {
		var root v1.IndexManifest
		root.SchemaVersion = 2
		for i := 0; i < 10_000; i++ {
			root.Manifests = append(root.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 10, Digest: h([]byte(fmt.Sprint(i))),
				Platform: &v1.Platform{OS: "linux", Architecture: fmt.Sprint("a", i)}})
		}
		dir := mkLayout(t, root, nil)
		start := time.Now()
		_, err := Open(context.Background(), "oci:"+dir, testOptions()...)
		checkErr(t, err, "oci:"+dir, ErrUnsupported, "more than 4096 manifests")
		// Without platforms it is a list of images to choose from.
		for i := range root.Manifests {
			root.Manifests[i].Platform = nil
		}
		dir = mkLayout(t, root, nil)
		_, err = Open(context.Background(), "oci:"+dir, testOptions()...)
		checkErr(t, err, "oci:"+dir, ErrInvalidReference, "10000 manifests", "and 9980 more")
		if len(err.Error()) > 4096 {
			t.Errorf("error is %d bytes long", len(err.Error()))
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s", d)
		}
	})

	t.Run("config larger than allowed", func(t *testing.T) {
		cfg := h([]byte("cfg"))
		m, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
			Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: 1 << 40, Digest: cfg}})
		md := h(m)
		dir := mkLayout(t, v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{{MediaType: types.OCIManifestSchema1, Digest: md, Size: int64(len(m))}}},
			map[v1.Hash][]byte{md: m, cfg: []byte("{}")})
		_, err := Open(context.Background(), "oci:"+dir, testOptions()...)
		checkErr(t, err, "oci:"+dir, ErrUnsupported, "image config size limit")
	})

	t.Run("hostile tag names are quoted", func(t *testing.T) {
		var root v1.IndexManifest
		root.SchemaVersion = 2
		for _, tag := range []string{"a\x1b[31m", "b\nc"} {
			root.Manifests = append(root.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 10, Digest: h([]byte(tag)),
				Annotations: map[string]string{annotationRefName: tag}})
		}
		dir := mkLayout(t, root, nil)
		_, err := Open(context.Background(), "oci:"+dir+":nope", testOptions()...)
		checkErr(t, err, "oci:"+dir+":nope", ErrNotFound)
		if strings.ContainsAny(err.Error(), "\x1b\n") {
			t.Errorf("control characters in %q", err)
		}
	})
}
