package output_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestJSONLStream: images emitted concurrently each get one whole line,
// with the verdict prepare wrote, and the summary comes last.
func TestJSONLStream(t *testing.T) {
	r := fixture()
	var buf bytes.Buffer
	s := output.NewJSONLStream(&buf, func(one *report.Report) { policy.Evaluate(one, nil, policy.FailOnCritical, time.Time{}) })
	var wg sync.WaitGroup
	for _, img := range r.Images {
		img.Gate = nil
		wg.Add(1)
		go func() { defer wg.Done(); s.Emit(img) }()
	}
	wg.Wait()
	if err := s.Close(r); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	var lines []map[string]json.RawMessage
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", len(lines)+1, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != len(r.Images)+1 {
		t.Fatalf("%d lines, want %d", len(lines), len(r.Images)+1)
	}
	verdicts := map[report.Verdict]int{}
	for _, m := range lines[:len(r.Images)] {
		var img report.Image
		if err := json.Unmarshal(m["image"], &img); err != nil || img.Gate == nil {
			t.Fatalf("image line %s: %v", m["image"], err)
		}
		verdicts[img.Gate.Verdict]++
	}
	if verdicts[report.Fail] != 1 || verdicts[report.Pass] != 1 || verdicts[report.Incomplete] != 1 {
		t.Errorf("verdicts %v", verdicts)
	}
	if _, ok := lines[len(r.Images)]["summary"]; !ok {
		t.Error("the last line is not the summary")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n++; w.n > 1 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestJSONLStreamError: the first write error comes back from Close, and
// nothing is written after it.
func TestJSONLStreamError(t *testing.T) {
	r := fixture()
	w := &failWriter{}
	s := output.NewJSONLStream(w, nil)
	for _, img := range r.Images {
		s.Emit(img)
	}
	if err := s.Close(r); err == nil || w.n != 2 {
		t.Errorf("Close = %v after %d writes, want the error of the second", err, w.n)
	}
}
