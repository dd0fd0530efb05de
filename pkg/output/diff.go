package output

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// writeDiff renders an image's comparison with its baseline, added
// findings first with the Dockerfile step that added each, then removed
// ones, then the count of unchanged ones and the facts that changed.
func writeDiff(w io.Writer, p painter, d *report.Diff, o Options) {
	fmt.Fprintln(w)
	base := Escape(d.Baseline)
	if d.BaselineDigest != "" {
		base += " (" + shortDigest(d.BaselineDigest) + ")"
	}
	fmt.Fprintf(w, "%s %s\n", p.paint(ansiBold, "Compared with"), base)
	wID := 0
	for _, f := range append(slices.Clone(d.Added), d.Removed...) {
		wID = max(wID, utf8.RuneCountInString(Escape(f.ID)))
	}
	for _, part := range []struct {
		title, verb string
		fs          []report.Finding
	}{{"Added", "adds", d.Added}, {"Removed", "removes", d.Removed}} {
		fs := sortedFindings(part.fs, o.ShowSuppressed)
		fmt.Fprintf(w, "  %s (%d):\n", part.title, len(fs))
		for _, f := range fs {
			sev := p.severity(f.Severity) + strings.Repeat(" ", max(0, 8-len(f.Severity.String())))
			line := fmt.Sprintf("    %s %-*s %s", sev, wID, Escape(f.ID), diffLine(part.verb, f))
			fmt.Fprintln(w, wrapIndent(line, p.width, strings.Repeat(" ", 6)))
		}
	}
	fmt.Fprintf(w, "  Unchanged: %s\n", plural(d.Unchanged, "finding"))
	if facts := diffFacts(d); len(facts) > 0 {
		fmt.Fprintln(w, wrapIndent("  Changed: "+Escape(strings.Join(facts, "; ")), p.width, "    "))
	}
}

// diffLine says what a finding's step did: "adds /usr/bin/curl — layer 4,
// `RUN apt-get install curl`".
func diffLine(verb string, f report.Finding) string {
	what := f.Path
	if what == "" {
		what = f.Title
		if f.Name != "" {
			what += " (" + f.Name + ")"
		}
	}
	s := verb + " " + Escape(oneLine(what))
	if f.Layer != nil {
		if f.Layer.Index < 0 {
			s += " — config" // set by a config step, not a layer
		} else {
			s += fmt.Sprintf(" — layer %d", f.Layer.Index)
		}
		if f.Layer.CreatedBy != "" {
			s += ", `" + Escape(clip(oneLine(f.Layer.CreatedBy), 80)) + "`"
		}
	}
	if f.Suppressed != nil {
		s += " [suppressed]"
	}
	return s
}

// diffFacts lists the facts that changed, one phrase each.
func diffFacts(d *report.Diff) []string {
	var out []string
	if d.User != nil {
		out = append(out, "user "+d.User.Old+" → "+d.User.New)
	}
	if d.Base != nil {
		out = append(out, "base "+d.Base.Old+" → "+d.Base.New)
	}
	if d.Packages != nil {
		out = append(out, fmt.Sprintf("packages %d → %d", d.Packages.Old, d.Packages.New))
	}
	if d.Size != nil {
		out = append(out, "size "+HumanBytes(d.Size.Old)+" → "+HumanBytes(d.Size.New))
	}
	if len(d.LayersAdded) > 0 || len(d.LayersRemoved) > 0 {
		out = append(out, fmt.Sprintf("layers +%d −%d", len(d.LayersAdded), len(d.LayersRemoved)))
	}
	return out
}
