package output

import (
	"testing"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// The header's user line agrees with the user findings: a name that
// /etc/passwd resolves shows its uid and why it still is a finding.
func TestUserLine(t *testing.T) {
	uid := func(n int) *int { return &n }
	for _, tc := range []struct {
		u    report.User
		want string
	}{
		{report.User{Configured: "app", UID: uid(1000)}, "app — uid 1000, a name: runAsNonRoot cannot verify it"},
		{report.User{Configured: "ghost"}, "ghost — not verifiable as non-root"},
		{report.User{Configured: "10001", UID: uid(10001), Verifiable: true}, "10001 — uid 10001"},
		{report.User{UID: uid(0), Root: true, Verifiable: true}, "(unset) — root"},
	} {
		if got := userLine(tc.u); got != tc.want {
			t.Errorf("userLine(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}
