package checks

import "github.com/imgaudit/imgaudit/pkg/report"

// Severity ranks a finding. It is report.Severity, the one severity type of
// imgaudit: the zero value is Info; higher is worse.
type Severity = report.Severity

// Severities, from the least to the most severe.
const (
	Info     = report.Info
	Low      = report.Low
	Medium   = report.Medium
	High     = report.High
	Critical = report.Critical
)

// Severities returns every severity, from Info to Critical.
func Severities() []Severity { return report.Severities() }

// ParseSeverity parses a severity name, ignoring case and surrounding space.
func ParseSeverity(name string) (Severity, error) { return report.ParseSeverity(name) }
