package cli

import (
	"testing"

	"github.com/imgaudit/imgaudit/pkg/report"
)

func TestFailingNames(t *testing.T) {
	img := func(ref string, v report.Verdict) report.Image {
		return report.Image{Reference: ref, Gate: &report.ImageGate{Verdict: v}}
	}
	rep := &report.Report{Images: []report.Image{
		img("a:1", report.Fail), img("b:1", report.Pass), img("c:1", report.Fail), {Reference: "no-gate:1"},
	}}
	if got, want := failingNames(rep, report.Fail), " in a:1, c:1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := failingNames(rep, report.Incomplete); got != "" {
		t.Errorf("no incomplete image: got %q", got)
	}
	for _, ref := range []string{"d:1", "e:1", "f:1"} {
		rep.Images = append(rep.Images, img(ref, report.Fail))
	}
	if got, want := failingNames(rep, report.Fail), " in a:1, c:1, d:1 and 2 more"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	wl := &report.Report{Images: rep.Images, Workloads: []report.Workload{
		{Kind: "Deployment", Namespace: "shop", Name: "api", Gate: &report.ImageGate{Verdict: report.Fail}},
		{Kind: "Pod", Name: "debug", Gate: &report.ImageGate{Verdict: report.Fail}},
		{Kind: "Job", Name: "ok", Gate: &report.ImageGate{Verdict: report.Pass}},
	}}
	if got, want := failingNames(wl, report.Fail), " in Deployment shop/api, Pod debug"; got != want {
		t.Errorf("workloads: got %q, want %q", got, want)
	}
}
