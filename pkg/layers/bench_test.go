package layers_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// benchSpecs make a 4-layer image of 224 MiB uncompressed: one large layer
// (as real images have: the application or the distro) and smaller ones.
var benchSpecs = []it.SynthSpec{
	{Seed: 1, Files: 6000, Bytes: 128 << 20, Prefix: "usr/lib/base"},
	{Seed: 2, Files: 3000, Bytes: 48 << 20, Prefix: "usr/share/data"},
	{Seed: 3, Files: 2000, Bytes: 32 << 20, Prefix: "opt/app"},
	{Seed: 4, Files: 1000, Bytes: 16 << 20, Prefix: "srv/www"},
}

var benchImage = sync.OnceValues(func() (v1.Image, error) {
	img := empty.Image
	for _, s := range benchSpecs {
		blob, err := it.SynthLayer(s)
		if err != nil {
			return nil, err
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil })
		if err != nil {
			return nil, err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return nil, err
		}
	}
	return img, nil
})

func benchImg(b *testing.B) (v1.Image, int64) {
	img, err := benchImage()
	if err != nil {
		b.Fatal(err)
	}
	idx, err := layers.IndexImage(context.Background(), img, layers.ImageOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, x := range idx {
		total += x.UncompressedSize
	}
	return img, total
}

// BenchmarkIndexImage measures the whole streaming pass: every layer
// decompressed, hashed (blob digest and diffID) and indexed, layers in
// parallel. MB/s is over uncompressed bytes.
func BenchmarkIndexImage(b *testing.B) {
	img, total := benchImg(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := layers.IndexImage(context.Background(), img, layers.ImageOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexImageSequential is the same pass with one layer at a time.
func BenchmarkIndexImageSequential(b *testing.B) {
	img, total := benchImg(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := layers.IndexImage(context.Background(), img, layers.ImageOptions{Concurrency: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSquash100k squashes 100,000 entries over two layers.
func BenchmarkSquash100k(b *testing.B) {
	var idx []*layers.LayerIndex
	for _, s := range []it.SynthSpec{{Seed: 5, Files: 60000, Bytes: 1 << 20, Prefix: "a"}, {Seed: 6, Files: 40000, Bytes: 1 << 20, Prefix: "b"}} {
		var buf bytes.Buffer
		if err := it.SynthTar(&buf, s); err != nil {
			b.Fatal(err)
		}
		x, err := layers.IndexStream(context.Background(), &buf, layers.Options{})
		if err != nil {
			b.Fatal(err)
		}
		idx = append(idx, x)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := layers.Squash(idx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
