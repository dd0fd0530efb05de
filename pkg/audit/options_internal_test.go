package audit

import (
	"runtime"
	"testing"
)

// TestLayerConcurrencyDefault: 0 layer concurrency means what the CLI's
// --layer-concurrency help says, the number of CPUs, shared among the
// images audited at once; a value set is used as is.
func TestLayerConcurrencyDefault(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	for _, tc := range []struct {
		o      Options
		images int
		want   int
	}{
		{Options{}, 1, 8},                        // one image: every CPU
		{Options{}, 2, 4},                        // two images at once
		{Options{}, 100, 8 / DefaultConcurrency}, // DefaultConcurrency at once
		{Options{Concurrency: 16}, 100, 1},       // never below one
		{Options{Concurrency: 1}, 100, 8},        // one image at a time
		{Options{LayerConcurrency: 3}, 100, 3},   // set: as is
	} {
		if got := tc.o.layerWorkers(tc.images); got != tc.want {
			t.Errorf("%+v with %d images: %d layers at once, want %d", tc.o, tc.images, got, tc.want)
		}
	}
	if got := (Options{}).layerOptions(nil).Concurrency; got != 8 {
		t.Errorf("Target with zero options reads %d layers at once, want 8", got)
	}
	if got := (Options{}).workers(); got != DefaultConcurrency {
		t.Errorf("zero options audit %d images at once, want %d", got, DefaultConcurrency)
	}
}

// TestDisabledChecks: disabled checks and categories do not run.
func TestDisabledChecks(t *testing.T) {
	all := (Options{}).checks()
	o := Options{DisabledChecks: []string{"ia-root-user"}, DisabledCategories: []string{"SHELL"}}
	got := o.checks()
	if len(got) >= len(all)-1 {
		t.Fatalf("%d checks run of %d", len(got), len(all))
	}
	for _, c := range got {
		if m := c.Meta(); m.ID == "IA-ROOT-USER" || m.Category == "shell" {
			t.Errorf("%s (%s) runs", m.ID, m.Category)
		}
	}
}
