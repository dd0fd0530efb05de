package output

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// WriteHTML renders the report as one self-contained HTML page for a
// person or a fleet: the run's verdict and totals first; for a workload
// run, each workload with its containers and their cross-check (IW)
// findings; an images × categories heat map, the layers that bring
// findings into most images (when the report carries a fleet summary),
// then per image its header, a layer timeline (what each Dockerfile step
// added) and its findings. Suppressed findings are listed only with
// o.ShowSuppressed, as in the table and the Markdown; otherwise counted.
//
// The page loads nothing: its CSS is inline, it has no script, and its
// Content-Security-Policy forbids every fetch. Every value from an image,
// a registry or a policy file goes through [Escape] (control, format and
// bidi characters become visible \x.. and \u.... sequences) and then
// html/template's contextual escaping; none is written into a script,
// style or URL.
func WriteHTML(w io.Writer, r *report.Report, o Options) error {
	if err := htmlPage().Execute(w, newHTMLView(r, o)); err != nil {
		return fmt.Errorf("writing html: %w", err)
	}
	return nil
}

// htmlView is what the page template reads: every string in it is already
// passed through Escape, and html/template escapes it for HTML.
type htmlView struct {
	Tool       string
	Verdict    htmlVerdict
	Totals     string
	Workloads  []htmlWorkload
	Severities []htmlCount
	Categories []string
	Rows       []htmlHeatRow
	Layers     []htmlFleetLayer
	HasFleet   bool
	FleetLine  string
	Regress    []string
	Images     []htmlImage
	Policy     string
	Warnings   []string
}

type htmlVerdict struct {
	Label string
	State string // fail, error, pass, findings, clean: a CSS class suffix
	Text  string
}

// htmlWorkload is one workload of a workload run, with the gate's verdict
// and its containers.
type htmlWorkload struct {
	Anchor     string
	Kind       string
	Name       string
	Where      string
	Verdict    htmlVerdict
	Containers []htmlContainer
}

// htmlContainer is one container of a workload: its image, Pod Security
// level and cross-check (IW) findings, open ones first, then mitigated,
// then suppressed (only with Options.ShowSuppressed).
type htmlContainer struct {
	Kind        string
	Name        string
	Image       string
	PodSecurity string
	Violations  []string
	Error       string
	Findings    []htmlWorkloadFinding
	// Hidden says how many suppressed findings are not listed, "" for none.
	Hidden string
}

type htmlWorkloadFinding struct {
	Severity    string
	Check       string
	Message     string
	Path        string
	Remediation string
	Status      string // "", "mitigated by the pod spec" or "suppressed: ..."
	Muted       bool   // mitigated or suppressed
}

type htmlCount struct {
	Severity string
	N        int
}

type htmlHeatRow struct {
	Anchor    string
	Reference string
	Verdict   htmlVerdict
	Error     bool
	Cells     []htmlCell
}

type htmlCell struct {
	N        int
	Severity string // worst severity of the cell's findings, "" when none
}

type htmlFleetLayer struct {
	DiffID     string
	CreatedBy  string
	Images     int
	Findings   int
	Categories string
}

type htmlImage struct {
	Anchor    string
	Reference string
	Verdict   htmlVerdict
	Facts     [][2]string
	Timeline  []htmlStep
	Findings  []htmlFinding
	// Hidden says how many suppressed findings are not listed, "" for none.
	Hidden string
	Fixes  [][2]string
}

// htmlStep is one entry of a layer timeline: a layer, the image config, or
// findings of no layer.
type htmlStep struct {
	Label     string
	Size      string
	CreatedBy string
	Groups    []htmlGroup
}

type htmlGroup struct {
	Check    string
	Severity string
	Items    []string
	More     int
}

type htmlFinding struct {
	Severity   string
	Check      string
	Title      string
	Where      string
	Also       string
	Detail     []string
	Package    string
	Layer      string
	Suppressed string // "" when the finding is not suppressed
}

