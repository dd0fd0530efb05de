package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// BenchmarkRegistryFleet audits a real registry holding N images that share
// one 192 MiB (uncompressed) base layer, each with its own small layer: cold
// (empty layer cache) and warm (every layer cached). Cost should grow with
// the number of unique layers, not images. IMGAUDIT_FLEET_BASE_MIB sets the
// base layer's size.
func BenchmarkRegistryFleet(b *testing.B) {
	reg := registrytest.Start(b, registrytest.Options{})
	baseMiB := int64(192)
	if v, err := strconv.ParseInt(os.Getenv("IMGAUDIT_FLEET_BASE_MIB"), 10, 64); err == nil && v > 0 {
		baseMiB = v
	}
	blob, err := it.SynthLayer(it.SynthSpec{Seed: 7, Files: 4000, Bytes: baseMiB << 20, Prefix: "usr/lib/base"})
	if err != nil {
		b.Fatal(err)
	}
	base, err := layerFromGzip(blob)
	if err != nil {
		b.Fatal(err)
	}
	pushed := 0
	push := func(n int) {
		for ; pushed < n; pushed++ {
			top, _ := it.Layer(it.Dir("bin", 0o755), it.File("bin/sh", 0o755, it.ELF("", 64)), it.Text(fmt.Sprintf("app/%d", pushed), "x"))
			img, err := mutate.AppendLayers(empty.Image, base, top)
			if err != nil {
				b.Fatal(err)
			}
			if err := remote.Write(reg.Ref(b, fmt.Sprintf("fleet/app%03d:1", pushed)), img, reg.RemoteOptions()...); err != nil {
				b.Fatal(err)
			}
		}
	}
	opts := func(cache layers.Cache) audit.Options {
		o := audit.DefaultOptions()
		o.Fetch = []fetch.Option{fetch.WithInsecure(), fetch.WithRetries(0)}
		o.Cache = cache
		return o
	}
	for _, n := range []int{10, 20, 40} {
		push(n)
		b.Run(fmt.Sprintf("images=%d/cold", n), func(b *testing.B) {
			for b.Loop() {
				cache, _ := layers.NewDiskCache(b.TempDir(), 0)
				r, err := audit.Registry(context.Background(), reg.Host, audit.RegistryOptions{}, opts(cache), nil)
				if err != nil || len(r.Images) != n {
					b.Fatalf("%v, %d images", err, len(r.Images))
				}
			}
		})
		b.Run(fmt.Sprintf("images=%d/warm", n), func(b *testing.B) {
			cache, _ := layers.NewDiskCache(b.TempDir(), 0)
			if _, err := audit.Registry(context.Background(), reg.Host, audit.RegistryOptions{}, opts(cache), nil); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				r, err := audit.Registry(context.Background(), reg.Host, audit.RegistryOptions{}, opts(cache), nil)
				if err != nil || len(r.Images) != n {
					b.Fatalf("%v, %d images", err, len(r.Images))
				}
			}
		})
	}
	_ = errors.Is
	var _ v1.Image
}
