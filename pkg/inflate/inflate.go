// Package inflate runs a C gzip inflater, Intel ISA-L's igzip or pigz, as a
// child process for pkg/layers ([layers.Inflater]): faster than Go's own
// inflater (klauspost/compress), at the price of parsing hostile bytes in
// C rather than in memory-safe code. pkg/layers still computes the blob
// digest and the diffID in Go over the bytes it feeds the child and reads
// back, so a child that lies fails the layer as corrupt.
//
// The program is found once, at start ([Find]), at an absolute path; it
// runs with an empty environment (pigz reads options from $PIGZ and $GZIP),
// in the root directory, and is killed when the context ends. Nothing from
// an image is ever run: only the program named by the user.
package inflate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// grace is how long a child may take to exit once its output has ended.
const grace = 10 * time.Second

// pipeSize is the size the child's pipes are grown to; feedChunk how much
// of the compressed stream is written to it at once.
const (
	pipeSize  = 1 << 20
	feedChunk = 256 << 10
)

// Names lists the names [Find] accepts.
func Names() []string { return []string{"go", "igzip", "pigz", "auto"} }

// Child is a decompressor program: Name is "igzip" or "pigz", Path its
// absolute path. It implements [layers.Inflater].
type Child struct {
	name string
	path string
}

// New returns the child inflater at the absolute path p, run as name
// ("igzip" or "pigz": both take -d -c and read standard input).
func New(name, p string) (*Child, error) {
	if name != "igzip" && name != "pigz" {
		return nil, fmt.Errorf("decompressor %q: want igzip or pigz", name)
	}
	if !filepath.IsAbs(p) {
		return nil, fmt.Errorf("decompressor %s: %q is not an absolute path", name, p)
	}
	return &Child{name: name, path: filepath.Clean(p)}, nil
}

// Find resolves a decompressor name once, at start: "go" (or "") to nil,
// which is Go's own inflater; "igzip" and "pigz" through lookPath
// (exec.LookPath when nil); an absolute path whose base name is igzip or
// pigz as it is; and "auto" to igzip, else pigz, else nil. A program must
// resolve to an absolute path: a relative one (a PATH holding ".") is
// refused.
func Find(name string, lookPath func(string) (string, error)) (layers.Inflater, error) {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	switch name {
	case "", "go":
		return nil, nil
	case "auto":
		for _, n := range []string{"igzip", "pigz"} {
			if c, err := Find(n, lookPath); err == nil {
				return c, nil
			}
		}
		return nil, nil
	case "igzip", "pigz":
		p, err := lookPath(name)
		if err != nil {
			return nil, fmt.Errorf("decompressor %s: %w", name, err)
		}
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("decompressor %s: found at %q, not an absolute path", name, p)
		}
		return New(name, p)
	}
	if base := filepath.Base(name); filepath.IsAbs(name) && (base == "igzip" || base == "pigz") {
		return New(base, name)
	}
	return nil, fmt.Errorf("decompressor %q: want one of %s, or an absolute path to igzip or pigz", name, strings.Join(Names(), ", "))
}

// Name is "igzip" or "pigz".
func (c *Child) Name() string { return c.name }

// Path is the program's absolute path.
func (c *Child) Path() string { return c.path }

// Start runs the program over compressed: it reads the gzip stream on its
// standard input and writes the tar stream on its standard output. Both
// are pipes made here, grown to pipeSize where the kernel allows it, and
// fed and read in large chunks: with the 64 KiB default and exec's 32 KiB
// copies, the pipes, not the inflater, set the pace.
func (c *Child) Start(ctx context.Context, compressed io.Reader) (layers.Inflation, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	growPipe(inW)
	growPipe(outW)
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, c.path, "-d", "-c")
	cmd.Env = []string{}
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout = inR, outW
	stderr := &head{max: 512}
	cmd.Stderr = stderr
	err = cmd.Start()
	// The child holds its own ends now (or never will).
	inR.Close()
	outW.Close()
	if err != nil {
		cancel()
		inW.Close()
		outR.Close()
		return nil, err
	}
	r := &run{cmd: cmd, out: outR, stderr: stderr, cancel: cancel, fed: make(chan struct{})}
	go r.feed(inW, compressed)
	return r, nil
}

// feed copies the compressed stream to the child's standard input, then
// closes it. A child that stops reading (it exited, or was killed) ends
// the copy with EPIPE, which is not the blob's failure: what the child
// returned is judged by its exit and by the digests.
func (r *run) feed(w *os.File, compressed io.Reader) {
	defer close(r.fed)
	buf := make([]byte, feedChunk)
	for {
		n, err := compressed.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	w.Close()
}

// run is one child process at work.
type run struct {
	cmd    *exec.Cmd
	out    *os.File
	fed    chan struct{} // closed when feed has returned
	stderr *head
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

func (r *run) Read(p []byte) (int, error) { return r.out.Read(p) }

// Wait ends the child (killing it if kill, or if it lingers past grace
// after its output ended) and returns its failure: a non-zero exit, a
// signal, or anything it wrote on its standard error, which a
// well-behaved inflater only does on bad input (pigz: "trailing junk
// ignored", which Go's inflater refuses too).
func (r *run) Wait(kill bool) error {
	r.once.Do(func() {
		if kill {
			r.cancel()
		} else {
			t := time.AfterFunc(grace, r.cancel)
			defer t.Stop()
		}
		err := r.cmd.Wait()
		r.cancel()
		r.out.Close()
		// The child has exited, so feed's writes fail and it returns: after
		// this, nothing reads the compressed stream any more.
		<-r.fed
		msg := strings.TrimSpace(string(bytes.ToValidUTF8(r.stderr.bytes(), []byte("?"))))
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		switch {
		case err != nil && msg != "":
			r.err = fmt.Errorf("failed: %w: %s", err, msg)
		case err != nil:
			r.err = fmt.Errorf("failed: %w", err)
		case msg != "":
			r.err = fmt.Errorf("%s", msg)
		}
	})
	return r.err
}

// head keeps the first max bytes written to it.
type head struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (h *head) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (h *head) bytes() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.buf.Bytes())
}