// htmlGroupItems bounds the paths listed per check in a timeline step.
const htmlGroupItems = 8

func newHTMLView(r *report.Report, o Options) htmlView {
	v := htmlView{
		Tool:    Escape(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version)),
		Verdict: overallHTMLVerdict(r),
		Totals:  Escape(runTotals(r)),
	}
	bySeverity := r.Summary.BySeverity
	if r.Workloads != nil && r.Summary.Workloads != nil {
		bySeverity = r.Summary.Workloads.BySeverity
	}
	for s := report.Critical; s >= report.Info; s-- {
		v.Severities = append(v.Severities, htmlCount{Severity: s.String(), N: bySeverity[s]})
	}
	rules := indexRules(o.Rules)
	if r.Workloads != nil {
		// The gate decides per workload: the page leads with that.
		v.Verdict, v.Totals = workloadHTMLVerdict(r), Escape("Workload findings: "+workloadTotals(r))
		for i := range r.Workloads {
			wl := &r.Workloads[i]
			wv := workloadVerdict(r, wl)
			state := wv.state
			if state == "" {
				state = "findings"
			}
			hw := htmlWorkload{Anchor: fmt.Sprintf("workload-%d", i+1), Kind: Escape(wl.Kind), Name: Escape(workloadName(wl)),
				Where:   Escape(fmt.Sprintf("%s:%d", wl.File, wl.Line)),
				Verdict: htmlVerdict{Label: wv.label(), State: state, Text: Escape(oneLine(wv.text))}}
			for _, c := range wl.Containers {
				hw.Containers = append(hw.Containers, newHTMLContainer(c, o, rules))
			}
			v.Workloads = append(v.Workloads, hw)
		}
	}
	v.Categories, v.Rows = heatMap(r)
	if f := r.Summary.Fleet; f != nil {
		v.HasFleet = true
		v.FleetLine = fmt.Sprintf("%d of %s fail the gate", f.ImagesFailing, plural(len(r.Images), "image"))
		for _, l := range f.OffendingLayers {
			v.Layers = append(v.Layers, htmlFleetLayer{
				DiffID: Escape(shortDigest(l.DiffID)), CreatedBy: Escape(clip(oneLine(l.CreatedBy), 300)),
				Images: l.Images, Findings: l.Findings, Categories: Escape(strings.Join(l.Categories, ", ")),
			})
		}
		for _, g := range f.Regressions {
			v.Regress = append(v.Regress, Escape(fmt.Sprintf("%s adds %d at or above %s (%d in all) over %s",
				g.Reference, g.FailingNew, newThreshold(r.Gate), g.Added, g.Baseline)))
		}
	}
	for i := range r.Images {
		v.Images = append(v.Images, newHTMLImage(r, i, rules, o.ShowSuppressed))
	}
	if r.Policy != nil {
		v.Policy = Escape(policyLine(r.Policy))
	}
	for _, wn := range r.Warnings {
		v.Warnings = append(v.Warnings, Escape(wn.Message))
	}
	return v
}

// overallHTMLVerdict is the run's verdict, as the gate decided it.
func overallHTMLVerdict(r *report.Report) htmlVerdict {
	failed, errs, clean := verdictCounts(r)
	n := len(r.Images)
	var v htmlVerdict
	switch {
	case errs > 0:
		v = htmlVerdict{"ERROR", "error", fmt.Sprintf("%d of %s could not be scanned completely", errs, plural(n, "image"))}
		if failed > 0 {
			v.Text += fmt.Sprintf("; %d %s findings %s", failed, hasHave(failed), plainThreshold(r.Gate))
		}
	case failed > 0:
		v = htmlVerdict{"FAIL", "fail", fmt.Sprintf("%d of %s %s findings %s", failed, plural(n, "image"), hasHave(failed), plainThreshold(r.Gate))}
	case r.Gate != nil:
		v = htmlVerdict{"PASS", "pass", fmt.Sprintf("no finding %s in %s", plainThreshold(r.Gate), plural(n, "image"))}
	case clean == n:
		v = htmlVerdict{"CLEAN", "clean", fmt.Sprintf("no findings in %s", plural(n, "image"))}
	default:
		v = htmlVerdict{"FINDINGS", "findings", fmt.Sprintf("%s in %s", plural(r.Summary.Findings, "finding"), plural(n, "image"))}
	}
	if r.Summary.Suppressed > 0 {
		v.Text += fmt.Sprintf(" (%d suppressed by policy)", r.Summary.Suppressed)
	}
	return v
}

