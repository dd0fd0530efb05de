package audit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestRunBaseline: with Options.Baseline the library gives every image,
// streamed ones too, its diff against the baseline; a released build
// (any version but "dev") reads an image audited before back from the
// cache when it is a baseline, and a development build never does.
func TestRunBaseline(t *testing.T) {
	cfg := v1.Config{User: "1000"}
	base := it.Step("ADD rootfs.tar /", it.Text("etc/passwd", "root:x:0:0::/root:/sbin/nologin\n"))
	curl := it.Step("RUN apt-get install -y curl", it.File("usr/bin/curl", 0o755, it.ELF("", 128)))
	layout := func(steps ...it.LayerStep) string {
		img, err := it.Image(cfg, steps...)
		if err != nil {
			t.Fatal(err)
		}
		return "oci:" + it.WriteLayout(t, img)
	}
	old, nw := layout(base), layout(base, curl)
	ctx := context.Background()

	for _, version := range []string{"1.2.3", "dev"} {
		t.Run(version, func(t *testing.T) {
			cache, err := layers.NewDiskCache(t.TempDir(), 0)
			if err != nil {
				t.Fatal(err)
			}
			o := audit.DefaultOptions()
			o.ToolVersion, o.Cache = version, cache
			if _, err := audit.Run(ctx, []string{old}, o); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			layerEvents := map[string]int{}
			o.Progress = func(e audit.Event) {
				mu.Lock()
				defer mu.Unlock()
				if e.Layer >= 0 {
					layerEvents[e.Reference]++
				}
			}
			o.Baseline = old
			var emitted []report.Image
			r, err := audit.RunStream(ctx, []string{nw}, o, func(img report.Image) { emitted = append(emitted, img) })
			if err != nil {
				t.Fatal(err)
			}
			for _, img := range append(emitted, r.Images...) {
				if img.Diff == nil || img.Diff.Baseline != old {
					t.Fatalf("%s: diff %+v, want one against %s", img.Reference, img.Diff, old)
				}
				var added []string
				for _, f := range img.Diff.Added {
					added = append(added, f.ID+" "+f.Path)
				}
				if !slices.Equal(added, []string{"IA-NETWORK-TOOL /usr/bin/curl"}) || len(img.Diff.Removed) != 0 {
					t.Errorf("added %v, removed %v", added, img.Diff.Removed)
				}
			}
			if len(emitted) != 1 {
				t.Errorf("%d images emitted, want 1", len(emitted))
			}
			// The baseline's layers are read (from the cache) unless its
			// report is reused.
			if n, want := layerEvents[old], map[string]int{"dev": 1, "1.2.3": 0}[version]; n != want {
				t.Errorf("baseline layer events: %d, want %d", n, want)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		o := audit.DefaultOptions()
		o.Baseline = audit.BaselineBase
		_, err := audit.Run(ctx, []string{old}, o)
		if !errors.Is(err, audit.ErrIncomplete) || !strings.Contains(err.Error(), "names no base image") {
			t.Errorf("--baseline base without annotations: %v", err)
		}
		o.Baseline = old + "-missing"
		r, err := audit.Run(ctx, []string{nw}, o)
		if !errors.Is(err, audit.ErrIncomplete) || r == nil || r.Images[0].Diff != nil {
			t.Errorf("missing baseline: %v, want an incomplete audit of the image, no diff", err)
		}
	})
}
