package layers

import (
	"context"
	"sync"
)

// Flight makes concurrent scans that need the same layer index share one
// read of the layer: the first caller reads it, the others wait for its
// result. Use one Flight for all the images of an audit; it keeps nothing
// once a read is done (the Cache does that).
type Flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	idx  *LayerIndex
	err  error
}

// NewFlight returns an empty Flight.
func NewFlight() *Flight { return &Flight{calls: map[string]*flightCall{}} }

// do runs fn once per key among concurrent callers. shared tells a caller
// that it received another caller's result.
func (f *Flight) do(ctx context.Context, key string, fn func() (*LayerIndex, error)) (idx *LayerIndex, shared bool, err error) {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			if c.err != nil {
				// The leader failed (perhaps its own context ended): try again
				// rather than inherit an error that may not be ours.
				return f.do(ctx, key, fn)
			}
			return c.idx, true, nil
		case <-ctx.Done():
			return nil, false, context.Cause(ctx)
		}
	}
	c := &flightCall{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()

	c.idx, c.err = fn()
	f.mu.Lock()
	delete(f.calls, key)
	f.mu.Unlock()
	close(c.done)
	return c.idx, false, c.err
}