// workloadHTMLVerdict is a workload run's verdict, as the gate decided it
// per workload (see markdownWorkloadLead).
func workloadHTMLVerdict(r *report.Report) htmlVerdict {
	n := len(r.Workloads)
	failed, errs := workloadVerdictCounts(r)
	findings := 0
	if s := r.Summary.Workloads; s != nil {
		findings = s.Findings
	}
	switch {
	case errs > 0:
		v := htmlVerdict{"INCOMPLETE", "error", fmt.Sprintf("%d of %s could not be audited completely", errs, plural(n, "workload"))}
		if failed > 0 {
			v.Text += fmt.Sprintf("; %d %s findings %s", failed, hasHave(failed), plainThreshold(r.Gate))
		}
		return v
	case failed > 0:
		return htmlVerdict{"FAIL", "fail", fmt.Sprintf("%d of %s %s findings %s", failed, plural(n, "workload"), hasHave(failed), plainThreshold(r.Gate))}
	case r.Gate != nil:
		return htmlVerdict{"PASS", "pass", fmt.Sprintf("no finding %s in %s", plainThreshold(r.Gate), plural(n, "workload"))}
	case findings == 0:
		return htmlVerdict{"CLEAN", "clean", fmt.Sprintf("no findings in %s", plural(n, "workload"))}
	}
	return htmlVerdict{"FINDINGS", "findings", fmt.Sprintf("%s in %s", plural(findings, "finding"), plural(n, "workload"))}
}

// plainThreshold says what failing findings reached, as mdThreshold does
// without Markdown.
func plainThreshold(g *report.Gate) string {
	if g == nil {
		return ""
	}
	base := gatePhrase(g.FailOn, g.Profile)
	switch {
	case g.FailOnNew == "":
		return base
	case g.FailOn == "none" && g.Profile == "":
		return "at or above " + g.FailOnNew + " (new findings)"
	}
	return base + " (new findings: " + g.FailOnNew + ")"
}

func imageHTMLVerdict(v verdict) htmlVerdict {
	state := v.state
	if state == "" {
		state = strings.ToLower(v.label())
	}
	return htmlVerdict{Label: v.label(), State: state, Text: Escape(v.text())}
}

