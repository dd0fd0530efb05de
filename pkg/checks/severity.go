package checks

import (
	"fmt"
	"strings"
)

// Severity ranks a finding. The zero value is Info; higher is worse.
type Severity int

// Severities, from the least to the most severe.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

// severityNames returns the names of the severities, in order.
func severityNames() []string { return []string{"info", "low", "medium", "high", "critical"} }

// Severities returns every severity, from Info to Critical.
func Severities() []Severity { return []Severity{Info, Low, Medium, High, Critical} }

// String returns the lowercase name: "info", "low", "medium", "high" or
// "critical".
func (s Severity) String() string {
	if names := severityNames(); s >= 0 && int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its name. Unknown values are an error.
func (s Severity) MarshalText() ([]byte, error) {
	names := severityNames()
	if s < 0 || int(s) >= len(names) {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(names[s]), nil
}

// UnmarshalText decodes a severity name (see [ParseSeverity]).
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses a severity name, ignoring case and surrounding space.
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	names := severityNames()
	for i, s := range names {
		if n == s {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(names, ", "))
}
