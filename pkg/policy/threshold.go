package policy

import (
	"fmt"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// Threshold is the severity at or above which findings fail the gate.
// [FailNever] ("none") never fails.
type Threshold int

// Thresholds, from the lowest to "never": each severity's threshold has
// the severity's value, so a finding fails a threshold when its severity is
// at or above it.
const (
	FailOnInfo     = Threshold(report.Info)
	FailOnLow      = Threshold(report.Low)
	FailOnMedium   = Threshold(report.Medium)
	FailOnHigh     = Threshold(report.High)
	FailOnCritical = Threshold(report.Critical)
	FailNever      = FailOnCritical + 1
)

// DefaultThreshold is the gate when neither the command line nor a policy
// file sets one.
const DefaultThreshold = FailOnHigh

// thresholdNames are the names of FailOnInfo to FailNever.
func thresholdNames() []string { return append(report.SeverityNames(), "none") }

// ThresholdNames lists the accepted threshold names, lowest first.
func ThresholdNames() []string { return thresholdNames() }

// ParseThreshold parses a threshold name (a severity or "none"), ignoring
// case and surrounding space.
func ParseThreshold(s string) (Threshold, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	for i, name := range thresholdNames() {
		if n == name {
			return Threshold(i), nil
		}
	}
	return 0, fmt.Errorf("unknown threshold %q (want one of %s)", s, strings.Join(thresholdNames(), ", "))
}

// String returns the threshold's name.
func (t Threshold) String() string {
	if t >= 0 && t <= FailNever {
		return thresholdNames()[t]
	}
	return fmt.Sprintf("threshold(%d)", int(t))
}

// MarshalText encodes the threshold as its name.
func (t Threshold) MarshalText() ([]byte, error) {
	if t < 0 || t > FailNever {
		return nil, fmt.Errorf("invalid threshold %d", int(t))
	}
	return []byte(thresholdNames()[t]), nil
}

// UnmarshalText decodes a threshold name (see [ParseThreshold]).
func (t *Threshold) UnmarshalText(b []byte) error {
	v, err := ParseThreshold(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Fails reports whether a finding of the given severity reaches t. A
// severity above [report.Critical] (not one of report.Severities) fails
// every threshold but "none", so that it fails a gate rather than slipping
// through it.
func (t Threshold) Fails(severity report.Severity) bool {
	return t < FailNever && severity >= report.Severity(t)
}

// Failing returns the unsuppressed findings of r at or above t, image by
// image in report order. It decides nothing: [Evaluate] writes the
// verdicts.
func Failing(r *report.Report, t Threshold) []report.Finding {
	var out []report.Finding
	for _, img := range r.Images {
		out = append(out, failingIn(img.Findings, t)...)
	}
	return out
}

func failingIn(fs []report.Finding, t Threshold) []report.Finding {
	var out []report.Finding
	for _, f := range fs {
		if f.Suppressed == nil && t.Fails(f.Severity) {
			out = append(out, f)
		}
	}
	return out
}