// heatMap counts each image's unsuppressed findings per category; a cell
// takes the colour of its worst severity. Categories are ordered by the
// number of images with findings of them, then by name.
func heatMap(r *report.Report) ([]string, []htmlHeatRow) {
	type cell struct {
		n     int
		worst report.Severity
	}
	perImage := make([]map[string]*cell, len(r.Images))
	images := map[string]int{}
	for i, img := range r.Images {
		perImage[i] = map[string]*cell{}
		for _, f := range img.Findings {
			if f.Suppressed != nil {
				continue
			}
			c := perImage[i][f.Category]
			if c == nil {
				c = &cell{worst: f.Severity}
				perImage[i][f.Category] = c
				images[f.Category]++
			}
			c.n++
			c.worst = max(c.worst, f.Severity)
		}
	}
	cats := make([]string, 0, len(images))
	for c := range images {
		cats = append(cats, c)
	}
	slices.SortFunc(cats, func(a, b string) int {
		if d := images[b] - images[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	rows := make([]htmlHeatRow, len(r.Images))
	for i := range r.Images {
		img := &r.Images[i]
		row := htmlHeatRow{Anchor: imageAnchor(i), Reference: Escape(img.Reference),
			Verdict: imageHTMLVerdict(imageVerdict(r, img)), Error: img.Error != ""}
		for _, c := range cats {
			if got := perImage[i][c]; got != nil {
				row.Cells = append(row.Cells, htmlCell{N: got.n, Severity: got.worst.String()})
			} else {
				row.Cells = append(row.Cells, htmlCell{})
			}
		}
		rows[i] = row
	}
	for i, c := range cats {
		cats[i] = Escape(c)
	}
	return cats, rows
}

func imageAnchor(i int) string { return fmt.Sprintf("image-%d", i+1) }

// newHTMLContainer is a workload's container as the page shows it, the
// suppressed findings listed only with o.ShowSuppressed, as in the table
// and the Markdown. A finding's remediation is its own, else its check's.
func newHTMLContainer(c report.Container, o Options, rules ruleIndex) htmlContainer {
	img := c.Image.Reference
	if c.Image.Digest != "" {
		img += " " + shortDigest(c.Image.Digest)
	}
	h := htmlContainer{Kind: containerKind(c), Name: Escape(c.Name), Image: Escape(img), Error: Escape(oneLine(c.Image.Error))}
	if c.PodSecurity.Level != "" {
		h.PodSecurity = Escape(fmt.Sprintf("%s (%s)", c.PodSecurity.Level, plural(len(c.PodSecurity.Violations), "violation")))
	}
	for _, pv := range c.PodSecurity.Violations {
		line := pv.Level + ": " + pv.Reason
		if pv.Detail != "" {
			line += ": " + pv.Detail
		}
		h.Violations = append(h.Violations, Escape(oneLine(line)))
	}
	fs, hidden := containerFindings(c, o.ShowSuppressed)
	h.Hidden = hiddenText(hidden)
	for _, f := range fs {
		msg := f.Title
		if f.Detail != "" {
			msg += ": " + f.Detail
		}
		fix := f.Remediation
		if r := rules[f.ID]; fix == "" && r != nil {
			fix = r.Remediation
		}
		hf := htmlWorkloadFinding{Severity: f.Severity.String(), Check: Escape(f.ID), Message: Escape(oneLine(msg)),
			Path: Escape(f.Path), Remediation: Escape(oneLine(fix))}
		switch s := f.Suppressed; {
		case s != nil:
			hf.Status, hf.Muted = Escape(suppressedText(s)), true
		case f.Mitigated:
			hf.Status, hf.Muted = "mitigated by the pod spec", true
		}
		h.Findings = append(h.Findings, hf)
	}
	return h
}

// hiddenText says how many suppressed findings a section does not list.
func hiddenText(n int) string {
	if n == 0 {
		return ""
	}
	return plural(n, "finding") + " suppressed by policy (--show-suppressed lists them)."
}

// suppressedText says why and until when a policy suppressed a finding:
// "suppressed: REASON (.imgaudit.yaml:9, until 2099-12-31)".
func suppressedText(s *report.Suppression) string {
	text := "suppressed: " + oneLine(s.Reason)
	var where []string
	if s.Policy != "" {
		where = append(where, s.Policy)
	}
	if s.Expires != "" {
		where = append(where, "until "+s.Expires)
	}
	if len(where) > 0 {
		text += " (" + strings.Join(where, ", ") + ")"
	}
	return text
}

func newHTMLImage(r *report.Report, i int, rules ruleIndex, showSuppressed bool) htmlImage {
	img := &r.Images[i]
	h := htmlImage{Anchor: imageAnchor(i), Reference: Escape(img.Reference), Verdict: imageHTMLVerdict(imageVerdict(r, img))}
	facts := [][2]string{
		{"Also known as", strings.Join(img.AlsoKnownAs, ", ")},
		{"Digest", img.Digest},
		{"Platform", img.Platform + note(img.PlatformNote)},
	}
	if img.Error == "" {
		// What an incomplete scan says of the user and the base is not
		// known: left out, as the table does.
		facts = append(facts, [2]string{"User", userLine(img.User)}, [2]string{"Base", baseLine(img.Base)},
			[2]string{"Contents", contentsLine(img.Stats)})
	}
	if img.SBOM != nil {
		facts = append(facts, [2]string{"Packages", sbomLine(img.SBOM)})
	}
	for _, f := range facts {
		if f[1] != "" {
			h.Facts = append(h.Facts, [2]string{f[0], Escape(f[1])})
		}
	}
	if img.Error != "" {
		return h
	}
	open := sortedFindings(img.Findings, false)
	h.Timeline = timeline(img, open)
	hidden := 0
	for _, f := range sortedFindings(img.Findings, true) {
		if f.Suppressed != nil && !showSuppressed {
			hidden++
			continue
		}
		h.Findings = append(h.Findings, newHTMLFinding(f))
	}
	h.Hidden = hiddenText(hidden)
	fixes := remediations(open, rules)
	for _, cmd := range packageRemovals(open) {
		fixes = append(fixes, [2]string{"packages", "Remove the packages that ship these files: " + cmd + "."})
	}
	if names := essentialPackages(open); len(names) > 0 {
		fixes = append(fixes, [2]string{"packages", essentialAdvice(names)})
	}
	for _, f := range fixes {
		h.Fixes = append(h.Fixes, [2]string{Escape(f[0]), Escape(oneLine(f[1]))})
	}
	return h
}

// timeline lists the image's layers in order, each with the unsuppressed
// findings it added grouped by check (worst first), then the findings of
// the image config and those of no layer.
func timeline(img *report.Image, open []report.Finding) []htmlStep {
	byLayer := map[int][]report.Finding{}
	var config, none []report.Finding
	var configBy string
	for _, f := range open {
		switch {
		case f.Layer == nil:
			none = append(none, f)
		case f.Layer.Index < 0:
			config = append(config, f)
			if configBy == "" {
				configBy = f.Layer.CreatedBy
			}
		default:
			byLayer[f.Layer.Index] = append(byLayer[f.Layer.Index], f)
		}
	}
	var steps []htmlStep
	seen := map[int]bool{}
	for _, l := range img.Layers {
		seen[l.Index] = true
		steps = append(steps, htmlStep{Label: fmt.Sprintf("Layer %d", l.Index), Size: HumanBytes(l.Size),
			CreatedBy: Escape(clip(oneLine(l.CreatedBy), 300)), Groups: groupByCheck(byLayer[l.Index])})
	}
	// Findings of a layer the image's layer list does not name.
	var rest []int
	for idx := range byLayer {
		if !seen[idx] {
			rest = append(rest, idx)
		}
	}
	slices.Sort(rest)
	for _, idx := range rest {
		fs := byLayer[idx]
		steps = append(steps, htmlStep{Label: fmt.Sprintf("Layer %d", idx),
			CreatedBy: Escape(clip(oneLine(fs[0].Layer.CreatedBy), 300)), Groups: groupByCheck(fs)})
	}
	if len(config) > 0 {
		steps = append(steps, htmlStep{Label: "Image config", CreatedBy: Escape(clip(oneLine(configBy), 300)), Groups: groupByCheck(config)})
	}
	if len(none) > 0 {
		steps = append(steps, htmlStep{Label: "Whole image", Groups: groupByCheck(none)})
	}
	return steps
}

// groupByCheck groups sorted findings by check, in order of first
// appearance (so worst first), listing each finding's path or name.
func groupByCheck(fs []report.Finding) []htmlGroup {
	var groups []htmlGroup
	at := map[string]int{}
	for _, f := range fs {
		i, ok := at[f.ID]
		if !ok {
			i = len(groups)
			at[f.ID] = i
			groups = append(groups, htmlGroup{Check: Escape(f.ID), Severity: f.Severity.String()})
		}
		g := &groups[i]
		item := f.Path
		if item == "" {
			item = f.Name
		}
		if item == "" {
			item = f.Title
		}
		if len(g.Items) < htmlGroupItems {
			g.Items = append(g.Items, Escape(oneLine(item)))
		} else {
			g.More++
		}
	}
	return groups
}

func newHTMLFinding(f report.Finding) htmlFinding {
	h := htmlFinding{Severity: f.Severity.String(), Check: Escape(f.ID), Title: Escape(oneLine(f.Title))}
	switch {
	case f.Path != "" && f.Name != "" && !strings.HasSuffix(f.Path, "/"+f.Name):
		h.Where = f.Path + " (" + f.Name + ")"
	case f.Path != "":
		h.Where = f.Path
	default:
		h.Where = f.Name
	}
	h.Where = Escape(h.Where)
	if len(f.Aliases) > 0 {
		h.Also = Escape("also " + strings.Join(f.Aliases, ", "))
	}
	if f.Deleted {
		h.Detail = append(h.Detail, "deleted by a later layer, still shipped in this one")
	}
	if f.Detail != "" {
		h.Detail = append(h.Detail, Escape(oneLine(f.Detail)))
	}
	if f.Package != nil {
		h.Package = Escape(packageLine(f.Package))
	}
	if f.Layer != nil {
		h.Layer = layerLabel(f.Layer)
		if f.Layer.CreatedBy != "" {
			h.Layer += ": " + Escape(clip(oneLine(f.Layer.CreatedBy), 120))
		}
	}
	if s := f.Suppressed; s != nil {
		h.Suppressed = Escape(suppressedText(s))
	}
	return h
}

// htmlPage parses the page template; parsed per call (well under a
// millisecond) since a package-level template could be changed by anyone
// in the package.
func htmlPage() *template.Template {
	return template.Must(template.New("report").Parse(htmlTemplate))
}

// htmlTemplate is the page. Its CSS is fixed text: no value reaches it.
const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imgaudit report: {{.Verdict.Label}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; margin: 0 auto; padding: 1.5em; max-width: 1200px; }
h1 { font-size: 1.6em; margin: 0 0 .4em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
h4 { font-size: 1em; margin: 1em 0 .3em; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .4em 0; }
th, td { border: 1px solid #d0d7de; padding: .3em .55em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.n { text-align: right; }
.verdict { font-size: 1.15em; padding: .6em .9em; border-radius: 6px; margin: .4em 0; }
.label { font-weight: 700; letter-spacing: .03em; }
.v-fail, .v-error { background: #ffebe9; border: 1px solid #cf222e; }
.v-pass, .v-clean { background: #dafbe1; border: 1px solid #1a7f37; }
.v-findings { background: #fff8c5; border: 1px solid #9a6700; }
.tag { display: inline-block; padding: 0 .45em; border-radius: 4px; font-size: .85em; font-weight: 600; }
.tag.v-fail, .tag.v-error, .tag.v-pass, .tag.v-clean, .tag.v-findings { border-width: 1px; }
.sev { display: inline-block; min-width: 4.5em; text-align: center; border-radius: 4px; font-size: .85em; font-weight: 600; padding: 0 .3em; }
.s-critical { background: #82071e; color: #fff; }
.s-high { background: #cf222e; color: #fff; }
.s-medium { background: #f0a52b; color: #1f2328; }
.s-low { background: #fbe29f; color: #1f2328; }
.s-info { background: #ddf4ff; color: #1f2328; }
.heat td.cell { text-align: center; min-width: 2.4em; font-weight: 600; }
.heat td.empty { background: #fafbfc; color: #8c959f; }
.heat th.cat { font-weight: 600; font-size: .9em; }
.heat td.ref { min-width: 18em; overflow-wrap: break-word; }
.chips span { margin-right: .6em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; margin: .4em 0; }
dl.facts dt { font-weight: 600; color: #57606a; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ol.timeline { list-style: none; padding-left: 0; border-left: 3px solid #d0d7de; margin-left: .4em; }
ol.timeline > li { position: relative; padding: .25em 0 .5em 1.1em; }
ol.timeline > li::before { content: ""; position: absolute; left: -8px; top: .6em; width: 13px; height: 13px; border-radius: 50%; background: #8c959f; }
ol.timeline > li.adds::before { background: #cf222e; }
.step { font-weight: 600; }
.size { color: #57606a; margin-left: .4em; }
ul.groups { margin: .25em 0 0; padding-left: 1.1em; }
tr.suppressed td { color: #8c959f; }
tr.suppressed .sev { opacity: .55; }
.muted { color: #57606a; }
section.image { margin-top: 2.2em; }
footer { margin-top: 2.5em; color: #57606a; font-size: .9em; }
</style>
</head>
<body>
<header>
<h1>imgaudit report</h1>
<p class="verdict v-{{.Verdict.State}}"><span class="label">{{.Verdict.Label}}</span> — {{.Verdict.Text}}</p>
<p>{{.Totals}}</p>
<p class="chips">{{range .Severities}}<span><span class="sev s-{{.Severity}}">{{.Severity}}</span> {{.N}}</span>{{end}}</p>
</header>
{{if .Workloads}}
<section id="workloads">
<h2>Workloads</h2>
<table>
<thead><tr><th>Workload</th><th>Manifest</th><th>Verdict</th></tr></thead>
<tbody>
{{range .Workloads}}<tr><td>{{.Kind}} <a class="mono" href="#{{.Anchor}}">{{.Name}}</a></td><td class="mono">{{.Where}}</td><td><span class="tag v-{{.Verdict.State}}">{{.Verdict.Label}}</span> {{.Verdict.Text}}</td></tr>
{{end}}</tbody>
</table>
{{range .Workloads}}
<section class="workload" id="{{.Anchor}}">
<h3>{{.Kind}} <span class="mono">{{.Name}}</span> <span class="tag v-{{.Verdict.State}}">{{.Verdict.Label}}</span></h3>
<p class="muted mono">{{.Where}}</p>
{{range .Containers}}<h4>{{.Kind}} <span class="mono">{{.Name}}</span></h4>
<p>Image <span class="mono">{{.Image}}</span>{{if .PodSecurity}}; Pod Security: <strong>{{.PodSecurity}}</strong>{{end}}</p>
{{if .Error}}<p class="verdict v-error">Image not audited: {{.Error}}</p>{{end}}
{{if .Violations}}<ul class="muted">{{range .Violations}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Findings}}<table class="findings">
<thead><tr><th>Severity</th><th>Check</th><th>Finding</th><th>Remediation</th></tr></thead>
<tbody>
{{range .Findings}}<tr{{if .Muted}} class="suppressed"{{end}}><td><span class="sev s-{{.Severity}}">{{.Severity}}</span></td><td class="mono">{{.Check}}</td><td>{{.Message}}{{if .Path}}<br><span class="mono">{{.Path}}</span>{{end}}{{if .Status}}<br><em>{{.Status}}</em>{{end}}</td><td>{{.Remediation}}</td></tr>
{{end}}</tbody>
</table>{{else}}{{if not .Error}}<p class="muted">No findings.</p>{{end}}{{end}}
{{if .Hidden}}<p class="muted">{{.Hidden}}</p>{{end}}
{{end}}</section>
{{end}}
<p class="muted">The images below are those of the workloads' containers; their findings before the pod specs are applied.</p>
</section>
{{end}}
{{if .Rows}}
<section id="heatmap">
<h2>Findings by image and category</h2>
{{if .Categories}}<p class="muted">Unsuppressed findings per image and category; a cell has the colour of its worst severity.</p>{{end}}
<table class="heat">
<thead><tr><th>Image</th><th>Verdict</th>{{range .Categories}}<th class="cat">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><td class="mono ref"><a href="#{{.Anchor}}">{{.Reference}}</a></td><td><span class="tag v-{{.Verdict.State}}">{{.Verdict.Label}}</span></td>{{if .Error}}{{if .Cells}}<td class="cell empty" colspan="{{len .Cells}}">not scanned completely</td>{{end}}{{else}}{{range .Cells}}{{if .N}}<td class="cell s-{{.Severity}}">{{.N}}</td>{{else}}<td class="cell empty">·</td>{{end}}{{end}}{{end}}</tr>
{{end}}</tbody>
</table>
</section>
{{end}}
{{if .HasFleet}}
<section id="fleet">
<h2>Fleet</h2>
<p>{{.FleetLine}}</p>
{{if .Layers}}<h3>Layers that bring findings into most images</h3>
<table>
<thead><tr><th>Layer (diffID)</th><th>Created by</th><th>Images</th><th>Findings</th><th>Categories</th></tr></thead>
<tbody>
{{range .Layers}}<tr><td class="mono">{{.DiffID}}</td><td><code>{{.CreatedBy}}</code></td><td class="n">{{.Images}}</td><td class="n">{{.Findings}}</td><td>{{.Categories}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{if .Regress}}<h3>Regressions</h3>
<ul>{{range .Regress}}<li>{{.}}</li>{{end}}</ul>{{end}}
</section>
{{end}}
{{range .Images}}
<section class="image" id="{{.Anchor}}">
<h2 class="mono">{{.Reference}}</h2>
<p class="verdict v-{{.Verdict.State}}"><span class="label">{{.Verdict.Label}}</span> — {{.Verdict.Text}}</p>
{{if .Facts}}<dl class="facts">{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>{{end}}
{{if .Timeline}}<h3>Layer timeline</h3>
<ol class="timeline">
{{range .Timeline}}<li{{if .Groups}} class="adds"{{end}}><span class="step">{{.Label}}</span>{{if .Size}}<span class="size">{{.Size}}</span>{{end}}{{if .CreatedBy}} <code>{{.CreatedBy}}</code>{{end}}
{{if .Groups}}<ul class="groups">{{range .Groups}}<li><span class="sev s-{{.Severity}}">{{.Severity}}</span> <strong>{{.Check}}</strong> ({{len .Items}}{{if .More}}+{{.More}}{{end}}): <span class="mono">{{range $i, $p := .Items}}{{if $i}}, {{end}}{{$p}}{{end}}</span>{{if .More}} … and {{.More}} more{{end}}</li>{{end}}</ul>{{end}}</li>
{{end}}</ol>{{end}}
{{if .Findings}}<h3>Findings</h3>
<table class="findings">
<thead><tr><th>Severity</th><th>Check</th><th>Path / name</th><th>Detail</th><th>Package</th><th>Layer</th></tr></thead>
<tbody>
{{range .Findings}}<tr{{if .Suppressed}} class="suppressed"{{end}}><td><span class="sev s-{{.Severity}}">{{.Severity}}</span></td><td class="mono">{{.Check}}</td><td>{{if .Where}}<span class="mono">{{.Where}}</span>{{end}}{{if .Also}}<br><span class="muted mono">{{.Also}}</span>{{end}}</td><td>{{.Title}}{{range .Detail}}<br>{{.}}{{end}}{{if .Suppressed}}<br><em>{{.Suppressed}}</em>{{end}}</td><td>{{.Package}}</td><td class="mono">{{.Layer}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{if .Hidden}}<p class="muted">{{.Hidden}}</p>{{end}}
{{if .Fixes}}<h3>How to fix</h3>
<ul>{{range .Fixes}}<li><strong>{{index . 0}}</strong>: {{index . 1}}</li>{{end}}</ul>{{end}}
</section>
{{end}}
{{if .Warnings}}<h2>Warnings</h2>
<ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
<footer>{{if .Policy}}<p>Policy: {{.Policy}}</p>{{end}}<p>{{.Tool}}</p></footer>
</body>
</html>
`
