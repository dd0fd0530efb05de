package output_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

func diffReport() *report.Report {
	step := &report.LayerRef{Index: 4, DiffID: "sha256:l4", CreatedBy: "RUN apt-get install curl"}
	shell := report.Finding{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Title: "Shell available", Path: "/bin/sh"}
	curl := report.Finding{ID: "IA-NETWORK-TOOL", Category: "tool", Severity: report.Medium, Title: "Network tool available", Path: "/usr/bin/curl", Layer: step}
	wget := report.Finding{ID: "IA-NETWORK-TOOL", Category: "tool", Severity: report.Medium, Title: "Network tool available", Path: "/usr/bin/wget"}
	r := &report.Report{SchemaVersion: 1, Images: []report.Image{{
		Reference: "app:2", Findings: []report.Finding{shell, curl},
		Diff: &report.Diff{Baseline: "app:1", Added: []report.Finding{curl}, Removed: []report.Finding{wget}, Unchanged: 1,
			User: &report.Change{Old: "(unset) (root)", New: "1000"}},
	}}}
	policy.EvaluateGate(r, nil, policy.Gate{FailOn: policy.FailNever, FailOnNew: policy.FailOnMedium}, time.Time{})
	return r
}

// TestDiffTable: an image compared with a baseline leads with what it
// added and the step that added it.
func TestDiffTable(t *testing.T) {
	var buf bytes.Buffer
	if err := output.WriteTable(&buf, diffReport(), output.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Compared with app:1\n",
		"  Added (1):\n    MEDIUM   IA-NETWORK-TOOL adds /usr/bin/curl — layer 4, `RUN apt-get install curl`\n",
		"  Removed (1):\n    MEDIUM   IA-NETWORK-TOOL removes /usr/bin/wget\n",
		"  Unchanged: 1 finding\n  Changed: user (unset) (root) → 1000\n",
		"Verdict: FAIL — 1 new finding at or above medium (2 findings in all: 2 medium)",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %q in:\n%s", want, buf.String())
		}
	}
}

// TestDiffTableTotals: the closing line of several images compared with
// a baseline names the threshold that failed them, not "none" (the gate's
// FailOn when only new findings fail).
func TestDiffTableTotals(t *testing.T) {
	for _, c := range []struct {
		gate policy.Gate
		want string
	}{
		{policy.Gate{FailOn: policy.FailNever, FailOnNew: policy.FailOnMedium}, ", 2 failed at medium (new findings)"},
		{policy.Gate{FailOn: policy.FailOnHigh, FailOnNew: policy.FailOnMedium}, ", 2 failed at high (new findings: medium)"},
		{policy.Gate{FailOn: policy.FailOnMedium, FailOnNew: policy.FailNever}, ", 2 failed at medium"},
	} {
		r := diffReport()
		second := r.Images[0]
		second.Reference = "app:3"
		r.Images = append(r.Images, second)
		policy.EvaluateGate(r, nil, c.gate, time.Time{})
		var buf bytes.Buffer
		if err := output.WriteTable(&buf, r, output.Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "Total: 2 images, 4 findings"+c.want+"\n") || strings.Contains(buf.String(), "failed at none") {
			t.Errorf("%+v: want the totals line to end %q in:\n%s", c.gate, c.want, buf.String())
		}
	}
}

// TestDiffSARIF: results carry baselineState; removed findings are absent.
func TestDiffSARIF(t *testing.T) {
	var buf bytes.Buffer
	if err := output.WriteSARIF(&buf, diffReport(), output.Options{Rules: []output.Rule{{ID: "IA-SHELL"}, {ID: "IA-NETWORK-TOOL"}}}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				BaselineState string `json:"baselineState"`
				Properties    struct {
					Path string `json:"path"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range log.Runs[0].Results {
		got = append(got, r.BaselineState+" "+r.Properties.Path)
	}
	if d := cmp.Diff([]string{"new /usr/bin/curl", "unchanged /bin/sh", "absent /usr/bin/wget"}, got); d != "" {
		t.Errorf("baseline states (-want +got)\n%s", d)
	}
}

// TestDiffMarkdown: the pull-request comment leads with the additions.
func TestDiffMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := output.WriteMarkdown(&buf, diffReport(), output.Options{}); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"❌ **FAIL**: 1 of 1 image has findings at or above `medium` (new findings).",
		"Compared with `app:1`: **1 added**, 1 removed, 1 unchanged.\n\n#### Added\n\n| Severity | Check | Finding | Added by |\n|---|---|---|---|\n| medium | `IA-NETWORK-TOOL` |",
		"layer 4: `RUN apt-get install curl` |\n\n#### Removed\n",
		"Changed: user (unset) (root) → 1000.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
