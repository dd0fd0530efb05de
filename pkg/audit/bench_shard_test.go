//go:build unix

package audit_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/shard"
)

// cpu returns the CPU time this process has used (user + system).
func cpu(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkShardedFleet is the sizing figure of the README's "Auditing a
// large registry": a real registry of 24 repositories × 4 tags over one
// shared base layer (IMGAUDIT_FLEET_BASE_MIB, default 64 MiB uncompressed,
// 2,000 files) and a small layer per tag, audited as 1 shard and as 4
// shards run one after the other, each shard with an empty layer cache of
// its own (a pod with an emptyDir cache), SBOM on, as imgaudit registry
// does. It reports the CPU-seconds of this process (getrusage: the
// registry is another process) and images per CPU-second.
//
//	go test ./pkg/audit -run NONE -bench ShardedFleet -benchtime 1x
func BenchmarkShardedFleet(b *testing.B) {
	reg := registrytest.Start(b, registrytest.Options{})
	baseMiB := int64(64)
	if v, err := strconv.ParseInt(os.Getenv("IMGAUDIT_FLEET_BASE_MIB"), 10, 64); err == nil && v > 0 {
		baseMiB = v
	}
	blob, err := it.SynthLayer(it.SynthSpec{Seed: 9, Files: 2000, Bytes: baseMiB << 20, Prefix: "usr/lib/base"})
	if err != nil {
		b.Fatal(err)
	}
	base, err := layerFromGzip(blob)
	if err != nil {
		b.Fatal(err)
	}
	const repos, tags = 24, 4
	for r := 0; r < repos; r++ {
		for tag := 0; tag < tags; tag++ {
			top, _ := it.Layer(it.Dir("bin", 0o755), it.File("bin/sh", 0o755, it.ELF("", 64)), it.Text(fmt.Sprintf("app/%d/%d", r, tag), "x"))
			img, err := mutate.AppendLayers(empty.Image, base, top)
			if err != nil {
				b.Fatal(err)
			}
			if err := remote.Write(reg.Ref(b, fmt.Sprintf("fleet/svc%02d:v%d", r, tag)), img, reg.RemoteOptions()...); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			var used time.Duration
			images := 0
			for b.Loop() {
				images = 0
				c0 := cpu(b)
				for i := 0; i < n; i++ {
					cache, _ := layers.NewDiskCache(b.TempDir(), 0)
					o := audit.DefaultOptions()
					o.Fetch = []fetch.Option{fetch.WithInsecure(), fetch.WithRetries(0)}
					o.Cache = cache
					ro := audit.RegistryOptions{Shard: shard.Spec{Index: i, Count: n}}
					r, err := audit.Registry(context.Background(), reg.Host, ro, o, nil)
					if err != nil {
						b.Fatal(err)
					}
					images += len(r.Images)
				}
				used = cpu(b) - c0
			}
			if images != repos*tags {
				b.Fatalf("%d images audited, want %d", images, repos*tags)
			}
			b.ReportMetric(used.Seconds(), "CPU-s")
			b.ReportMetric(float64(images)/used.Seconds(), "images/CPU-s")
		})
	}
	var _ v1.Image
}
