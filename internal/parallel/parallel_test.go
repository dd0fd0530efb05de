package parallel

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEachRunsEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{-1, 0, 1, 3, 100} {
		seen := make([]int32, 50)
		var running, peak atomic.Int32
		var mu sync.Mutex
		Each(context.Background(), len(seen), workers, func(i int) {
			n := running.Add(1)
			mu.Lock()
			peak.Store(max(peak.Load(), n))
			mu.Unlock()
			atomic.AddInt32(&seen[i], 1)
			running.Add(-1)
		})
		for i, c := range seen {
			if c != 1 {
				t.Errorf("workers %d: index %d ran %d times", workers, i, c)
			}
		}
		if p := peak.Load(); p > int32(max(workers, 1)) {
			t.Errorf("workers %d: %d calls at once", workers, p)
		}
	}
}

func TestEachStopsHandingOutWhenDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	Each(ctx, 1_000_000, 2, func(i int) {
		if calls.Add(1) == 10 {
			cancel()
		}
	})
	if n := calls.Load(); n < 10 || n > 13 {
		t.Errorf("%d calls after a cancel at the 10th", n)
	}
	Each(ctx, 5, 2, func(int) { t.Error("called with ctx already done") })
}
