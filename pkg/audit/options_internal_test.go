package audit

import (
	"runtime"
	"testing"
)

// TestLayerConcurrencyDefault: 0 layer concurrency means what the CLI's
// --layer-concurrency help says: an image reads as many layers at once as
// there are CPUs, and so do all the images of an audit together (its
// Flight bounds them); a value set is used as is, per image.
func TestLayerConcurrencyDefault(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	if got := (Options{}).layerWorkers(); got != 8 {
		t.Errorf("zero options: %d layers of an image at once, want 8", got)
	}
	if got := (Options{LayerConcurrency: 3}).layerWorkers(); got != 3 {
		t.Errorf("LayerConcurrency 3: %d layers at once", got)
	}
	if got := (Options{}).layerOptions(nil).Concurrency; got != 8 {
		t.Errorf("Target with zero options reads %d layers at once, want 8", got)
	}
	if got := (Options{}).workers(); got != DefaultConcurrency {
		t.Errorf("zero options audit %d images at once, want %d", got, DefaultConcurrency)
	}
	if got := (Options{}).newFlight().ReadBound(); got != 8 {
		t.Errorf("zero options: the audit's images read %d layers at once, want 8", got)
	}
	if got := (Options{LayerConcurrency: 3}).newFlight().ReadBound(); got != 0 {
		t.Errorf("LayerConcurrency 3: the audit's images read at most %d layers at once, want no bound but theirs", got)
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
