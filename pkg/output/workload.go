package output

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// writeWorkloadTable renders a workload report for a person: per workload
// a header with its verdict, per container its image and Pod Security
// level, then one line per finding, worst first (mitigated ones marked,
// suppressed ones only with ShowSuppressed); then one line per audited
// image, the run's verdict, the finding counts and the skipped kinds.
func writeWorkloadTable(w io.Writer, p painter, r *report.Report, o Options) {
	for i := range r.Workloads {
		wl := &r.Workloads[i]
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s %s %s (%s:%d)\n", p.paint(ansiBold, "Workload:"), Escape(wl.Kind), Escape(workloadName(wl)), Escape(wl.File), wl.Line)
		for _, c := range wl.Containers {
			writeContainerLines(w, p, c, o)
		}
		if wl.Gate != nil {
			v := workloadVerdict(r, wl)
			label := "  Verdict: " + v.label()
			line := wrapIndent(label+" — "+Escape(oneLine(v.text)), p.width, "    ")
			fmt.Fprintln(w, p.paint(ansiBold, label)+strings.TrimPrefix(line, label))
		}
	}
	if len(r.Images) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, p.paint(ansiBold, "Images:"))
		for _, img := range r.Images {
			state := fmt.Sprintf("%s %s", shortDigest(img.Digest), plural(len(img.Findings), "image finding"))
			if img.Error != "" {
				state = "not audited: " + img.Error
			}
			fmt.Fprintf(w, "  %s  %s\n", Escape(img.Reference), Escape(oneLine(state)))
		}
	}
	fmt.Fprintln(w)
	if g := r.Gate; g != nil {
		fmt.Fprintf(w, "%s: %s, %s failing, %s incomplete (fail-on %s)\n", p.paint(ansiBold, "Run"), strings.ToUpper(string(g.Verdict)),
			plural(g.Failing, "finding"), plural(g.Incomplete, "workload"), g.FailOn)
	}
	fmt.Fprintln(w, p.paint(ansiBold, "Findings:")+strings.TrimPrefix(wrapIndent("Findings: "+workloadTotals(r), p.width, "  "), "Findings:"))
	if len(r.Skipped) > 0 {
		fmt.Fprintln(w, p.paint(ansiBold, "Skipped:")+strings.TrimPrefix(wrapIndent("Skipped: "+Escape(skippedLine(r.Skipped)), p.width, "  "), "Skipped:"))
	}
}

// workloadName is NAMESPACE/NAME, or NAME without a namespace.
func workloadName(wl *report.Workload) string {
	if wl.Namespace != "" {
		return wl.Namespace + "/" + wl.Name
	}
	return wl.Name
}

// wlVerdict is the conclusion about one workload, as the gate decided it.
type wlVerdict struct {
	state string // "fail", "pass", "error", or "" without a gate
	text  string
}

func (v wlVerdict) label() string {
	return verdict{state: v.state, findings: 1}.label()
}

func workloadVerdict(r *report.Report, wl *report.Workload) wlVerdict {
	g := wl.Gate
	if g == nil {
		return wlVerdict{}
	}
	switch g.Verdict {
	case report.Fail:
		return wlVerdict{"fail", plural(g.Failing, "finding") + " at or above " + gateFailOn(r) + ": " + strings.Join(g.Reasons, "; ")}
	case report.Incomplete:
		return wlVerdict{"error", "incomplete: " + strings.Join(g.Reasons, "; ")}
	}
	return wlVerdict{"pass", "no finding at or above " + gateFailOn(r)}
}

// workloadTotals counts the workload findings of the run: "2 high, 1 low;
// 1 mitigated; 1 suppressed by policy".
func workloadTotals(r *report.Report) string {
	s := r.Summary.Workloads
	if s == nil {
		return "none"
	}
	counts := "none"
	if s.Findings > 0 {
		var parts []string
		for _, sev := range slices.Backward(report.Severities()) {
			if n := s.BySeverity[sev]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, sev))
			}
		}
		counts = strings.Join(parts, ", ")
	}
	out := fmt.Sprintf("%s in %s of %s", counts, plural(s.Containers, "container"), plural(s.Workloads, "workload"))
	if s.Mitigated > 0 {
		out += fmt.Sprintf("; %d mitigated by the pod spec", s.Mitigated)
	}
	if s.Suppressed > 0 {
		out += fmt.Sprintf("; %d suppressed by policy", s.Suppressed)
	}
	return out
}

// skippedLine is "3 Service, 1 ConfigMap".
func skippedLine(ks []report.SkippedKind) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%d %s", k.Count, k.Kind)
	}
	return strings.Join(parts, ", ")
}

