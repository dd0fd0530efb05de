// Package output renders a report.Report for people (table, markdown, and
// html, a self-contained page) and for programs (json, jsonl, sarif). Every
// renderer writes to an io.Writer and does nothing else: no files, no
// terminal probing (the caller says whether colour is wanted).
//
// All renderers are deterministic: the same report gives the same bytes.
// Findings are shown worst first (severity, then check ID, path and name);
// images keep the report's order.
package output

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// Format names an output format.
type Format string

// Output formats.
const (
	FormatTable    Format = "table"
	FormatJSON     Format = "json"
	FormatSARIF    Format = "sarif"
	FormatMarkdown Format = "markdown"
	// FormatJSONL writes one JSON object per line: one per image, as soon as
	// it is done when the caller streams (see WriteJSONLImage), then, in a
	// workload run, one per workload (WriteJSONLWorkload: the workload with
	// its containers, each with its findings, and its verdict — the unit
	// the gate decides, so a consumer needs no other line to act on it),
	// then one with the summary. A shard's report (--shard I/N) starts
	// with a line holding only the shard (WriteJSONLShard), which its
	// summary line repeats. Every line carries schemaVersion; a line is
	// told by its key: shard (with no summary), image, workload or summary.
	FormatJSONL Format = "jsonl"
	// FormatHTML is one self-contained page for a person (see WriteHTML).
	FormatHTML Format = "html"
)

// Formats lists the formats Write accepts, for help texts.
func Formats() []Format {
	return []Format{FormatTable, FormatJSON, FormatSARIF, FormatMarkdown, FormatJSONL, FormatHTML}
}

// FormatNames lists the format names, comma-separated, for help texts.
func FormatNames() string {
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// ParseFormat checks a format name ("md" is accepted for markdown).
func ParseFormat(s string) (Format, error) {
	if s == "md" {
		return FormatMarkdown, nil
	}
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", s, FormatNames())
}

// Options tune rendering.
type Options struct {
	// Color enables ANSI colours in the table.
	Color bool
	// Width is the width the table fits (the terminal's, when it is one);
	// 0 means TableWidth, and less than MinTableWidth means MinTableWidth.
	Width int
	// Details lists every finding on its own row in the table, with its
	// aliases and details; without it the findings of one check that one
	// package ships (or that no package owns) share a row.
	Details bool
	// MinSeverity hides the table's findings below it (a display filter:
	// the verdict, the counts and every other format are unchanged).
	MinSeverity report.Severity
	// ShowSuppressed lists suppressed findings in the table and markdown
	// (json and sarif always carry them, marked).
	ShowSuppressed bool
	// Rules describe the checks (see [Rule]); sarif turns them into its
	// rule descriptors, table and markdown use their remediation. A finding
	// whose check is not among them gets a rule made from the finding.
	Rules []Rule
}

// Rule describes one check, as the check catalogue does.
type Rule struct {
	ID       string
	Title    string
	Category string
	// Severity is the check's default severity.
	Severity    report.Severity
	Rationale   string
	Remediation string
	// Fix is the remediation in one short line, for the table's "Fix
	// first:" list; empty to use Remediation.
	Fix string
	// Profile is the least strict gate profile the check belongs to
	// (baseline, hardened), "" for none.
	Profile string
}

// Write renders r in format f to w.
func Write(w io.Writer, f Format, r *report.Report, o Options) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatTable:
		return WriteTable(w, r, o)
	case FormatSARIF:
		return WriteSARIF(w, r, o)
	case FormatMarkdown:
		return WriteMarkdown(w, r, o)
	case FormatHTML:
		return WriteHTML(w, r, o)
	case FormatJSONL:
		if r.Shard != nil {
			if err := WriteJSONLShard(w, r.Shard); err != nil {
				return err
			}
		}
		for i := range r.Images {
			if err := WriteJSONLImage(w, r.Images[i]); err != nil {
				return err
			}
		}
		for i := range r.Workloads {
			if err := WriteJSONLWorkload(w, r.Workloads[i]); err != nil {
				return err
			}
		}
		return WriteJSONLSummary(w, r)
	}
	return fmt.Errorf("unknown format %q", f)
}

