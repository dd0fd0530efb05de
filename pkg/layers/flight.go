package layers

import (
	"context"
	"sync"
)

// Flight makes concurrent scans that need the same layer index share one
// read of the layer: the first caller reads it, the others wait for its
// result. Use one Flight for all the images of an audit; it keeps nothing
// once a read is done (the Cache does that).
//
// A Flight made by NewReadFlight also bounds how many layers its scans read
// at once, all images together. Images of a fleet share their base layers:
// splitting the CPUs among the images instead (a layer or two each) left
// the one reading the shared base reading it a layer at a time while the
// others waited for it, on one core.
type Flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
	// reads holds a token per layer being read, when reads are bounded.
	reads chan struct{}
}

type flightCall struct {
	done chan struct{}
	idx  *LayerIndex
	err  error
}

// NewFlight returns an empty Flight.
func NewFlight() *Flight { return &Flight{calls: map[string]*flightCall{}} }

// NewReadFlight returns an empty Flight whose scans read at most n layers
// at once among them (n < 1: one). Waiting for a layer another scan reads,
// and decoding a cached index, take no part of that bound.
func NewReadFlight(n int) *Flight {
	f := NewFlight()
	f.reads = make(chan struct{}, max(n, 1))
	return f
}

// ReadBound is how many layers the scans sharing f read at once, all
// together; 0 when f does not bound them.
func (f *Flight) ReadBound() int {
	if f == nil {
		return 0
	}
	return cap(f.reads)
}

// startRead waits for a turn to read a layer, when reads are bounded, and
// returns the function that ends it.
func (f *Flight) startRead(ctx context.Context) (func(), error) {
	if f == nil || f.reads == nil {
		return func() {}, nil
	}
	select {
	case f.reads <- struct{}{}:
		return func() { <-f.reads }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

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
