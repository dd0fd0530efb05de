// Package parallel runs indexed work on a bounded number of goroutines.
package parallel

import (
	"context"
	"sync"
)

// Each calls fn(i) for i in [0, n) on at most workers goroutines (at least
// one) and returns when every call has returned. Once ctx is done no further
// index is handed out; calls already handed one still run, so fn checks ctx
// itself when its work is long. A hostile input asking for a million items
// costs workers goroutines, not a million.
func Each(ctx context.Context, n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(workers, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
feed:
	for i := range n {
		if ctx.Err() != nil {
			break // select alone may still pick a ready worker
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
}