func gateFailOn(r *report.Report) string {
	if r.Gate == nil {
		return "the threshold"
	}
	return r.Gate.FailOn
}

// containerKind names the list a container is in.
func containerKind(c report.Container) string {
	switch {
	case c.Init:
		return "init container"
	case c.Ephemeral:
		return "ephemeral container"
	}
	return "container"
}

// containerFindings are the findings to show, open ones first (worst
// first), then mitigated, then suppressed (only when shown); and how many
// suppressed ones are hidden.
func containerFindings(c report.Container, withSuppressed bool) ([]report.Finding, int) {
	rank := func(f report.Finding) int {
		switch {
		case f.Suppressed != nil:
			return 2
		case f.Mitigated:
			return 1
		}
		return 0
	}
	var out []report.Finding
	hidden := 0
	for _, f := range c.Findings {
		if f.Suppressed != nil && !withSuppressed {
			hidden++
			continue
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b report.Finding) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return compareFindings(a, b)
	})
	return out, hidden
}

func writeContainerLines(w io.Writer, p painter, c report.Container, o Options) {
	img := c.Image.Reference
	if c.Image.Digest != "" {
		img += " " + shortDigest(c.Image.Digest)
	}
	pss := ""
	if c.PodSecurity.Level != "" {
		pss = fmt.Sprintf("; Pod Security: %s (%s)", Escape(c.PodSecurity.Level), plural(len(c.PodSecurity.Violations), "violation"))
	}
	fmt.Fprintln(w, wrapIndent(fmt.Sprintf("  %s %s: image %s%s", containerKind(c), Escape(c.Name), Escape(img), pss), p.width, "    "))
	if c.Image.Error != "" {
		fmt.Fprintf(w, "    %s image not audited: %s\n", p.paint(ansiBold+ansiRed, "ERROR"), Escape(oneLine(c.Image.Error)))
	}
	fs, hidden := containerFindings(c, o.ShowSuppressed)
	for _, f := range fs {
		sev := fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))
		if !f.Mitigated && f.Suppressed == nil {
			sev = p.severity(f.Severity) + strings.Repeat(" ", 8-len(f.Severity.String()))
		}
		mark := ""
		switch {
		case f.Suppressed != nil:
			mark = " (suppressed: " + f.Suppressed.Reason + ")"
		case f.Mitigated:
			mark = " (mitigated)"
		}
		text := f.Title
		if f.Detail != "" {
			text += ": " + f.Detail
		}
		// "    SEVERITY ID(30) " is 44 columns: the text wraps beside it.
		lines := wrap(Escape(oneLine(text+mark)), p.width-44)
		fmt.Fprintf(w, "    %s %-30s %s\n", sev, f.ID, strings.Join(lines, "\n"+strings.Repeat(" ", 44)))
	}
	if hidden > 0 {
		fmt.Fprintf(w, "    (%s suppressed by policy; --show-suppressed lists them)\n", plural(hidden, "finding"))
	}
}

// sarifWorkloadResults are the results of a workload report's container
// findings, each located in its manifest at the line of its container (the
// workload's line when the container's is unknown), so that code scanning
// annotates the YAML. A finding a policy ignore matched, or that the pod
// spec mitigates, carries a SARIF suppression.
func sarifWorkloadResults(r *report.Report, index map[string]int) []sarifResult {
	var out []sarifResult
	for _, wl := range r.Workloads {
		uri := manifestURI(wl.File)
		for _, c := range wl.Containers {
			line := c.Line
			if line <= 0 {
				line = max(wl.Line, 1)
			}
			for _, f := range c.Findings {
				res := sarifResult{
					RuleID:    f.ID,
					RuleIndex: index[f.ID],
					Level:     sarifLevel(f.Severity),
					Message:   sarifText{Text: workloadMessage(wl, c, f)},
					PartialFingerprints: map[string]string{
						FingerprintKey: fingerprint(f, wl.Kind+"/"+wl.Namespace+"/"+wl.Name+"/"+c.Name, ""),
					},
					Properties: sarifResultProps{Image: c.Image.Reference, Digest: c.Image.Digest,
						Severity: f.Severity, Category: f.Category, Path: f.Path},
				}
				var loc sarifLocation
				loc.PhysicalLocation.ArtifactLocation.URI = uri
				loc.PhysicalLocation.Region.StartLine = line
				res.Locations = []sarifLocation{loc}
				switch s := f.Suppressed; {
				case s != nil:
					just := s.Reason
					if s.Expires != "" {
						just += " (until " + s.Expires + ")"
					}
					res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: just}}
					res.Properties.Policy, res.Properties.Expires = s.Policy, s.Expires
				case f.Mitigated:
					res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: "mitigated by the pod spec"}}
				}
				out = append(out, res)
			}
		}
	}
	return out
}

