package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// WriteMarkdown renders the report as GitHub-flavoured Markdown, for a
// pull-request comment: an overall verdict, then per image its verdict, its
// findings worst first with the layer step that added each, how to fix
// them, and the image's details folded away. A workload report is grouped
// by workload instead (see writeWorkloadMarkdown).
func WriteMarkdown(w io.Writer, r *report.Report, o Options) error {
	rules := indexRules(o.Rules)
	var b strings.Builder
	if r.Workloads != nil {
		b.WriteString("## imgaudit workload report\n\n")
		writeWorkloadMarkdown(&b, r, o, rules)
	} else {
		b.WriteString("## imgaudit report\n\n")
		b.WriteString(markdownOverall(r))
		for i := range r.Images {
			markdownImage(&b, r, &r.Images[i], o, rules)
		}
	}
	markdownRegressions(&b, r)
	if len(r.Warnings) > 0 {
		b.WriteString("\n### Warnings\n\n")
		for _, wn := range r.Warnings {
			fmt.Fprintf(&b, "- ⚠️ %s\n", mdText(wn.Message))
		}
	}
	if r.Policy != nil {
		fmt.Fprintf(&b, "\nPolicy: %s\n", mdText(policyLine(r.Policy)))
	}
	fmt.Fprintf(&b, "\n<sub>%s %s</sub>\n", mdText(r.Tool.Name), mdText(r.Tool.Version))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing markdown: %w", err)
	}
	return nil
}

// markdownRegressions lists the images that add findings at or above the
// gate's --fail-on-new over their baselines (the fleet summary's).
func markdownRegressions(b *strings.Builder, r *report.Report) {
	f := r.Summary.Fleet
	if f == nil || len(f.Regressions) == 0 {
		return
	}
	t := newThreshold(r.Gate)
	fmt.Fprintf(b, "\n### Regressions (new findings at or above %s)\n\n", mdText(t))
	for _, g := range f.Regressions {
		fmt.Fprintf(b, "- %s adds %d at or above %s (%d in all) over %s\n",
			mdCode(g.Reference, false), g.FailingNew, mdText(t), g.Added, mdCode(g.Baseline, false))
	}
}

func markdownOverall(r *report.Report) string {
	failed, errs, clean := verdictCounts(r)
	n := len(r.Images)
	var s string
	switch {
	case errs > 0:
		s = fmt.Sprintf("❌ **ERROR**: %d of %s could not be scanned completely", errs, plural(n, "image"))
	case failed > 0:
		s = fmt.Sprintf("❌ **FAIL**: %d of %s %s findings %s", failed, plural(n, "image"), hasHave(failed), mdThreshold(r.Gate))
	case r.Gate != nil:
		s = fmt.Sprintf("✅ **PASS**: no finding %s in %s", mdThreshold(r.Gate), plural(n, "image"))
	case clean == n:
		s = fmt.Sprintf("✅ **CLEAN**: no findings in %s", plural(n, "image"))
	default:
		s = fmt.Sprintf("⚠️ **FINDINGS**: %s in %s", plural(r.Summary.Findings, "finding"), plural(n, "image"))
	}
	if errs > 0 && failed > 0 {
		s += fmt.Sprintf("; %d %s findings %s", failed, hasHave(failed), mdThreshold(r.Gate))
	}
	if r.Summary.Suppressed > 0 {
		s += fmt.Sprintf(" (%d suppressed by policy)", r.Summary.Suppressed)
	}
	return s + ".\n"
}

