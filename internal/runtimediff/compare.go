package runtimediff

import (
	"fmt"
	"sort"
	"strings"
)

// Diff kinds.
const (
	// Missing: a runtime ships the path, the audit does not.
	Missing = "missing"
	// Mismatch: the audit has the path but with metadata no runtime gives it.
	Mismatch = "mismatch"
	// Extra: the audit ships a path no runtime ships (strict mode only).
	Extra = "extra"
)

// Diff is one path where the audit departs from the runtimes.
type Diff struct {
	Path string
	Kind string
	// Runtimes holds what each runtime that applied the stack has at Path;
	// a runtime without the path is absent from the map.
	Runtimes map[Runtime]File
	// Audit is what the audit has at Path, nil when nothing.
	Audit *File
}

// String is one line: "/bin/sh: missing: audit -; native+overlay file 04755 0:0".
func (d Diff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: audit ", quote(d.Path), d.Kind)
	if d.Audit == nil {
		b.WriteString("-")
	} else {
		b.WriteString(d.Audit.String())
	}
	b.WriteString("; ")
	b.WriteString(describeRuntimes(d.Runtimes))
	return b.String()
}

// quote leaves ordinary paths as they are and quotes the others.
func quote(p string) string {
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '"' || r == ' ' {
			return fmt.Sprintf("%q", p)
		}
	}
	return p
}

// describeRuntimes renders "native+overlay file 0755 0:0" when the runtimes
// agree, "native file …, overlay -" otherwise.
func describeRuntimes(m map[Runtime]File) string {
	if len(m) == 0 {
		return "no runtime has it"
	}
	var rts []Runtime
	for _, r := range All() {
		if _, ok := m[r]; ok {
			rts = append(rts, r)
		}
	}
	if len(rts) == len(All()) && m[Native].Equal(m[Overlay]) {
		return fmt.Sprintf("%s+%s %s", Native, Overlay, m[Native])
	}
	var parts []string
	for _, r := range All() {
		if f, ok := m[r]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", r, f))
		}
	}
	return strings.Join(parts, ", ")
}

// Compare checks the audit's tree against the trees of the runtimes that
// applied the stack (a runtime that refused it ships nothing and is left
// out), with union semantics:
//
//   - every path a runtime ships must be in the audit;
//   - where every runtime ships the path with the same metadata, the audit
//     must match it exactly (type, mode with special bits, owner, symlink
//     target, xattrs, hardlink group; the audit's group counts only the
//     names the runtime ships, the others being extra paths);
//   - where they differ (or only some ship it), the audit must match one of
//     them.
//
// strict adds a second rule: the audit ships no path that no runtime ships.
// The result is sorted by path. With no runtime, there is nothing to compare.
func Compare(runtimes map[Runtime]Tree, audit Tree, strict bool) []Diff {
	if len(runtimes) == 0 {
		return nil
	}
	paths := map[string]bool{}
	for _, t := range runtimes {
		for p := range t {
			paths[p] = true
		}
	}
	var diffs []Diff
	for p := range paths {
		have := map[Runtime]File{}
		for r, t := range runtimes {
			if f, ok := t[p]; ok {
				have[r] = f
			}
		}
		a, ok := audit[p]
		if !ok {
			diffs = append(diffs, Diff{Path: p, Kind: Missing, Runtimes: have})
			continue
		}
		match := false
		for r, f := range have {
			if f.Equal(linksWithin(a, runtimes[r])) {
				match = true
				break
			}
		}
		if !match {
			diffs = append(diffs, Diff{Path: p, Kind: Mismatch, Runtimes: have, Audit: &a})
		}
	}
	if strict {
		for p, a := range audit {
			if !paths[p] {
				diffs = append(diffs, Diff{Path: p, Kind: Extra, Audit: &a})
			}
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs
}

// linksWithin returns a with its hardlink group cut down to the paths t
// has: a name the runtime does not ship at all is the strict rule's
// business (an extra path), not a wrong group for the names it does ship.
func linksWithin(a File, t Tree) File {
	if a.Links == nil {
		return a
	}
	var ls []string
	for _, p := range a.Links {
		if _, ok := t[p]; ok {
			ls = append(ls, p)
		}
	}
	if len(ls) < 2 {
		ls = nil
	}
	a.Links = ls
	return a
}

// Report renders at most max diffs, one a line, and says how many more.
func Report(diffs []Diff, max int) string {
	var b strings.Builder
	for i, d := range diffs {
		if i == max {
			fmt.Fprintf(&b, "… and %d more\n", len(diffs)-max)
			break
		}
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