// manifestURI is a manifest's path as a URI reference: relative paths stay
// relative (to the repository root, where CI runs), absolute ones become
// file URIs, standard input is "stdin".
func manifestURI(file string) string {
	if file == "-" || file == "" {
		return "stdin"
	}
	p := strings.ReplaceAll(file, "\\", "/")
	u := (&url.URL{Path: p}).EscapedPath()
	if strings.HasPrefix(p, "/") {
		return "file://" + u
	}
	return strings.TrimPrefix(u, "./")
}

func workloadMessage(wl report.Workload, c report.Container, f report.Finding) string {
	name := wl.Name
	if wl.Namespace != "" {
		name = wl.Namespace + "/" + name
	}
	msg := fmt.Sprintf("%s: %s %s, container %s (image %s)", f.Title, wl.Kind, name, c.Name, c.Image.Reference)
	if f.Detail != "" {
		msg += ": " + oneLine(f.Detail)
	}
	if f.Mitigated {
		msg += ". Mitigated by the pod spec."
	}
	if f.Remediation != "" {
		msg += ". Fix: " + oneLine(f.Remediation)
	}
	return msg
}

// writeWorkloadMarkdown renders a workload report as GitHub-flavoured
// Markdown, for a pull-request comment: the run's verdict and what fails,
// the finding counts, then per workload its verdict and per container its
// image (reference and digest), Pod Security level and findings (mitigated
// and suppressed ones marked), then the audited images.
func writeWorkloadMarkdown(b *strings.Builder, r *report.Report, o Options, rules ruleIndex) {
	b.WriteString(markdownWorkloadLead(r))
	for i := range r.Workloads {
		markdownWorkload(b, r, &r.Workloads[i], o, rules)
	}
	if len(r.Images) > 0 {
		b.WriteString("\n### Images\n\n| Image | Digest | Image findings |\n|---|---|---|\n")
		for _, img := range r.Images {
			state := plural(len(img.Findings), "finding")
			if img.Error != "" {
				state = "not audited: " + img.Error
			}
			fmt.Fprintf(b, "| %s | %s | %s |\n", mdCode(img.Reference, true), mdCode(img.Digest, true), mdCell(state))
		}
	}
}

// workloadVerdictCounts counts the workloads whose verdict is fail and
// error.
func workloadVerdictCounts(r *report.Report) (failed, errs int) {
	for i := range r.Workloads {
		switch workloadVerdict(r, &r.Workloads[i]).state {
		case "fail":
			failed++
		case "error":
			errs++
		}
	}
	return failed, errs
}

// markdownWorkloadLead is the run's verdict, what fails (each failing or
// incomplete workload with the gate's reasons), the counts of the
// workload findings and the kinds skipped.
func markdownWorkloadLead(r *report.Report) string {
	var b strings.Builder
	n := len(r.Workloads)
	failed, errs := workloadVerdictCounts(r)
	s := r.Summary.Workloads
	findings := 0
	if s != nil {
		findings = s.Findings
	}
	switch {
	case errs > 0:
		fmt.Fprintf(&b, "❌ **INCOMPLETE**: %d of %s could not be audited completely", errs, plural(n, "workload"))
		if failed > 0 {
			fmt.Fprintf(&b, "; %d %s findings %s", failed, hasHave(failed), mdThreshold(r.Gate))
		}
	case failed > 0:
		fmt.Fprintf(&b, "❌ **FAIL**: %d of %s %s findings %s", failed, plural(n, "workload"), hasHave(failed), mdThreshold(r.Gate))
	case r.Gate != nil:
		fmt.Fprintf(&b, "✅ **PASS**: no finding %s in %s", mdThreshold(r.Gate), plural(n, "workload"))
	case findings == 0:
		fmt.Fprintf(&b, "✅ **CLEAN**: no findings in %s", plural(n, "workload"))
	default:
		fmt.Fprintf(&b, "⚠️ **FINDINGS**: %s in %s", plural(findings, "finding"), plural(n, "workload"))
	}
	b.WriteString(".\n")
	if failed+errs > 0 {
		b.WriteString("\n**What fails:**\n\n")
		for i := range r.Workloads {
			wl := &r.Workloads[i]
			if v := workloadVerdict(r, wl); v.state == "fail" || v.state == "error" {
				reasons := wl.Gate.Reasons
				if v.state == "error" {
					reasons = append([]string{"incomplete"}, reasons...)
				}
				fmt.Fprintf(&b, "- %s %s: %s\n", mdText(wl.Kind), mdCode(workloadName(wl), false), mdText(oneLine(strings.Join(reasons, "; "))))
			}
		}
	}
	fmt.Fprintf(&b, "\nWorkload findings: %s.\n", mdText(workloadTotals(r)))
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "Skipped (not workloads): %s.\n", mdText(skippedLine(r.Skipped)))
	}
	return b.String()
}

