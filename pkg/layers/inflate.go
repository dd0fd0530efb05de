package layers

import (
	"context"
	"hash"
	"io"
	"sync"
)

// Inflater inflates gzip layers outside Go's own inflater: a C program run
// as a child process (pkg/inflate), faster, at the price of parsing
// hostile bytes in C. Either way the blob digest and the diffID are
// computed here, in Go, over the bytes fed and read back, so an inflater
// that lies fails the layer as corrupt, and one that fails fails the layer;
// nothing falls back to another inflater mid-layer. zstd and plain tar
// layers are always read in Go.
type Inflater interface {
	// Name is what reports and errors call it ("igzip", "pigz").
	Name() string
	// Start begins inflating the gzip stream read from compressed.
	Start(ctx context.Context, compressed io.Reader) (Inflation, error)
}

// Inflation is one running inflation: Read returns the uncompressed
// bytes; Wait ends it (kill: it is no longer wanted, stop it now) and
// returns its failure, if any, once its output has been read or abandoned.
// Wait may be called more than once and returns the same error.
type Inflation interface {
	io.Reader
	Wait(kill bool) error
}

// Pipeline sizes: how many chunks of how many bytes the inflater may run
// ahead of the tar parser. 4 x 256 KiB per layer being read.
const (
	pipeChunks    = 4
	pipeChunkSize = 256 << 10
)

// pipeline runs the reads of r (the inflater, and the hash of the
// compressed bytes under it) on a goroutine of their own, a chunk at a
// time, so the consumer's work (SHA-256 of the tar stream, which it does
// here, and the tar parsing) runs on another core beside them. The chunks
// go back and forth between the two goroutines: no byte is copied more
// than a direct read would copy it, and memory stays at
// pipeChunks*pipeChunkSize.
type pipeline struct {
	full   chan *chunk
	free   chan *chunk
	done   chan struct{}
	exited chan struct{}
	stopMu sync.Once
	sum    hash.Hash
	cur    *chunk
	off    int
}

type chunk struct {
	b   []byte
	n   int
	err error
}

func newPipeline(r io.Reader, sum hash.Hash) *pipeline {
	p := &pipeline{
		full:   make(chan *chunk, pipeChunks),
		free:   make(chan *chunk, pipeChunks),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		sum:    sum,
	}
	for range pipeChunks {
		p.free <- &chunk{b: make([]byte, pipeChunkSize)}
	}
	go p.produce(r)
	return p
}

func (p *pipeline) produce(r io.Reader) {
	defer close(p.exited)
	for {
		var c *chunk
		select {
		case c = <-p.free:
		case <-p.done:
			return
		}
		n, err := fill(r, c.b)
		c.n, c.err = n, err
		select {
		case p.full <- c:
		case <-p.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// fill reads into b until it is full or r fails; r's error (io.EOF at the
// end) is returned as it is, unlike io.ReadFull's.
func fill(r io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty == 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// Read hands out the chunks' bytes in order, hashing each chunk as it
// arrives, and returns the producer's error after its last bytes.
func (p *pipeline) Read(b []byte) (int, error) {
	for p.cur == nil || p.off == p.cur.n {
		if p.cur != nil {
			if p.cur.err != nil {
				return 0, p.cur.err
			}
			p.free <- p.cur // never blocks: free holds every chunk
			p.cur = nil
		}
		c := <-p.full
		p.sum.Write(c.b[:c.n])
		p.cur, p.off = c, 0
	}
	n := copy(b, p.cur.b[p.off:p.cur.n])
	p.off += n
	return n, nil
}

// stop ends the producer and waits until it no longer reads r.
func (p *pipeline) stop() {
	p.stopMu.Do(func() { close(p.done) })
	<-p.exited
}
