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

// trackedLayer counts the reads of its blob in progress (from open to
// close) in a gauge shared by several layers, and makes each slow.
type trackedLayer struct {
	v1.Layer
	g *gauge
}

type gauge struct {
	mu       sync.Mutex
	cur, max int
}

func (g *gauge) add(d int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cur += d
	g.max = max(g.max, g.cur)
}

func (l trackedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	l.g.add(1)
	time.Sleep(40 * time.Millisecond)
	return &trackedReader{ReadCloser: rc, g: l.g}, nil
}

type trackedReader struct {
	io.ReadCloser
	g    *gauge
	once sync.Once
}

func (r *trackedReader) Close() error {
	r.once.Do(func() { r.g.add(-1) })
	return r.ReadCloser.Close()
}

// TestReadFlightBoundsReads: images of a fleet share three base layers.
// Scanned at once through a Flight from NewReadFlight(2), they read two of
// the base layers side by side while the other images wait for them
// (waiting takes no turn); with one layer at a time per image, as when the
// CPUs were split among the images, the base layers were read one after
// another. With a top layer of their own, the images never read more than
// two layers at once, all together.
func TestReadFlightBoundsReads(t *testing.T) {
	var all, base gauge
	var shared []v1.Layer
	for i := range 3 {
		l, err := it.Layer(it.Text("usr/lib/base"+itoa(i), "x"))
		if err != nil {
			t.Fatal(err)
		}
		shared = append(shared, trackedLayer{trackedLayer{l, &base}, &all})
	}
	scan := func(f *layers.Flight, perImage int, tops bool) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 6 {
			ls := append([]v1.Layer{}, shared...)
			if tops {
				top, err := it.Layer(it.Text("app"+itoa(i), "x"))
				if err != nil {
					t.Fatal(err)
				}
				ls = append(ls, trackedLayer{top, &all})
			}
			img, err := mutate.AppendLayers(empty.Image, ls...)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				if _, err := layers.Scan(context.Background(), img, layers.ImageOptions{Flight: f, Concurrency: perImage}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	scan(layers.NewReadFlight(2), 4, false)
	if base.max != 2 {
		t.Errorf("bounded to 2: %d base layers read at once at most, want 2", base.max)
	}
	base = gauge{}
	scan(layers.NewFlight(), 1, false)
	if base.max != 1 {
		t.Errorf("one layer per image: %d base layers read at once, want 1 (what the bound fixes)", base.max)
	}
	all = gauge{}
	scan(layers.NewReadFlight(2), 4, true)
	if all.max != 2 {
		t.Errorf("bounded to 2, with a top layer each: %d layers read at once at most, want 2", all.max)
	}
}
