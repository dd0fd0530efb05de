package regcache

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// retries are the default retries, with shorter waits.
func retries() []fetch.Option {
	return []fetch.Option{fetch.WithRetries(fetch.DefaultRetries), fetch.WithBackoff(20*time.Millisecond, 200*time.Millisecond)}
}

const writerEnv = "REGCACHE_TEST_WRITER_HOST"

// TestWriterProcess is one of TestConcurrentProcesses' writers: it runs
// only in the processes that test starts.
func TestWriterProcess(t *testing.T) {
	host := os.Getenv(writerEnv)
	if host == "" {
		t.Skip("run by TestConcurrentProcesses")
	}
	idx, lo := testIndexes(t, 300)
	c := open(t, host, Options{Fetch: retries()})
	for range 5 {
		if err := c.Put(context.Background(), layers.CacheKey(idx[0].DiffID, lo), idx[0]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConcurrentProcesses has separate processes write the same key, five
// times each, to the real CNCF registry while readers in this process read
// it: every read is a miss (none yet, or the registry's 500 while a tag is
// rewritten) or the whole entry, never a rejected or another one.
func TestConcurrentProcesses(t *testing.T) {
	if os.Getenv(writerEnv) != "" {
		t.Skip("a writer")
	}
	reg := registrytest.Start(t, registrytest.Options{})
	idx, lo := testIndexes(t, 300)
	key := layers.CacheKey(idx[0].DiffID, lo)
	const writers, readers = 6, 3
	done := make(chan struct{})
	var seen, rejected, failed atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		c := open(t, reg.Host, Options{Fetch: retries(), MaxFailures: 1 << 20, ClaimTTL: -1}) // never analyses: claims nothing
		wg.Go(func() {
			for {
				got, err := c.Get(context.Background(), key)
				switch {
				case errors.Is(err, fetch.ErrUnavailable):
					// distribution writes a tag's link file in place and
					// answers 500 to a read that meets a write: a miss.
					failed.Add(1)
				case err != nil:
					t.Errorf("read: %v", err)
				case got != nil && !reflect.DeepEqual(got, idx[0]):
					t.Error("a reader saw another index")
				case got != nil:
					seen.Add(1)
				}
				select {
				case <-done:
					rejected.Add(c.Stats().Rejected)
					return
				default:
				}
			}
		})
	}
	var cmds []*exec.Cmd
	for range writers {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerEnv+"="+reg.Host)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // a failing writer says why
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	close(done)
	wg.Wait()
	t.Logf("%d whole entries read, %d reads answered 500 during a write", seen.Load(), failed.Load())
	if rejected.Load() != 0 {
		t.Errorf("readers rejected %d entries", rejected.Load())
	}
	got, err := open(t, reg.Host, Options{}).Get(context.Background(), key)
	if err != nil || !reflect.DeepEqual(got, idx[0]) {
		t.Fatalf("after the writers: Get = %v, %v", got, err)
	}
}

// TestClaimsRealRegistry: caches (as processes) that miss the same layer
// at once against the real CNCF registry: one analyses it (two, when two
// claims race), the others wait for its entry.
func TestClaimsRealRegistry(t *testing.T) {
	if os.Getenv(writerEnv) != "" {
		t.Skip("a writer")
	}
	reg := registrytest.Start(t, registrytest.Options{})
	idx, lo := testIndexes(t, 50)
	key := layers.CacheKey(idx[0].DiffID, lo)
	const procs = 6
	var analysed, waited atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range procs {
		c := open(t, reg.Host, Options{Fetch: retries()})
		wg.Go(func() {
			<-start
			got, err := c.Get(context.Background(), key)
			if err != nil {
				t.Errorf("Get: %v", err)
				return
			}
			if got == nil {
				analysed.Add(1)
				time.Sleep(300 * time.Millisecond) // reading the layer
				if err := c.Put(context.Background(), key, idx[0]); err != nil {
					t.Errorf("Put: %v", err)
				}
				return
			}
			if !reflect.DeepEqual(got, idx[0]) {
				t.Error("a waiter got another index")
			}
			waited.Add(c.Stats().WaitHits)
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d of %d analysed the layer, %d waited for its entry", analysed.Load(), procs, waited.Load())
	// A tag is last-writer-wins (the registry API has no compare-and-swap),
	// so two claims written within the read-back delay of each other can
	// both stand. With six busy loops beside it on two cores, 1 analysed in
	// 58 runs of 60 and 2 in the others; before claim looked at the tag
	// again right before writing, 3 analysed in 2 runs of 60.
	if n := analysed.Load(); n < 1 || n > 2 {
		t.Errorf("%d of %d analysed the layer, want 1 (2 when two claims race)", n, procs)
	}
}
