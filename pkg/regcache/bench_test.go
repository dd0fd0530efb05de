package regcache

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// benchIndex indexes a synthetic layer of 5,000 files (8 MiB) with the
// default captures' worth of small files: the index of a middling real
// layer.
func benchIndex(b *testing.B) *layers.LayerIndex {
	b.Helper()
	blob, err := imagetest.SynthLayer(imagetest.SynthSpec{Seed: 7, Files: 5000, Bytes: 8 << 20, Prefix: "usr/lib/app"})
	if err != nil {
		b.Fatal(err)
	}
	idx, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return idx
}

// BenchmarkRoundTrip measures a Put (every blob new: a full upload) and a
// Get (manifest, blob, verification, decompression, decoding) of a
// 5,000-entry index on the in-process registry over loopback HTTP, and a
// DiskCache Get of the same index for comparison.
//
//	go test -run '^$' -bench RoundTrip -benchtime 50x ./pkg/regcache
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	idx := benchIndex(b)
	reg := startRegistry(b)
	c := open(b, reg.host, Options{})
	key := layers.CacheKey(idx.DiffID, layers.Options{})
	if err := c.Put(ctx, key, idx); err != nil {
		b.Fatal(err)
	}
	var encoded bytes.Buffer
	if err := layers.EncodeCacheEntry(&encoded, key, idx, nil); err != nil {
		b.Fatal(err)
	}
	b.Logf("index: %d entries; entry %d bytes, %d gzip'd", len(idx.Entries), encoded.Len(), c.Stats().BytesWritten)

	b.Run("put", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if err := c.Put(ctx, fmt.Sprintf("%s-%d", key, i), idx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			got, err := c.Get(ctx, key)
			if err != nil || got == nil || len(got.Entries) != len(idx.Entries) {
				b.Fatalf("Get = %v, %v", got, err)
			}
		}
	})
	// The CPU part of each: gzip'd entries in and out, no HTTP.
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := compress(key, idx, nil, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw, err := compress(key, idx, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if got, _, err := c.decode(raw, key, ArtifactTypeIndex); err != nil || got == nil {
				b.Fatalf("decode = %v, %v", got, err)
			}
		}
	})
	b.Run("get-disk", func(b *testing.B) {
		d, err := layers.NewDiskCache(b.TempDir(), 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Put(ctx, key, idx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for range b.N {
			if got, err := d.Get(ctx, key); err != nil || got == nil {
				b.Fatalf("Get = %v, %v", got, err)
			}
		}
	})
}
