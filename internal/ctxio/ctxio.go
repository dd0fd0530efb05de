// Package ctxio makes long reads stop when their context is done, for
// readers (a file, a decompressor, a network body) that do not watch one.
package ctxio

import (
	"context"
	"io"
)

// Reader returns a reader of r that fails with ctx's error, before reading,
// once ctx is done.
func Reader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
