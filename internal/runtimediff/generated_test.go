package runtimediff_test

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"testing"

	rd "github.com/imgaudit/imgaudit/internal/runtimediff"
)

var (
	stacksFlag = flag.Int("runtimediff.stacks", 0, "generated stacks to run (default 200 in -short mode, 1000 otherwise)")
	firstFlag  = flag.Int("runtimediff.first", 0, "seed of the first generated stack")
	strictFlag = flag.Bool("runtimediff.strict", false, "also fail on paths the audit ships and no runtime does")
	surveyFlag = flag.Int("runtimediff.survey", 0, "TestSurvey: run this many generated stacks and print one minimal reproducer per kind of divergence")
	skipFlag   = flag.String("runtimediff.skip", "", "TestSurvey: leave out stacks with these comma-separated features (backslash, trusted) to see the causes they hide")
)

// skipped reports whether the survey leaves s out (see -runtimediff.skip).
func skipped(s rd.Stack) bool {
	for _, l := range s {
		for _, e := range l {
			if e.Kind == rd.KindBackslash && strings.Contains(*skipFlag, "backslash") {
				return true
			}
			for _, x := range e.Xattrs {
				if strings.HasPrefix(x[0], "trusted.") && strings.Contains(*skipFlag, "trusted") {
					return true
				}
			}
		}
	}
	return false
}

func stackCount() int {
	switch {
	case *stacksFlag > 0:
		return *stacksFlag
	case testing.Short():
		return 200
	}
	return 1000
}

// TestGenerated runs seeded random stacks (the same ones everywhere: see
// rd.RandSource) through containerd and the audit. A failing seed is
// replayed alone with -run 'TestGenerated/seed17$'.
func TestGenerated(t *testing.T) {
	rd.Require(t)
	n, first := stackCount(), *firstFlag
	var refusedBy [3]int // native only, overlay only, both
	for seed := first; seed < first+n; seed++ {
		s := rd.Gen(rd.RandSource(uint64(seed)))
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			tars, err := s.Tars()
			if err != nil {
				t.Fatal(err)
			}
			r := rd.Check(t, tars, *strictFlag, s.String)
			nat, ov := r.Runtimes[rd.Native].Err != nil, r.Runtimes[rd.Overlay].Err != nil
			switch {
			case nat && ov:
				refusedBy[2]++
			case nat:
				refusedBy[0]++
			case ov:
				refusedBy[1]++
			}
		})
	}
	t.Logf("%d stacks: refused by native only %d, overlay only %d, both %d", n, refusedBy[0], refusedBy[1], refusedBy[2])
}

// signature names a kind of divergence, without its path: the diff kind,
// which runtimes ship the path, and for a mismatch the fields in which the
// audit departs from the closest runtime.
func signature(d rd.Diff) string {
	var rts []string
	for _, r := range rd.All() {
		if _, ok := d.Runtimes[r]; ok {
			rts = append(rts, string(r))
		}
	}
	sig := d.Kind + " [" + strings.Join(rts, "+") + "]"
	if d.Kind == rd.Extra && d.Audit != nil {
		sig += " " + d.Audit.Type
	}
	if d.Kind == rd.Mismatch && d.Audit != nil {
		best := ""
		for _, r := range rd.All() {
			f, ok := d.Runtimes[r]
			if !ok {
				continue
			}
			fields := fieldsDiffering(*d.Audit, f)
			if best == "" || strings.Count(fields, ",") < strings.Count(best, ",") {
				best = fields
			}
		}
		sig += " " + best
	}
	return sig
}

func fieldsDiffering(a, b rd.File) string {
	var out []string
	if a.Type != b.Type {
		out = append(out, "type "+a.Type+"/"+b.Type)
	} else {
		if a.Mode != b.Mode {
			out = append(out, "mode")
		}
		if a.UID != b.UID || a.GID != b.GID {
			out = append(out, "owner")
		}
		if a.Link != b.Link {
			out = append(out, "target")
		}
		if fmt.Sprint(a.Xattrs) != fmt.Sprint(b.Xattrs) {
			out = append(out, "xattrs")
		}
		if fmt.Sprint(a.Links) != fmt.Sprint(b.Links) {
			out = append(out, "links")
		}
	}
	return strings.Join(out, ",")
}

// TestSurvey (only with -runtimediff.survey N) runs N generated stacks and
// prints, per kind of divergence (see signature), how many stacks show it,
// the first seeds, and one minimized reproducer as imagetest item lists.
func TestSurvey(t *testing.T) {
	if *surveyFlag == 0 {
		t.Skip("survey: run with -runtimediff.survey N")
	}
	rd.Require(t)
	type kind struct {
		count int
		seeds []int
		repro rd.Stack
		diffs string
	}
	kinds := map[string]*kind{}
	sigs := func(t *testing.T, s rd.Stack) (map[string]bool, *rd.Result) {
		tars, err := s.Tars()
		if err != nil {
			t.Fatal(err)
		}
		r := rd.Run(t, tars)
		out := map[string]bool{}
		if len(r.Applied()) == 0 {
			return out, r
		}
		if r.AuditErr != nil {
			out["audit-error"] = true
			return out, r
		}
		for _, d := range r.Compare(*strictFlag) {
			out[signature(d)] = true
		}
		return out, r
	}
	failing, surveyed := 0, 0
	first := *firstFlag
	for seed := first; seed < first+*surveyFlag; seed++ {
		s := rd.Gen(rd.RandSource(uint64(seed)))
		if skipped(s) {
			continue
		}
		surveyed++
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			got, _ := sigs(t, s)
			if len(got) > 0 {
				failing++
			}
			for sig := range got {
				k := kinds[sig]
				if k == nil {
					k = &kind{}
					kinds[sig] = k
				}
				k.count++
				if len(k.seeds) < 5 {
					k.seeds = append(k.seeds, seed)
				}
				if k.repro != nil {
					continue
				}
				k.repro = rd.Minimize(s, func(c rd.Stack) bool {
					g, _ := sigs(t, c)
					return g[sig]
				})
				_, r := sigs(t, k.repro)
				var ds []rd.Diff
				for _, d := range r.Compare(*strictFlag) {
					if signature(d) == sig {
						ds = append(ds, d)
					}
				}
				k.diffs = rd.Report(ds, 3)
			}
		})
	}
	names := make([]string, 0, len(kinds))
	for s := range kinds {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return kinds[names[i]].count > kinds[names[j]].count })
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d stacks diverge; %d kinds\n", failing, surveyed, len(names))
	for _, n := range names {
		k := kinds[n]
		fmt.Fprintf(&b, "\n== %s: %d stacks (seeds %v)\n%s%s", n, k.count, k.seeds, k.repro, k.diffs)
	}
	t.Log(b.String())
}
