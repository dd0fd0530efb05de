package checks

import (
	"slices"
	"testing"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// The profiles name real checks, each contains the one before it, and
// baseline holds every check whose own severity is high or critical, so
// that the default gate (baseline) fails whatever --fail-on high failed.
func TestProfiles(t *testing.T) {
	metas := Metas(All())
	ids := map[string]Meta{}
	for _, m := range metas {
		ids[m.ID] = m
	}
	ps := Profiles()
	if len(ps) != 2 || ps[0].Name != ProfileBaseline || ps[1].Name != ProfileHardened {
		t.Fatalf("profiles %v", ProfileNames())
	}
	for i, p := range ps {
		for _, id := range p.Checks {
			if _, ok := ids[id]; !ok {
				t.Errorf("profile %s names %s, which is not a check", p.Name, id)
			}
		}
		if i > 0 {
			for _, id := range ps[i-1].Checks {
				if !slices.Contains(p.Checks, id) {
					t.Errorf("profile %s lacks %s of %s", p.Name, id, ps[i-1].Name)
				}
			}
		}
	}
	for _, m := range metas {
		if m.Severity >= report.High && !slices.Contains(ps[0].Checks, m.ID) {
			t.Errorf("%s is %s but not in baseline", m.ID, m.Severity)
		}
		if want := profilesOf(m.ID); !slices.Equal(m.Profiles, want) {
			t.Errorf("Metas: %s profiles %v, want %v", m.ID, m.Profiles, want)
		}
	}
	// The checks no profile gates on: what is hygiene, not attack surface.
	for _, id := range []string{"IA-HEALTHCHECK", "IA-PACKAGE-RECORD", "IA-LAYER-ANOMALY", "IA-BUILD-TOOL"} {
		if got := profilesOf(id); len(got) != 0 {
			t.Errorf("%s is in %v", id, got)
		}
	}
	if _, ok := ProfileByName("strict"); ok {
		t.Error("ProfileByName found an unknown profile")
	}
}