// WriteJSON writes the report as indented JSON (schema version
// report.SchemaVersion), followed by a newline. Lists and maps are never
// null: an image without findings has "findings": [].
func WriteJSON(w io.Writer, r *report.Report) error {
	enc := json.NewEncoder(commandSafe{w})
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normalized(r)); err != nil {
		return fmt.Errorf("writing json: %w", err)
	}
	return nil
}

// JSONLImage is one image line of the jsonl format.
type JSONLImage struct {
	SchemaVersion int          `json:"schemaVersion"`
	Image         report.Image `json:"image"`
}

// JSONLSummary is the last line of the jsonl format.
type JSONLSummary struct {
	SchemaVersion int            `json:"schemaVersion"`
	Tool          report.Tool    `json:"tool"`
	Summary       report.Summary `json:"summary"`
	Gate          *report.Gate   `json:"gate,omitempty"`
	// Skipped counts the objects of a workload run's manifests that run
	// no pods, by kind (report.Report.Skipped).
	Skipped []report.SkippedKind `json:"skipped,omitempty"`
	// Policy and Warnings are the report's (report.Report.Policy and
	// .Warnings), absent when there is no policy and no warning.
	Policy   *report.PolicyRef `json:"policy,omitempty"`
	Warnings []report.Warning  `json:"warnings,omitempty"`
	// Shard repeats the first line of a shard's report (--shard I/N), with
	// the shard's audit errors: the line that says the shard is complete.
	Shard *report.Shard `json:"shard,omitempty"`
}

// JSONLShard is the first line of a shard's report (--shard I/N).
type JSONLShard struct {
	SchemaVersion int          `json:"schemaVersion"`
	Shard         report.Shard `json:"shard"`
}

// WriteJSONLShard writes the first line of a shard's jsonl report: which
// shard of which audit it is (without the errors, known only at the end).
func WriteJSONLShard(w io.Writer, s *report.Shard) error {
	c := *s
	c.Errors = nil
	return writeLine(w, JSONLShard{SchemaVersion: report.SchemaVersion, Shard: c})
}

// WriteJSONLImage writes one image as a line of the jsonl format.
func WriteJSONLImage(w io.Writer, img report.Image) error {
	one := normalized(&report.Report{Images: []report.Image{img}})
	return writeLine(w, JSONLImage{SchemaVersion: report.SchemaVersion, Image: one.Images[0]})
}

// WriteJSONLSummary writes the closing summary line of the jsonl format.
func WriteJSONLSummary(w io.Writer, r *report.Report) error {
	n := normalized(r)
	return writeLine(w, JSONLSummary{SchemaVersion: report.SchemaVersion, Tool: n.Tool, Summary: n.Summary, Gate: n.Gate, Skipped: n.Skipped,
		Policy: n.Policy, Warnings: r.Warnings, Shard: n.Shard})
}

func writeLine(w io.Writer, v any) error {
	enc := json.NewEncoder(commandSafe{w})
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing jsonl: %w", err)
	}
	return nil
}

// normalized returns a copy of r whose required lists and maps are non-nil,
// so the JSON matches the published schema whoever built the report.
func normalized(r *report.Report) *report.Report {
	c := *r
	if c.Warnings == nil {
		c.Warnings = []report.Warning{} // `jq '.warnings[]'` works on every report
	}
	c.Images = make([]report.Image, len(r.Images))
	for i, img := range r.Images {
		if img.Layers == nil {
			img.Layers = []report.Layer{}
		}
		if img.Findings == nil {
			img.Findings = []report.Finding{}
		}
		if img.SBOM != nil && img.SBOM.ByType == nil {
			s := *img.SBOM
			s.ByType = map[string]int{}
			img.SBOM = &s
		}
		c.Images[i] = img
	}
	if r.Workloads != nil {
		c.Workloads = make([]report.Workload, len(r.Workloads))
		for i, wl := range r.Workloads {
			cs := make([]report.Container, len(wl.Containers))
			for j, ct := range wl.Containers {
				if ct.Findings == nil {
					ct.Findings = []report.Finding{}
				}
				if ct.PodSecurity.Violations == nil {
					ct.PodSecurity.Violations = []report.PSSViolation{}
				}
				if sc := ct.SecurityContext; sc != nil && sc.Capabilities.Bounding == nil {
					n := *sc
					n.Capabilities.Bounding = []string{}
					ct.SecurityContext = &n
				}
				cs[j] = ct
			}
			wl.Containers = cs
			c.Workloads[i] = wl
		}
	}
	if c.Summary.BySeverity == nil {
		c.Summary.BySeverity = map[report.Severity]int{}
	}
	if c.Summary.ByCategory == nil {
		c.Summary.ByCategory = map[string]int{}
	}
	if ws := c.Summary.Workloads; ws != nil && (ws.BySeverity == nil || ws.ByCategory == nil) {
		n := *ws
		if n.BySeverity == nil {
			n.BySeverity = map[report.Severity]int{}
		}
		if n.ByCategory == nil {
			n.ByCategory = map[string]int{}
		}
		c.Summary.Workloads = &n
	}
	return &c
}

