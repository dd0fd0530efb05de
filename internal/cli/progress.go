package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/output"
)

// progress shows, on one rewritten line of a terminal, how far the audit
// is: per image, layers done out of all and compressed bytes read. It is
// only ever given a terminal (the caller checks), and is safe for the
// concurrent calls audit makes.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	images  map[string]*imageProgress
	order   []string
	printed bool
}

type imageProgress struct {
	layers, total int
	bytes         int64
	cached        int
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, images: map[string]*imageProgress{}}
}

// event records an audit event and redraws the line.
func (p *progress) event(e audit.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.images[e.Reference]
	if st == nil {
		st = &imageProgress{}
		p.images[e.Reference] = st
		p.order = append(p.order, e.Reference)
	}
	if e.Done {
		delete(p.images, e.Reference)
		for i, r := range p.order {
			if r == e.Reference {
				p.order = append(p.order[:i], p.order[i+1:]...)
				break
			}
		}
	} else if e.Layer >= 0 {
		st.layers++
		st.total = e.Layers
		st.bytes += e.Bytes
		if e.Cached {
			st.cached++
		}
	}
	p.draw()
}

func (p *progress) draw() {
	line := ""
	if len(p.order) > 0 {
		ref := p.order[len(p.order)-1]
		st := p.images[ref]
		line = fmt.Sprintf("scanning %s: %d/%d layers, %s", clipLeft(output.Escape(ref), 48), st.layers, st.total, output.HumanBytes(st.bytes))
		if st.cached > 0 {
			line += fmt.Sprintf(" (%d cached)", st.cached)
		}
		if n := len(p.order) - 1; n > 0 {
			line += fmt.Sprintf(" +%d more", n)
		}
	}
	// Carriage return, the line, and clear to its end.
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.printed = true
}

// finish clears the progress line. A nil progress does nothing.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func clipLeft(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
