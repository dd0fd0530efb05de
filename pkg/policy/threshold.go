package policy

import (
	"fmt"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// Threshold is the severity at or above which findings fail the gate.
// [FailNever] ("none") never fails.
type Threshold int

// Thresholds, from the lowest to "never".
const (
	FailOnInfo Threshold = iota
	FailOnLow
	FailOnMedium
	FailOnHigh
	FailOnCritical
	FailNever
)

// DefaultThreshold is the gate when neither the command line nor a policy
// file sets one.
const DefaultThreshold = FailOnHigh

var thresholdNames = [...]string{"info", "low", "medium", "high", "critical", "none"}

// ThresholdNames lists the accepted threshold names, lowest first.
func ThresholdNames() []string { return append([]string(nil), thresholdNames[:]...) }

// ParseThreshold parses a threshold name (a severity or "none"), ignoring
// case and surrounding space.
func ParseThreshold(s string) (Threshold, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	for i, name := range thresholdNames {
		if n == name {
			return Threshold(i), nil
		}
	}
	return 0, fmt.Errorf("unknown threshold %q (want one of %s)", s, strings.Join(thresholdNames[:], ", "))
}

// String returns the threshold's name.
func (t Threshold) String() string {
	if t >= 0 && int(t) < len(thresholdNames) {
		return thresholdNames[t]
	}
	return fmt.Sprintf("threshold(%d)", int(t))
}

// MarshalText encodes the threshold as its name.
func (t Threshold) MarshalText() ([]byte, error) {
	if t < 0 || int(t) >= len(thresholdNames) {
		return nil, fmt.Errorf("invalid threshold %d", int(t))
	}
	return []byte(thresholdNames[t]), nil
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

// SeverityRank ranks a report severity name: info 0, low 1, medium 2, high
// 3, critical 4. A name it does not know ranks 5, above critical, so that an
// unexpected severity fails a gate rather than slipping through it.
func SeverityRank(severity string) int {
	n := strings.ToLower(severity)
	for i, name := range thresholdNames[:FailNever] {
		if n == name {
			return i
		}
	}
	return int(FailNever)
}

// Fails reports whether a finding of the given severity reaches t.
func (t Threshold) Fails(severity string) bool {
	if t >= FailNever {
		return false
	}
	return SeverityRank(severity) >= int(t)
}

// Gate reports whether r fails at threshold t: whether any image has an
// unsuppressed finding at or above t. Images that could not be scanned
// completely are the caller's to fail (imgaudit exits 2 for them); Gate
// looks at findings only.
func Gate(r *report.Report, t Threshold) (failed bool) {
	return len(Failing(r, t)) > 0
}

// Failing returns the unsuppressed findings of r at or above t, image by
// image in report order.
func Failing(r *report.Report, t Threshold) []report.Finding {
	var out []report.Finding
	for _, img := range r.Images {
		for _, f := range img.Findings {
			if f.Suppressed == nil && t.Fails(f.Severity) {
				out = append(out, f)
			}
		}
	}
	return out
}
