package workload

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// BenchmarkPerWorkload decodes 500 Deployments (the kustomize fixture
// renamed) and runs Effective, PSS and CrossCheck on each: the per-workload
// overhead beside the image audits (issue 15's target: < 2 ms).
func BenchmarkPerWorkload(b *testing.B) {
	doc, err := os.ReadFile("testdata/kustomize.out.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var in strings.Builder
	for i := range 500 {
		in.WriteString(strings.ReplaceAll(string(doc), "name: web\n  namespace", fmt.Sprintf("name: web%d\n  namespace", i)))
		in.WriteString("\n---\n")
	}
	ps, err := NewPodSecurity()
	if err != nil {
		b.Fatal(err)
	}
	img := ImageFacts{Reference: "nginx:1.27", User: "101", SetuidFiles: []string{"/usr/bin/su"}}
	b.ResetTimer()
	for b.Loop() {
		s, err := Decode(context.Background(), "bench.yaml", strings.NewReader(in.String()))
		if err != nil || len(s.Workloads) != 500 {
			b.Fatalf("%v, %d workloads", err, len(s.Workloads))
		}
		for _, w := range s.Workloads {
			ps.Workload(w)
			for i := range w.Containers {
				ps.Container(w, i)
				CrossCheck(w.Effective(i), img)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*500), "µs/workload")
}
