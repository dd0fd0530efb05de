package checks

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// TestChecksShareViewsConcurrently: the whole catalogue run from many
// goroutines on one Image (each view built by whichever check asks first)
// finds what one sequential run on a fresh Image finds. Run with -race.
func TestChecksShareViewsConcurrently(t *testing.T) {
	cfg := v1.Config{User: "app", Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}}
	steps := []it.LayerStep{
		withPasswd(passwd),
		it.Step("FROM debian", items(usrmerge(), []it.Item{
			it.File("usr/bin/dash", 0o755, elf), it.Symlink("usr/bin/sh", "dash"), it.File("usr/bin/curl", 0o755, elf),
			it.File("usr/bin/su", 0o4755, elf), it.Hardlink("usr/bin/su2", "usr/bin/su"), it.Dir("tmp", 0o777),
			it.Dir("etc/ssl", 0o755), it.Text("etc/ssl/server.key", rsaKey),
		})...),
		busyboxLayer("wget", "ash"),
	}
	want, err := Run(context.Background(), build(t, cfg, steps...), All())
	if err != nil {
		t.Fatal(err)
	}
	img := build(t, cfg, steps...)
	var wg sync.WaitGroup
	got := make([][]Finding, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := All()
			// Different orders, so that different checks build each view.
			for j := 0; j < i; j++ {
				cs = append(cs[1:], cs[0])
			}
			got[i], errs[i] = Run(context.Background(), img, cs)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if d := cmp.Diff(want, got[i]); d != "" {
			t.Errorf("run %d (-sequential +concurrent):\n%s", i, d)
		}
	}
}

// TestViewNotKeptWhenCancelled: a view whose build the context stopped is
// built again by the next caller.
func TestViewNotKeptWhenCancelled(t *testing.T) {
	img := build(t, zeroConfig, it.Step("FROM", it.Dir("bin", 0o755), it.File("bin/x", 0o4755, elf)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := entriesOf(ctx, img); !errors.Is(err, context.Canceled) {
		t.Fatalf("entriesOf(cancelled) error = %v, want context.Canceled", err)
	}
	l, err := entriesOf(context.Background(), img)
	if err != nil || len(l.special) != 1 {
		t.Fatalf("entriesOf after a cancelled build = %+v, %v; want the setuid file", l, err)
	}
	if again, _ := entriesOf(ctx, img); again != l {
		t.Errorf("a built view is not reused")
	}
}
