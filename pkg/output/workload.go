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
// level, then one line per finding, worst first (mitigated ones marked);
// then one line per audited image.
func writeWorkloadTable(w io.Writer, p painter, r *report.Report) {
	for i := range r.Workloads {
		wl := &r.Workloads[i]
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := wl.Name
		if wl.Namespace != "" {
			name = wl.Namespace + "/" + name
		}
		fmt.Fprintf(w, "%s %s %s (%s:%d)\n", p.paint(ansiBold, "Workload:"), Escape(wl.Kind), Escape(name), Escape(wl.File), wl.Line)
		for _, c := range wl.Containers {
			writeContainerLines(w, p, c)
		}
		if wl.Gate != nil {
			text := "no finding at or above " + gateFailOn(r)
			switch wl.Gate.Verdict {
			case report.Fail:
				text = plural(wl.Gate.Failing, "finding") + " at or above " + gateFailOn(r)
			case report.Incomplete:
				text = "incomplete: " + strings.Join(wl.Gate.Reasons, "; ")
			}
			v := verdict{state: string(wl.Gate.Verdict)}
			if wl.Gate.Verdict == report.Incomplete {
				v.state = "error"
			}
			fmt.Fprintln(w, p.paint(ansiBold, "  Verdict: "+v.label())+" — "+Escape(oneLine(text)))
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
	if g := r.Gate; g != nil {
		fmt.Fprintf(w, "\n%s: %s, %s failing, %s incomplete (fail-on %s)\n", p.paint(ansiBold, "Run"), strings.ToUpper(string(g.Verdict)),
			plural(g.Failing, "finding"), plural(g.Incomplete, "workload"), g.FailOn)
	}
}

func gateFailOn(r *report.Report) string {
	if r.Gate == nil {
		return "the threshold"
	}
	return r.Gate.FailOn
}

func writeContainerLines(w io.Writer, p painter, c report.Container) {
	kind := "container"
	switch {
	case c.Init:
		kind = "init container"
	case c.Ephemeral:
		kind = "ephemeral container"
	}
	img := c.Image.Reference
	if c.Image.Digest != "" {
		img += " " + shortDigest(c.Image.Digest)
	}
	fmt.Fprintf(w, "  %s %s: image %s; Pod Security: %s (%s)\n", kind, Escape(c.Name), Escape(img),
		Escape(c.PodSecurity.Level), plural(len(c.PodSecurity.Violations), "violation"))
	if c.Image.Error != "" {
		fmt.Fprintf(w, "    %s image not audited: %s\n", p.paint(ansiBold+ansiRed, "ERROR"), Escape(oneLine(c.Image.Error)))
	}
	fs := slices.Clone(c.Findings)
	slices.SortStableFunc(fs, func(a, b report.Finding) int {
		if a.Mitigated != b.Mitigated {
			if a.Mitigated {
				return 1
			}
			return -1
		}
		return compareFindings(a, b)
	})
	for _, f := range fs {
		sev := fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))
		if !f.Mitigated {
			sev = p.severity(f.Severity) + strings.Repeat(" ", 8-len(f.Severity.String()))
		}
		mark := ""
		if f.Mitigated {
			mark = " (mitigated)"
		}
		text := f.Title
		if f.Detail != "" {
			text += ": " + f.Detail
		}
		fmt.Fprintf(w, "    %s %-30s %s%s\n", sev, f.ID, Escape(oneLine(text)), mark)
	}
}

// sarifWorkloadResults are the results of a workload report's container
// findings, each located in its manifest at the line of its container (the
// workload's line when the container's is unknown), so that code scanning
// annotates the YAML. A mitigated finding carries a SARIF suppression.
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
				if f.Mitigated {
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
