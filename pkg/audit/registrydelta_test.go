package audit_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// deltaRegistry is an in-process registry (go-containerregistry's
// pkg/registry) holding:
//
//	team/app  1.0.0 (base, app), 1.1.0 (+ curl), 1.2.0 (+ setuid helper), latest = 1.2.0
//	team/web  stable (base, created 2023), main-a (base + app, 2024-01),
//	          main-b (+ curl, 2024-03): no semantic version
//	team/db   1.0.0 only
type deltaRegistry struct {
	host    string
	counter *blobCounter
	base    v1.Hash // the layer every image shares
}

func startDeltaRegistry(t *testing.T) deltaRegistry {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	cfg := v1.Config{User: "1000"}
	base := it.Step("ADD rootfs.tar /", it.Text("etc/passwd", "root:x:0:0::/root:/sbin/nologin\napp:x:1000:1000::/app:/sbin/nologin\n"))
	app := it.Step("COPY app /app", it.Text("app/run", "x"))
	curl := it.Step("RUN apt-get install -y curl", it.File("usr/bin/curl", 0o755, it.ELF("", 128)))
	helper := it.Step("COPY helper /usr/local/bin/", it.File("usr/local/bin/helper", 0o4755, it.ELF("", 96)))
	push := func(created string, steps []it.LayerStep, refs ...string) {
		img, err := it.Image(cfg, steps...)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse(time.DateOnly, created)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.CreatedAt(img, v1.Time{Time: ts}); err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			ref, err := name.ParseReference(host+"/"+r, name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(ref, img); err != nil {
				t.Fatal(err)
			}
		}
	}
	push("2024-01-01", []it.LayerStep{base, app}, "team/app:1.0.0")
	push("2024-02-01", []it.LayerStep{base, app, curl}, "team/app:1.1.0")
	push("2024-03-01", []it.LayerStep{base, app, curl, helper}, "team/app:1.2.0", "team/app:latest")
	push("2023-06-01", []it.LayerStep{base}, "team/web:stable")
	push("2024-01-02", []it.LayerStep{base, app}, "team/web:main-a")
	push("2024-03-01", []it.LayerStep{base, app, curl}, "team/web:main-b")
	push("2024-01-03", []it.LayerStep{base, app}, "team/db:1.0.0")
	img, err := it.Image(cfg, base)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	bd, err := ls[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	return deltaRegistry{host: host, counter: &blobCounter{inner: http.DefaultTransport, gets: map[string]int{}}, base: bd}
}

func (d deltaRegistry) audit(t *testing.T, ro audit.RegistryOptions) (*report.Report, []report.Image, error) {
	t.Helper()
	o := audit.DefaultOptions()
	o.Fetch = []fetch.Option{fetch.WithInsecure(), fetch.WithRetries(0), fetch.WithTransport(d.counter)}
	var emitted []report.Image
	r, err := audit.Registry(context.Background(), d.host, ro, o, func(img report.Image) { emitted = append(emitted, img) })
	return r, emitted, err
}

// added lists an image's added findings as "ID path", sorted.
func added(img report.Image) []string {
	var out []string
	for _, f := range img.Diff.Added {
		out = append(out, f.ID+" "+f.Path)
	}
	slices.Sort(out)
	return out
}

func TestRegistryBaselineTag(t *testing.T) {
	reg := startDeltaRegistry(t)
	h := reg.host + "/"
	byRef := func(t *testing.T, r *report.Report) map[string]report.Image {
		m := map[string]report.Image{}
		for _, img := range r.Images {
			m[strings.TrimPrefix(img.Reference, h)] = img
		}
		return m
	}
	warnings := func(r *report.Report) []string {
		var out []string
		for _, w := range r.Warnings {
			if w.Kind == audit.WarningNotCompared {
				out = append(out, strings.TrimPrefix(w.Message, h))
			}
		}
		return out
	}
	curl := "IA-NETWORK-TOOL /usr/bin/curl"
	setuid := "IA-SETUID /usr/local/bin/helper"

	t.Run("previous", func(t *testing.T) {
		reg.counter.reset()
		r, emitted, err := reg.audit(t, audit.RegistryOptions{BaselineTag: audit.BaselinePrevious})
		if err != nil {
			t.Fatal(err)
		}
		imgs := byRef(t, r)
		newest := imgs["team/app:1.2.0"]
		if newest.Diff == nil || newest.Diff.Baseline != h+"team/app:1.1.0" {
			t.Fatalf("team/app:1.2.0 diff = %+v, want one against 1.1.0", newest.Diff)
		}
		if got := added(newest); !slices.Equal(got, []string{setuid}) || len(newest.Diff.Removed) != 0 {
			t.Errorf("1.2.0 over 1.1.0: added %v, removed %v", got, newest.Diff.Removed)
		}
		for ref, img := range imgs {
			if ref != "team/app:1.2.0" && img.Diff != nil {
				t.Errorf("%s has a diff; only each repository's newest tag is compared", ref)
			}
		}
		want := []string{
			"team/db: not compared (--baseline-tag previous): fewer than two semantic-version tags (1)",
			"team/web: not compared (--baseline-tag previous): fewer than two semantic-version tags (0)",
		}
		if got := warnings(r); !slices.Equal(got, want) {
			t.Errorf("warnings %q, want %q", got, want)
		}
		// Every image is reported (and emitted, once compared); tags of one
		// digest once.
		if len(r.Images) != 7 || len(emitted) != 7 || emitted[0].Reference != r.Images[0].Reference {
			t.Errorf("%d images, %d emitted; want 7", len(r.Images), len(emitted))
		}
		for _, e := range emitted {
			if strings.HasSuffix(e.Reference, "team/app:1.2.0") && e.Diff == nil {
				t.Error("the newest image was emitted without its diff")
			}
		}
		if n := reg.counter.count(reg.base); n != 1 {
			t.Errorf("shared base layer read %d times, want 1", n)
		}
	})

	t.Run("tag, created fallback and notes", func(t *testing.T) {
		r, _, err := reg.audit(t, audit.RegistryOptions{BaselineTag: "stable"})
		if err != nil {
			t.Fatal(err)
		}
		imgs := byRef(t, r)
		web := imgs["team/web:main-b"]
		if web.Diff == nil || web.Diff.Baseline != h+"team/web:stable" {
			t.Fatalf("team/web: the image created last (main-b) is compared with stable; diff %+v", web.Diff)
		}
		if got := added(web); !slices.Equal(got, []string{curl}) {
			t.Errorf("main-b over stable: added %v", got)
		}
		if imgs["team/web:main-a"].Diff != nil {
			t.Error("main-a compared: it was created before main-b")
		}
		want := []string{
			"team/app: not compared (--baseline-tag stable): no tag stable",
			"team/db: not compared (--baseline-tag stable): no tag stable",
		}
		if got := warnings(r); !slices.Equal(got, want) {
			t.Errorf("warnings %q, want %q", got, want)
		}
	})

	t.Run("baseline tag outside the selection", func(t *testing.T) {
		reg.counter.reset()
		r, _, err := reg.audit(t, audit.RegistryOptions{RepoGlob: "team/app", MaxTags: 1, BaselineTag: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Images) != 1 || r.Images[0].Reference != h+"team/app:1.2.0" {
			t.Fatalf("images %v, want only the selected team/app:1.2.0 (1.0.0 is the baseline, not reported)", r.Images)
		}
		img := r.Images[0]
		if got := added(img); img.Diff.Baseline != h+"team/app:1.0.0" || !slices.Equal(got, []string{curl, setuid}) {
			t.Errorf("1.2.0 over 1.0.0: baseline %s, added %v", img.Diff.Baseline, got)
		}
		if len(img.AlsoKnownAs) != 0 || r.Summary.Images != 1 {
			t.Errorf("aliases %v, summary %+v", img.AlsoKnownAs, r.Summary)
		}
		if n := reg.counter.count(reg.base); n != 1 {
			t.Errorf("shared base layer read %d times, want 1", n)
		}
	})

	t.Run("nothing to compare", func(t *testing.T) {
		r, _, err := reg.audit(t, audit.RegistryOptions{RepoGlob: "team/db", BaselineTag: audit.BaselinePrevious})
		if !errors.Is(err, audit.ErrIncomplete) || !strings.Contains(err.Error(), "no repository could be compared") {
			t.Fatalf("err = %v, want an incomplete audit: no repository could be compared", err)
		}
		if r == nil || len(r.Images) != 1 || len(r.Warnings) != 1 {
			t.Fatalf("report %+v: want the image and its warning", r)
		}
	})

	t.Run("Options.Baseline is not for registries", func(t *testing.T) {
		o := audit.DefaultOptions()
		o.Baseline = "x"
		if _, err := audit.Registry(context.Background(), reg.host, audit.RegistryOptions{}, o, nil); err == nil {
			t.Error("no error")
		}
	})
}