func markdownWorkload(b *strings.Builder, r *report.Report, wl *report.Workload, o Options, rules ruleIndex) {
	v := workloadVerdict(r, wl)
	icon := "✅"
	switch {
	case v.state == "fail" || v.state == "error":
		icon = "❌"
	case v.state == "":
		for _, c := range wl.Containers {
			if fs, _ := containerFindings(c, false); slices.ContainsFunc(fs, func(f report.Finding) bool { return !f.Mitigated }) {
				icon = "⚠️"
			}
		}
	}
	fmt.Fprintf(b, "\n### %s %s %s\n\n", icon, mdText(wl.Kind), mdCode(workloadName(wl), false))
	where := mdCode(fmt.Sprintf("%s:%d", wl.File, wl.Line), false)
	if v.state != "" {
		fmt.Fprintf(b, "**%s** — %s (%s)\n", v.label(), mdText(oneLine(v.text)), where)
	} else {
		fmt.Fprintf(b, "%s\n", where)
	}
	var open []report.Finding
	for _, c := range wl.Containers {
		img := mdCode(c.Image.Reference, false)
		if c.Image.Digest != "" {
			img += " " + mdCode(c.Image.Digest, false)
		}
		fmt.Fprintf(b, "\n#### %s %s\n\nImage %s", mdText(containerKind(c)), mdCode(c.Name, false), img)
		if c.PodSecurity.Level != "" {
			fmt.Fprintf(b, "; Pod Security: **%s**", mdText(c.PodSecurity.Level))
		}
		if n := len(c.PodSecurity.Violations); n > 0 {
			fmt.Fprintf(b, " (%s)", plural(n, "violation"))
		}
		b.WriteString(".\n")
		if c.Image.Error != "" {
			fmt.Fprintf(b, "\n❌ Image not audited: %s\n", mdText(oneLine(c.Image.Error)))
		}
		fs, hidden := containerFindings(c, o.ShowSuppressed)
		if len(fs) > 0 {
			b.WriteString("\n| Severity | Check | Finding | Status |\n|---|---|---|---|\n")
			for _, f := range fs {
				lines := []string{f.Title}
				if f.Path != "" {
					lines = append(lines, mdCode(f.Path, true))
				}
				if f.Detail != "" {
					lines = append(lines, mdCell(f.Detail))
				}
				lines[0] = mdCell(lines[0])
				status, sev := "", mdSeverity(f.Severity)
				switch {
				case f.Suppressed != nil:
					status, sev = "suppressed: "+mdCell(f.Suppressed.Reason), mdCell(f.Severity.String())
				case f.Mitigated:
					status, sev = "mitigated", mdCell(f.Severity.String())
				default:
					open = append(open, f)
				}
				fmt.Fprintf(b, "| %s | %s | %s | %s |\n", sev, mdCode(f.ID, true), strings.Join(lines, "<br>"), status)
			}
		}
		if hidden > 0 {
			fmt.Fprintf(b, "\n%s suppressed by policy.\n", plural(hidden, "finding"))
		}
		if len(c.PodSecurity.Violations) > 0 {
			fmt.Fprintf(b, "\n<details><summary>Pod Security violations (%d)</summary>\n\n", len(c.PodSecurity.Violations))
			for _, pv := range c.PodSecurity.Violations {
				line := pv.Reason
				if pv.Detail != "" {
					line += ": " + pv.Detail
				}
				fmt.Fprintf(b, "- %s: %s\n", mdText(pv.Level), mdText(oneLine(line)))
			}
			b.WriteString("\n</details>\n")
		}
	}
	if fixes := remediations(open, rules); len(fixes) > 0 {
		b.WriteString("\n<details><summary>How to fix</summary>\n\n")
		for _, f := range fixes {
			fmt.Fprintf(b, "- %s: %s\n", mdCode(f[0], false), Escape(oneLine(f[1])))
		}
		b.WriteString("\n</details>\n")
	}
}

// JSONLWorkload is one workload line of the jsonl format of a workload
// run: the workload with its containers, their findings and its verdict.
type JSONLWorkload struct {
	SchemaVersion int             `json:"schemaVersion"`
	Workload      report.Workload `json:"workload"`
}

// WriteJSONLWorkload writes one workload as a line of the jsonl format.
func WriteJSONLWorkload(w io.Writer, wl report.Workload) error {
	one := normalized(&report.Report{Workloads: []report.Workload{wl}})
	return writeLine(w, JSONLWorkload{SchemaVersion: report.SchemaVersion, Workload: one.Workloads[0]})
}