// mdThreshold says what failing findings reached: "at or above `high`",
// "failing the `hardened` profile", or with a baseline "at or above
// `medium` (new findings)", "at or above `high` (new findings: `medium`)".
func mdThreshold(g *report.Gate) string {
	var base string
	switch {
	case g.Profile == "":
		base = "at or above " + mdCode(g.FailOn, false)
	case g.FailOn == "" || g.FailOn == "none":
		base = "failing the " + mdCode(g.Profile, false) + " profile"
	default:
		base = "failing the " + mdCode(g.Profile, false) + " profile or at or above " + mdCode(g.FailOn, false)
	}
	switch {
	case g.FailOnNew == "":
		return base
	case g.FailOn == "none" && g.Profile == "":
		return "at or above " + mdCode(g.FailOnNew, false) + " (new findings)"
	}
	return base + " (new findings: " + mdCode(g.FailOnNew, false) + ")"
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func markdownImage(b *strings.Builder, r *report.Report, img *report.Image, o Options, rules ruleIndex) {
	v := imageVerdict(r, img)
	icon := "✅"
	switch {
	case v.state == "error" || v.state == "fail":
		icon = "❌"
	case v.state == "" && v.findings > 0:
		icon = "⚠️"
	}
	fmt.Fprintf(b, "\n### %s %s\n\n", icon, mdCode(img.Reference, false))
	fmt.Fprintf(b, "**%s** — %s\n", v.label(), mdText(v.text()))
	if img.Error != "" {
		return
	}
	if img.Diff != nil {
		markdownDiff(b, img.Diff, o)
	}

	open := sortedFindings(img.Findings, false)
	if len(open) > 0 {
		b.WriteString("\n")
		markdownFindings(b, open)
	}
	if o.ShowSuppressed && v.suppressed > 0 {
		var sup []report.Finding
		for _, f := range sortedFindings(img.Findings, true) {
			if f.Suppressed != nil {
				sup = append(sup, f)
			}
		}
		fmt.Fprintf(b, "\n<details><summary>Suppressed by policy (%d)</summary>\n\n", len(sup))
		markdownFindings(b, sup)
		b.WriteString("\n</details>\n")
	}
	fixes := remediations(open, rules)
	for _, cmd := range packageRemovals(open) {
		// Package names come from the image: a code span that fits them.
		fixes = append(fixes, [2]string{"packages", "Remove the packages that ship these files: " + mdCode(cmd, false) + "."})
	}
	if names := essentialPackages(open); len(names) > 0 {
		for i, n := range names {
			names[i] = mdCode(n, false) // package names come from the image
		}
		fixes = append(fixes, [2]string{"packages", essentialAdvice(names)})
	}
	if len(fixes) > 0 {
		b.WriteString("\n<details><summary>How to fix</summary>\n\n")
		for _, f := range fixes {
			// Remediations are written as Markdown by the check authors.
			fmt.Fprintf(b, "- %s: %s\n", mdCode(f[0], false), Escape(oneLine(f[1])))
		}
		b.WriteString("\n</details>\n")
	}

	b.WriteString("\n<details><summary>Image details</summary>\n\n")
	b.WriteString("| | |\n|---|---|\n")
	var also []string
	for _, a := range img.AlsoKnownAs {
		also = append(also, mdCode(a, true))
	}
	rows := [][2]string{
		{"Also known as", strings.Join(also, ", ")},
		{"Digest", mdCode(img.Digest, true)},
		{"Platform", mdCell(img.Platform + note(img.PlatformNote))},
		{"User", mdCell(userLine(img.User))},
		{"Base", mdCell(baseLine(img.Base))},
		{"Contents", mdCell(contentsLine(img.Stats))},
	}
	if img.SBOM != nil {
		rows = append(rows, [2]string{"Packages", mdCell(sbomLine(img.SBOM))})
	}
	for _, row := range rows {
		if row[1] != "" {
			fmt.Fprintf(b, "| %s | %s |\n", row[0], row[1])
		}
	}
	if len(img.Layers) > 0 {
		b.WriteString("\n| Layer | Size | Created by |\n|---:|---:|---|\n")
		for _, l := range img.Layers {
			fmt.Fprintf(b, "| %d | %s | %s |\n", l.Index, HumanBytes(l.Size), mdCode(clip(oneLine(l.CreatedBy), 200), true))
		}
	}
	b.WriteString("\n</details>\n")
}

// markdownDiff leads an image compared with a baseline: what it added,
// with the step that added each, then what it removed, the count of
// unchanged findings and the facts that changed.
func markdownDiff(b *strings.Builder, d *report.Diff, o Options) {
	added, removed := sortedFindings(d.Added, o.ShowSuppressed), sortedFindings(d.Removed, o.ShowSuppressed)
	fmt.Fprintf(b, "\nCompared with %s: **%d added**, %d removed, %d unchanged.\n",
		mdCode(d.Baseline, false), len(added), len(removed), d.Unchanged)
	for _, part := range []struct {
		title string
		fs    []report.Finding
	}{{"Added", added}, {"Removed", removed}} {
		if len(part.fs) > 0 {
			fmt.Fprintf(b, "\n#### %s\n\n", part.title)
			markdownFindings(b, part.fs)
		}
	}
	if facts := diffFacts(d); len(facts) > 0 {
		fmt.Fprintf(b, "\nChanged: %s.\n", mdText(strings.Join(facts, "; ")))
	}
	b.WriteString("\n#### All findings\n")
}

func markdownFindings(b *strings.Builder, fs []report.Finding) {
	b.WriteString("| Severity | Check | Finding | Added by |\n|---|---|---|---|\n")
	for _, f := range fs {
		lines := findingLines(f)
		cells := make([]string, 0, len(lines))
		for i, l := range lines {
			switch {
			case i == 1 && f.Path != "":
				cell := mdCode(Escape(f.Path), true)
				if rest, _ := strings.CutPrefix(l, f.Path); strings.TrimSpace(rest) != "" {
					cell += " " + mdCell(rest)
				}
				cells = append(cells, cell)
			case i == 1 && f.Name != "":
				cells = append(cells, mdCode(Escape(l), true))
			default:
				cells = append(cells, mdCell(l))
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n",
			mdSeverity(f.Severity), mdCode(f.ID, true), strings.Join(cells, "<br>"), mdLayer(f.Layer))
	}
}

// mdSeverity renders a severity, in bold from high up.
func mdSeverity(s report.Severity) string {
	if s >= report.High {
		return "**" + mdCell(s.String()) + "**"
	}
	return mdCell(s.String())
}

func mdLayer(l *report.LayerRef) string {
	if l == nil {
		return ""
	}
	label := "layer " + layerLabel(l)
	if l.Index < 0 {
		label = "config"
	}
	if l.CreatedBy == "" {
		return label
	}
	return label + ": " + mdCode(clip(oneLine(l.CreatedBy), 120), true)
}

// mdEscaper escapes the characters Markdown or HTML would interpret.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "|", `\|`, "~", `\~`,
)

// mdText escapes s as Markdown text, on one line (see [Escape]).
func mdText(s string) string { return mdEscaper.Replace(Escape(s)) }

// mdCell escapes s for a table cell (one line).
func mdCell(s string) string { return mdText(oneLine(s)) }

// mdCode renders s as a code span, on one line (see [Escape]); in a table
// cell, pipes are escaped (GFM unescapes them before it reads the span).
func mdCode(s string, inTable bool) string {
	s = Escape(oneLine(s))
	if s == "" {
		return ""
	}
	if inTable {
		if strings.Contains(s, `\|`) {
			// The table reads "\\|" as an escaped backslash and a cell
			// break, and a code span cannot hold "\|" otherwise: plain text.
			return mdText(s)
		}
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if len(fence) > 1 || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
