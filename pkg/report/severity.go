package report

import (
	"fmt"
	"strings"
)

// Severity ranks a finding: an ordered type whose zero value is [Info] and
// where higher is worse. It is written as its lowercase name in JSON (and
// in any text encoding), and read back from it; a name it does not know is
// an error. Every comparison of severities in imgaudit compares values of
// this type, never their names.
type Severity int

// Severities, from the least to the most severe.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

// severityNames are the names of Info to Critical, by value.
func severityNames() [Critical + 1]string {
	return [...]string{"info", "low", "medium", "high", "critical"}
}

// Severities returns every severity, from [Info] to [Critical].
func Severities() []Severity { return []Severity{Info, Low, Medium, High, Critical} }

// SeverityNames returns the names of [Severities], in the same order.
func SeverityNames() []string {
	names := severityNames()
	return names[:]
}

// Valid reports whether s is one of [Severities].
func (s Severity) Valid() bool { return s >= Info && s <= Critical }

// String returns the lowercase name: "info", "low", "medium", "high" or
// "critical".
func (s Severity) String() string {
	if s.Valid() {
		return severityNames()[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its name. Unknown values are an error.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(severityNames()[s]), nil
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
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(names[:], ", "))
}
