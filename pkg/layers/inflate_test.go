package layers_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/imgaudit/imgaudit/internal/e2e"
	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/inflate"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// decompressors are the inflaters under test: Go's, and igzip and pigz
// when installed (CI installs both; elsewhere a missing one is skipped).
func decompressors(t *testing.T) map[string]layers.Inflater {
	t.Helper()
	out := map[string]layers.Inflater{"go": nil}
	for name, p := range e2e.Inflaters(t) {
		c, err := inflate.New(name, p)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = c
	}
	return out
}

// TestPipelineStops checks that a layer abandoned mid-stream (a limit hit,
// a cancelled context) leaves no inflater goroutine behind.
func TestPipelineStops(t *testing.T) {
	synth, err := it.SynthLayer(it.SynthSpec{Seed: 11, Files: 2000, Bytes: 24 << 20, Prefix: "opt"})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for range 20 {
		_, err := layers.IndexStream(context.Background(), bytes.NewReader(synth), layers.Options{Limits: layers.Limits{MaxLayerBytes: 1 << 20}})
		if !errors.Is(err, layers.ErrLimit) {
			t.Fatalf("err = %v, want a limit", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := layers.IndexStream(ctx, bytes.NewReader(synth), layers.Options{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("%d goroutines left, %d before", n, before)
	}
}