// sortedFindings returns the findings to show, worst first: all of them, or
// only the unsuppressed ones.
func sortedFindings(fs []report.Finding, withSuppressed bool) []report.Finding {
	out := make([]report.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Suppressed == nil || withSuppressed {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, compareFindings)
	return out
}

func compareFindings(a, b report.Finding) int {
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// verdict is the one-line conclusion about one image, as the report's gate
// decided it (policy.Evaluate): renderers read verdicts, never decide them.
type verdict struct {
	// state is "error" (not scanned completely), "fail", "pass", or ""
	// when the report carries no gate.
	state      string
	failOn     string
	profile    string // the gate's profile, "" for none
	failing    int    // unsuppressed findings at or above failOn
	failOnNew  string // set when a baseline's added findings are gated
	failingNew int    // unsuppressed added findings at or above failOnNew
	findings   int    // unsuppressed findings
	counts     string // "1 critical, 2 high"
	suppressed int
	err        string
}

func imageVerdict(r *report.Report, img *report.Image) verdict {
	v := verdict{err: img.Error}
	counts := map[report.Severity]int{}
	for _, f := range img.Findings {
		if f.Suppressed != nil {
			v.suppressed++
			continue
		}
		v.findings++
		counts[f.Severity]++
	}
	sevs := slices.Collect(maps.Keys(counts))
	slices.Sort(sevs)
	parts := make([]string, 0, len(sevs))
	for _, s := range slices.Backward(sevs) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	v.counts = strings.Join(parts, ", ")
	g := img.Gate
	switch {
	case img.Error != "" || (g != nil && g.Verdict == report.Incomplete):
		v.state = "error"
	case g != nil && r.Gate != nil:
		v.failOn, v.profile, v.failing = r.Gate.FailOn, r.Gate.Profile, g.Failing
		v.failOnNew, v.failingNew = r.Gate.FailOnNew, g.FailingNew
		v.state = "pass"
		if g.Verdict == report.Fail {
			v.state = "fail"
		}
	}
	return v
}

// gatePhrase says what a failing finding reached: "at or above high",
// "failing the hardened profile", or both.
func gatePhrase(failOn, profile string) string {
	switch {
	case profile == "":
		return "at or above " + failOn
	case failOn == "" || failOn == "none":
		return "failing the " + profile + " profile"
	}
	return "failing the " + profile + " profile or at or above " + failOn
}

// verdictCounts counts the images whose verdict is fail, error, and the
// others that have no finding at all.
func verdictCounts(r *report.Report) (failed, errs, clean int) {
	for i := range r.Images {
		switch v := imageVerdict(r, &r.Images[i]); v.state {
		case "fail":
			failed++
		case "error":
			errs++
		default:
			if v.findings == 0 {
				clean++
			}
		}
	}
	return failed, errs, clean
}

// text renders the verdict without its label.
func (v verdict) text() string {
	var b strings.Builder
	switch v.state {
	case "error":
		return "scan incomplete, image not assessed: " + v.err
	case "fail":
		shown := v.failing
		switch {
		case v.failOnNew != "" && v.failing == 0:
			fmt.Fprintf(&b, "%s at or above %s", plural(v.failingNew, "new finding"), v.failOnNew)
			shown = v.failingNew
		case v.failingNew > 0:
			fmt.Fprintf(&b, "%s %s, %s at or above %s", plural(v.failing, "finding"), gatePhrase(v.failOn, v.profile),
				plural(v.failingNew, "new finding"), v.failOnNew)
		default:
			fmt.Fprintf(&b, "%s %s", plural(v.failing, "finding"), gatePhrase(v.failOn, v.profile))
		}
		if v.findings > shown {
			fmt.Fprintf(&b, " (%s in all: %s)", plural(v.findings, "finding"), v.counts)
		} else {
			fmt.Fprintf(&b, " (%s)", v.counts)
		}
	case "pass":
		switch {
		case v.findings == 0:
			b.WriteString("no findings")
		case v.failOnNew != "":
			fmt.Fprintf(&b, "no new finding at or above %s (%s: %s)", v.failOnNew, plural(v.findings, "finding"), v.counts)
		default:
			fmt.Fprintf(&b, "no finding %s (%s: %s)", gatePhrase(v.failOn, v.profile), plural(v.findings, "finding"), v.counts)
		}
	default:
		if v.findings == 0 {
			b.WriteString("no findings")
		} else {
			fmt.Fprintf(&b, "%s (%s)", plural(v.findings, "finding"), v.counts)
		}
	}
	if v.suppressed > 0 {
		fmt.Fprintf(&b, "; %d suppressed by policy", v.suppressed)
	}
	return b.String()
}

// label is the verdict's one-word summary.
func (v verdict) label() string {
	switch v.state {
	case "error":
		return "ERROR"
	case "fail":
		return "FAIL"
	case "pass":
		return "PASS"
	}
	if v.findings > 0 {
		return "FINDINGS"
	}
	return "CLEAN"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ruleIndex looks rules up by check ID.
type ruleIndex map[string]*Rule

func indexRules(rules []Rule) ruleIndex {
	idx := make(ruleIndex, len(rules))
	for i := range rules {
		idx[rules[i].ID] = &rules[i]
	}
	return idx
}

// remediations lists, per check ID in order of first appearance, the
// remediation to show: the catalogue's, else the first finding's.
func remediations(fs []report.Finding, rules ruleIndex) [][2]string {
	var out [][2]string
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.ID] {
			continue
		}
		seen[f.ID] = true
		text := f.Remediation
		if r := rules[f.ID]; r != nil && r.Remediation != "" {
			text = r.Remediation
		}
		if text != "" {
			out = append(out, [2]string{f.ID, text})
		}
	}
	return out
}

// layerLabel names a finding's layer: "3", "config" when the history step
// made no layer, "" when unknown.
func layerLabel(l *report.LayerRef) string {
	switch {
	case l == nil:
		return ""
	case l.Index < 0:
		return "config"
	}
	return fmt.Sprint(l.Index)
}

// oneLine collapses whitespace and drops the legacy "#(nop)" shell prefix
// of history steps.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimPrefix(s, "/bin/sh -c #(nop) ")
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// HumanBytes renders a byte count in binary units: "512 B", "1.5 MiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func userLine(u report.User) string {
	conf := u.Configured
	if conf == "" {
		conf = "(unset)"
	}
	switch {
	case u.Root:
		return conf + " — root"
	case !u.Verifiable && u.UID != nil:
		// A name that /etc/passwd resolves: non-root here, but the kubelet
		// cannot check it for runAsNonRoot.
		return fmt.Sprintf("%s — uid %d, a name: runAsNonRoot cannot verify it", conf, *u.UID)
	case !u.Verifiable:
		return conf + " — not verifiable as non-root"
	case u.UID != nil:
		return fmt.Sprintf("%s — uid %d", conf, *u.UID)
	}
	return conf
}

func baseLine(b report.Base) string {
	if b.Kind == "" {
		return ""
	}
	s := b.Kind
	if b.OSRelease != nil && b.OSRelease.PrettyName != "" {
		s += " (" + b.OSRelease.PrettyName + ")"
	}
	if b.Distroless {
		s += " — no shell, no package manager"
	}
	return s
}

func contentsLine(s report.Stats) string {
	line := fmt.Sprintf("%s in %s, %s compressed, %s uncompressed",
		plural(s.Files, "file"), plural(s.Layers, "layer"), HumanBytes(s.CompressedBytes), HumanBytes(s.UncompressedBytes))
	if s.DeletedFiles > 0 {
		line += fmt.Sprintf(", %s deleted by later layers but still shipped", plural(s.DeletedFiles, "file"))
	}
	return line
}
