package workload

import "fmt"

// Severity of a finding. pkg/report has no shared Severity type yet; this one
// uses the same names as pkg/checks ("info" … "critical") so the two convert
// by name when the report integration lands.
type Severity int

// Severities, from the least to the most severe.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the name; unknown values are an error.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Info || s > Critical {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// Category groups workload findings (the names issue 15's JSON contract
// fixes).
type Category string

// Categories.
const (
	StartFailure        Category = "start-failure"
	EffectiveRoot       Category = "effective-root"
	PrivilegeEscalation Category = "privilege-escalation"
	Capabilities        Category = "capabilities"
	Seccomp             Category = "seccomp"
	AppArmor            Category = "apparmor"
	HostAccess          Category = "host-access"
	ReadOnlyRoot        Category = "read-only-root"
	ServiceAccountToken Category = "service-account-token"
	MutableReference    Category = "mutable-reference"
)
