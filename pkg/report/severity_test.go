package report_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/imgaudit/imgaudit/pkg/report"
)

func TestSeverityText(t *testing.T) {
	for i, s := range report.Severities() {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != s.String() || string(b) != report.SeverityNames()[i] {
			t.Errorf("MarshalText %q, String %q, name %q", b, s, report.SeverityNames()[i])
		}
		var back report.Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("round trip of %v: %v, %v", s, back, err)
		}
	}
	if s, err := report.ParseSeverity(" HIGH "); err != nil || s != report.High {
		t.Errorf("ParseSeverity(HIGH) = %v, %v", s, err)
	}
	if _, err := report.ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity(severe): no error")
	}
	for _, bad := range []report.Severity{-1, 5, 9} {
		if _, err := bad.MarshalText(); err == nil || bad.Valid() {
			t.Errorf("%d: MarshalText gave no error, or it is valid", int(bad))
		}
	}
	if report.Severity(9).String() != "severity(9)" {
		t.Errorf("String(9) = %q", report.Severity(9).String())
	}
	if !slices.IsSorted(report.Severities()) || report.Severities()[0] != report.Info || report.Info != 0 {
		t.Error("severities are not ordered from the zero value Info")
	}
}

// TestSeverityJSON: findings and the summary's map keyed by severity are
// written with the lowercase names, as when severity was a string, and read
// back; an unknown name is an error.
func TestSeverityJSON(t *testing.T) {
	r := report.Report{Images: []report.Image{{Findings: []report.Finding{
		{ID: "A", Category: "c", Severity: report.Critical},
		{ID: "B", Category: "c", Severity: report.Low},
		{ID: "C", Category: "c", Severity: report.Low},
	}}}}
	r.Summarize()
	b, err := json.Marshal(r.Summary.BySeverity)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"critical":1,"low":2}` {
		t.Errorf("bySeverity = %s", b)
	}
	var back map[report.Severity]int
	if err := json.Unmarshal(b, &back); err != nil || back[report.Critical] != 1 || back[report.Low] != 2 {
		t.Errorf("bySeverity read back as %v, %v", back, err)
	}
	b, _ = json.Marshal(r.Images[0].Findings[0])
	var f report.Finding
	if err := json.Unmarshal(b, &f); err != nil || f.Severity != report.Critical {
		t.Errorf("finding %s read back as %v, %v", b, f.Severity, err)
	}
	if err := json.Unmarshal([]byte(`{"severity":"bogus"}`), &f); err == nil {
		t.Error("unmarshal of a bogus severity: no error")
	}
}
