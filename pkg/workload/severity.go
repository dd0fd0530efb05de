package workload

import "github.com/imgaudit/imgaudit/pkg/report"

// Severity ranks a finding: report.Severity, the one severity type of
// imgaudit.
type Severity = report.Severity

// Severities, from the least to the most severe.
const (
	Info     = report.Info
	Low      = report.Low
	Medium   = report.Medium
	High     = report.High
	Critical = report.Critical
)

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
