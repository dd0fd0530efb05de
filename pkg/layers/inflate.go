package layers

import (
	"bytes"
	"context"
	"fmt"
	"hash"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// childGrace is how long a decompressor child may take to exit once its
// output has ended.
const childGrace = 10 * time.Second

// Decompressor names the program that inflates gzip layers. The zero value
// is Go's own inflater (klauspost/compress): memory-safe code parsing
// hostile bytes, the default. The others run a C inflater as a child
// process fed the compressed stream: faster, at the price of parsing hostile
// bytes in C. Either way the blob digest and the diffID are computed in Go
// over the bytes fed and read back, so a child that lies fails the layer as
// corrupt, and a child that fails fails the layer; nothing falls back to
// another inflater mid-layer. zstd and plain tar layers are always read in
// Go.
type Decompressor struct {
	// Name is "go" (or empty), "igzip" (Intel ISA-L, Debian package isal)
	// or "pigz".
	Name string
	// Path is the absolute path of the child program; empty for "go".
	Path string
}

// DecompressorNames lists the names [FindDecompressor] accepts.
func DecompressorNames() []string { return []string{"go", "igzip", "pigz", "auto"} }

// FindDecompressor resolves a decompressor name once, at start: "go" (or
// ""), "igzip" and "pigz" by name through lookPath (exec.LookPath, or a
// stand-in in tests), an absolute path whose base name is igzip or pigz as
// it is, and "auto" to igzip, else pigz, else go. A child program must
// resolve to an absolute path: a relative one (a PATH holding ".") is
// refused.
func FindDecompressor(name string, lookPath func(string) (string, error)) (Decompressor, error) {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	switch name {
	case "", "go":
		return Decompressor{Name: "go"}, nil
	case "auto":
		for _, n := range []string{"igzip", "pigz"} {
			if d, err := FindDecompressor(n, lookPath); err == nil {
				return d, nil
			}
		}
		return Decompressor{Name: "go"}, nil
	case "igzip", "pigz":
		p, err := lookPath(name)
		if err != nil {
			return Decompressor{}, fmt.Errorf("decompressor %s: %w", name, err)
		}
		if !filepath.IsAbs(p) {
			return Decompressor{}, fmt.Errorf("decompressor %s: found at %q, not an absolute path", name, p)
		}
		return Decompressor{Name: name, Path: p}, nil
	}
	if filepath.IsAbs(name) {
		base := filepath.Base(name)
		if base == "igzip" || base == "pigz" {
			return Decompressor{Name: base, Path: filepath.Clean(name)}, nil
		}
	}
	return Decompressor{}, fmt.Errorf("decompressor %q: want one of %s, or an absolute path to igzip or pigz", name, strings.Join(DecompressorNames(), ", "))
}

// child reports whether d runs a child process.
func (d Decompressor) child() bool { return d.Path != "" }

// String is the name as a report or an error shows it.
func (d Decompressor) String() string {
	if d.Name == "" {
		return "go"
	}
	return d.Name
}

// childInflater runs a decompressor program over a gzip stream: the
// program reads the compressed bytes on its standard input and writes the
// tar stream on its standard output.
type childInflater struct {
	d      Decompressor
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *headWriter
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

// startChild starts d over in. The child gets an empty environment (pigz
// reads options from $PIGZ and $GZIP) and the root directory as its
// working directory; it is killed when ctx ends or [childInflater.wait]
// is called before it finished.
func startChild(ctx context.Context, d Decompressor, in io.Reader) (*childInflater, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, d.Path, "-d", "-c")
	cmd.Env = []string{}
	cmd.Dir = "/"
	cmd.Stdin = in
	stderr := &headWriter{max: 512}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("decompressor %s: %w", d, err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("decompressor %s: %w", d, err)
	}
	return &childInflater{d: d, cmd: cmd, out: out, stderr: stderr, cancel: cancel}, nil
}

func (c *childInflater) Read(p []byte) (int, error) { return c.out.Read(p) }

// wait ends the child (killing it if it still runs: its output is no
// longer wanted) and returns its failure: a non-zero exit, a signal, or
// anything it wrote on its standard error, which a well-behaved inflater
// only does on bad input.
func (c *childInflater) wait(kill bool) error {
	c.once.Do(func() {
		if kill {
			c.cancel()
		} else {
			// It has closed its output or should be about to: a child
			// that lingers is killed after a grace period.
			t := time.AfterFunc(childGrace, c.cancel)
			defer t.Stop()
		}
		err := c.cmd.Wait()
		c.cancel()
		msg := strings.TrimSpace(string(bytes.ToValidUTF8(c.stderr.buf.Bytes(), []byte("?"))))
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		switch {
		case err != nil && msg != "":
			c.err = fmt.Errorf("%w: decompressor %s failed: %w: %s", ErrCorrupt, c.d, err, msg)
		case err != nil:
			c.err = fmt.Errorf("%w: decompressor %s failed: %w", ErrCorrupt, c.d, err)
		case msg != "":
			c.err = fmt.Errorf("%w: decompressor %s: %s", ErrCorrupt, c.d, msg)
		}
	})
	return c.err
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
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
