// Command fleetpush pushes every named image of an OCI image layout (as
// scripts/benchgen -images writes it) to a registry, for fleet benchmarks:
// the image named appNNN:T (org.opencontainers.image.ref.name) goes to
// REGISTRY/PREFIX/appNNN:T, appNNN to REGISTRY/PREFIX/appNNN:1. A layer
// already pushed to another repository is mounted from there (the
// distribution API's cross-repository mount) rather than sent again, so
// shared bases go up once.
//
//	go run ./scripts/fleetpush -layout DIR -registry 127.0.0.1:5000 [-prefix fleet] [-jobs 4] [-insecure]
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	dir := flag.String("layout", "", "OCI image layout to read")
	reg := flag.String("registry", "", "registry host[:port] to push to")
	prefix := flag.String("prefix", "fleet", "repository prefix")
	jobs := flag.Int("jobs", 4, "images pushed at once")
	insecure := flag.Bool("insecure", false, "plain HTTP")
	flag.Parse()
	if *dir == "" || *reg == "" || *jobs < 1 {
		fmt.Fprintln(os.Stderr, "usage: fleetpush -layout DIR -registry HOST[:PORT] [-prefix P] [-jobs N] [-insecure]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	n, err := push(ctx, *dir, *reg, *prefix, *jobs, *insecure)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetpush:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "fleetpush: %d images pushed to %s/%s\n", n, *reg, *prefix)
}

func push(ctx context.Context, dir, reg, prefix string, jobs int, insecure bool) (int, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return 0, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return 0, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return 0, err
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	m := &mounter{insecure: insecure, from: map[string]string{}}
	work := make(chan [2]string)
	errs := make(chan error, len(im.Manifests))
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range work {
				errs <- pushOne(ctx, p, w[0], w[1], opts, m)
			}
		}()
	}
	n := 0
	for _, d := range im.Manifests {
		ref := d.Annotations["org.opencontainers.image.ref.name"]
		if ref == "" {
			continue
		}
		repo, tag, ok := strings.Cut(ref, ":")
		if !ok {
			tag = "1"
		}
		n++
		work <- [2]string{d.Digest.String(), fmt.Sprintf("%s/%s/%s:%s", reg, prefix, repo, tag)}
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

func pushOne(ctx context.Context, p layout.Path, digest, target string, opts []name.Option, m *mounter) error {
	h, err := v1.NewHash(digest)
	if err != nil {
		return err
	}
	img, err := p.Image(h)
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(target, opts...)
	if err != nil {
		return err
	}
	if err := m.mountLayers(ctx, ref, img); err != nil {
		return err
	}
	// docker-registry refuses, now and then, a manifest whose blobs another
	// push is uploading at the same moment ("blob unknown"): try again.
	var werr error
	for try := range 4 {
		if try > 0 {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		if werr = remote.Write(ref, img, remote.WithContext(ctx)); werr == nil || ctx.Err() != nil {
			break
		}
	}
	if werr != nil {
		return fmt.Errorf("%s: %w", target, werr)
	}
	m.pushed(ref, img)
	return nil
}

// mounter remembers which repository holds each layer pushed so far and
// mounts those layers into the next repository before its image is
// pushed. Anonymous access only (a local benchmark registry).
type mounter struct {
	insecure bool
	mu       sync.Mutex
	from     map[string]string // layer digest -> repository holding it
}

func (m *mounter) mountLayers(ctx context.Context, ref name.Reference, img v1.Image) error {
	ls, err := img.Layers()
	if err != nil {
		return err
	}
	repo := ref.Context()
	scheme := "https"
	if m.insecure {
		scheme = "http"
	}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		m.mu.Lock()
		src, ok := m.from[d.String()]
		m.mu.Unlock()
		if !ok || src == repo.RepositoryStr() {
			continue
		}
		u := fmt.Sprintf("%s://%s/v2/%s/blobs/uploads/?mount=%s&from=%s", scheme, repo.RegistryStr(), repo.RepositoryStr(), d, src)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		// 201: mounted. 202: the registry opened an upload instead; the
		// push below sends the blob.
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("mounting %s into %s: %s", d, repo, resp.Status)
		}
	}
	return nil
}

func (m *mounter) pushed(ref name.Reference, img v1.Image) {
	ls, err := img.Layers()
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range ls {
		if d, err := l.Digest(); err == nil {
			if _, ok := m.from[d.String()]; !ok {
				m.from[d.String()] = ref.Context().RepositoryStr()
			}
		}
	}
}
