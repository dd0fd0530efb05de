package output

import (
	"io"
	"sync"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// JSONLStream writes the jsonl format while an audit goes: one line per
// image as soon as it is done ([JSONLStream.Emit]), then the workload lines
// of a workload run and the summary line ([JSONLStream.Close]).
type JSONLStream struct {
	w       io.Writer
	prepare func(*report.Report)

	mu  sync.Mutex
	err error
}

// NewJSONLStream returns a stream writing to w. prepare, when set, is
// given each image in a report of its own before its line is written: the
// caller's chance to apply a policy and write the image's verdict.
func NewJSONLStream(w io.Writer, prepare func(*report.Report)) *JSONLStream {
	return &JSONLStream{w: w, prepare: prepare}
}

// Shard writes the first line of a shard's report; call it before Emit.
func (s *JSONLStream) Shard(sh *report.Shard) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = WriteJSONLShard(s.w, sh)
	}
}

// Emit writes the line of one image. It is safe for concurrent use; the
// first write error is kept for Close.
func (s *JSONLStream) Emit(img report.Image) {
	one := &report.Report{Images: []report.Image{img}}
	if s.prepare != nil {
		s.prepare(one)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = WriteJSONLImage(s.w, one.Images[0])
}

// Close writes the workload lines of r (a workload run: each workload is
// decided once every image is audited) and its summary line, or returns
// the first error of Emit.
func (s *JSONLStream) Close(r *report.Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	for i := range r.Workloads {
		if err := WriteJSONLWorkload(s.w, r.Workloads[i]); err != nil {
			return err
		}
	}
	return WriteJSONLSummary(s.w, r)
}
