package layers_test

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// slowLayer counts blob opens and makes each read slow enough for
// concurrent scans to overlap.
type slowLayer struct {
	v1.Layer
	opens *atomic.Int64
}

func (l slowLayer) Compressed() (io.ReadCloser, error) {
	l.opens.Add(1)
	time.Sleep(50 * time.Millisecond)
	return l.Layer.Compressed()
}

func TestFlightSharesConcurrentReads(t *testing.T) {
	var opens atomic.Int64
	base, err := it.Layer(it.Dir("usr/bin", 0o755), it.File("usr/bin/sh", 0o755, it.ELF("", 8)))
	if err != nil {
		t.Fatal(err)
	}
	shared := slowLayer{base, &opens}
	var imgs []v1.Image
	for i := 0; i < 8; i++ {
		top, err := it.Layer(it.Text("app"+itoa(i), "x"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(empty.Image, shared, top)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	opts := layers.ImageOptions{Flight: layers.NewFlight()}
	var wg sync.WaitGroup
	for _, img := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := layers.Scan(context.Background(), img, opts); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := opens.Load(); n != 1 {
		t.Errorf("shared base layer read %d times by 8 concurrent scans, want 1", n)
	}
}
