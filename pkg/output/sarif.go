package output

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// SARIF constants.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// FingerprintKey names imgaudit's entry in a result's
	// partialFingerprints.
	FingerprintKey = "imgauditFinding/v1"
	toolURI        = "https://github.com/imgaudit/imgaudit"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifMultiformat struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	ShortDescription     sarifText        `json:"shortDescription"`
	FullDescription      sarifText        `json:"fullDescription"`
	Help                 sarifMultiformat `json:"help"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties sarifRuleProperties `json:"properties"`
}

type sarifRuleProperties struct {
	Tags []string `json:"tags"`
	// SecuritySeverity is the CVSS-like score GitHub code scanning ranks
	// alerts by, as a string.
	SecuritySeverity string          `json:"security-severity"`
	Precision        string          `json:"precision"`
	ProblemSeverity  string          `json:"problem.severity"`
	Category         string          `json:"category,omitempty"`
	Severity         report.Severity `json:"severity"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	BaselineState       string             `json:"baselineState,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			StartLine int `json:"startLine"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

type sarifResultProps struct {
	Image    string           `json:"image"`
	Digest   string           `json:"imageDigest,omitempty"`
	Platform string           `json:"platform,omitempty"`
	Severity report.Severity  `json:"severity"`
	Category string           `json:"category"`
	Path     string           `json:"path,omitempty"`
	Aliases  []string         `json:"aliases,omitempty"`
	Name     string           `json:"name,omitempty"`
	Deleted  bool             `json:"deleted,omitempty"`
	Layer    *report.LayerRef `json:"layer,omitempty"`
	Policy   string           `json:"suppressedBy,omitempty"`
	Expires  string           `json:"suppressionExpires,omitempty"`
}

// WriteSARIF writes the report as SARIF 2.1.0 for GitHub code scanning and
// other SARIF consumers: one run; one rule per check (o.Rules, in order,
// then any check only the findings name), each with help text, a numeric
// security-severity and tags; one result per finding, each with a location
// GitHub accepts and a partial fingerprint that survives rebuilds (check,
// repository without tag or digest, platform, path, name, deleted).
//
// A finding has no source file: its location is the image, as a relative
// URI made from the repository ("registry.example.com:5000/team/app:1.2"
// gives "registry.example.com_5000/team/app") followed by the finding's
// path in the image, at line 1. Suppressed findings carry a SARIF
// suppression with the policy's reason. Images that could not be scanned
// make the invocation unsuccessful, with one error notification each.
func WriteSARIF(w io.Writer, r *report.Report, o Options) error {
	rules, index := sarifRules(r, o.Rules)
	inv := sarifInvocation{ExecutionSuccessful: true}
	results := []sarifResult{}
	for _, img := range r.Images {
		if img.Error != "" {
			inv.ExecutionSuccessful = false
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level: "error", Message: sarifText{Text: "scan incomplete, image not assessed: " + img.Error},
			})
		}
		base := imageURI(img.Reference, img.Platform)
		results = append(results, sarifImageResults(&img, base, index)...)
	}
	results = append(results, sarifWorkloadResults(r, index)...)
	for _, wn := range r.Warnings {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level: "warning", Message: sarifText{Text: wn.Message},
		})
	}
	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name: r.Tool.Name, Version: r.Tool.Version, InformationURI: toolURI, Rules: rules,
			}},
			Invocations: []sarifInvocation{inv},
			Results:     results,
		}},
	}
	if log.Runs[0].Tool.Driver.Name == "" {
		log.Runs[0].Tool.Driver.Name = "imgaudit"
	}
	enc := json.NewEncoder(commandSafe{w})
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("writing sarif: %w", err)
	}
	return nil
}

// sarifImageResults are an image's results. Compared with a baseline
// (img.Diff), each carries its baselineState as GitHub code scanning reads
// it: new (added) or unchanged, and the removed findings follow as absent.
func sarifImageResults(img *report.Image, base string, index map[string]int) []sarifResult {
	var out []sarifResult
	added := map[string]bool{}
	if img.Diff != nil {
		for _, f := range img.Diff.Added {
			added[findingKey(f)] = true
		}
	}
	for _, f := range sortedFindings(img.Findings, true) {
		res := sarifFinding(img, base, f, index[f.ID])
		if img.Diff != nil {
			res.BaselineState = "unchanged"
			if added[findingKey(f)] {
				res.BaselineState = "new"
			}
		}
		out = append(out, res)
	}
	if img.Diff != nil {
		for _, f := range sortedFindings(img.Diff.Removed, true) {
			if i, ok := index[f.ID]; ok {
				res := sarifFinding(img, base, f, i)
				res.BaselineState = "absent"
				out = append(out, res)
			}
		}
	}
	return out
}

// findingKey tells an image's findings apart.
func findingKey(f report.Finding) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%t", f.ID, f.Path, f.Name, f.Deleted)
}

// sarifRules builds the rule descriptors: the catalogue's, then a rule for
// each check ID that only findings name, sorted. index maps IDs to their
// position.
func sarifRules(r *report.Report, catalogue []Rule) ([]sarifRule, map[string]int) {
	index := map[string]int{}
	var rules []sarifRule
	for _, c := range catalogue {
		if _, dup := index[c.ID]; dup || c.ID == "" {
			continue
		}
		index[c.ID] = len(rules)
		rules = append(rules, sarifRuleOf(c))
	}
	var extra []Rule
	seen := map[string]bool{}
	lists := make([][]report.Finding, 0, len(r.Images))
	for _, img := range r.Images {
		lists = append(lists, img.Findings)
	}
	for _, wl := range r.Workloads {
		for _, c := range wl.Containers {
			lists = append(lists, c.Findings)
		}
	}
	for _, fs := range lists {
		for _, f := range fs {
			if _, ok := index[f.ID]; ok || seen[f.ID] {
				continue
			}
			seen[f.ID] = true
			extra = append(extra, Rule{ID: f.ID, Title: f.Title, Category: f.Category, Severity: f.Severity, Remediation: f.Remediation})
		}
	}
	slices.SortFunc(extra, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	for _, c := range extra {
		index[c.ID] = len(rules)
		rules = append(rules, sarifRuleOf(c))
	}
	if rules == nil {
		rules = []sarifRule{}
	}
	return rules, index
}

func sarifRuleOf(c Rule) sarifRule {
	title := c.Title
	if title == "" {
		title = c.ID
	}
	full := c.Rationale
	if full == "" {
		full = title
	}
	sr := sarifRule{
		ID:               c.ID,
		Name:             ruleName(c.ID),
		ShortDescription: sarifText{Text: title},
		FullDescription:  sarifText{Text: full},
	}
	// The catalogue's rationale and remediation are written as Markdown
	// (docs/checks.md shows them as they are), so they go in unescaped.
	var text, md strings.Builder
	text.WriteString(title)
	fmt.Fprintf(&md, "**%s**", mdText(title))
	if c.Rationale != "" {
		fmt.Fprintf(&text, "\n\nWhy it matters: %s", c.Rationale)
		fmt.Fprintf(&md, "\n\n**Why it matters:** %s", c.Rationale)
	}
	if c.Remediation != "" {
		fmt.Fprintf(&text, "\n\nHow to fix: %s", c.Remediation)
		fmt.Fprintf(&md, "\n\n**How to fix:** %s", c.Remediation)
	}
	fmt.Fprintf(&text, "\n\nCheck %s, category %s, default severity %s.", c.ID, orDash(c.Category), c.Severity)
	fmt.Fprintf(&md, "\n\nCheck `%s`, category `%s`, default severity **%s**.", c.ID, orDash(c.Category), c.Severity)
	sr.Help = sarifMultiformat{Text: text.String(), Markdown: md.String()}
	sr.DefaultConfiguration.Level = sarifLevel(c.Severity)
	tags := []string{"security", "container", "hardening"}
	if c.Category != "" && !slices.Contains(tags, c.Category) {
		tags = append(tags, c.Category)
	}
	sr.Properties = sarifRuleProperties{
		Tags:             tags,
		SecuritySeverity: securitySeverity(c.Severity),
		Precision:        "very-high",
		ProblemSeverity:  problemSeverity(c.Severity),
		Category:         c.Category,
		Severity:         c.Severity,
	}
	return sr
}

func sarifFinding(img *report.Image, base string, f report.Finding, ruleIndex int) sarifResult {
	res := sarifResult{
		RuleID:    f.ID,
		RuleIndex: ruleIndex,
		Level:     sarifLevel(f.Severity),
		Message:   sarifText{Text: sarifMessage(img, f)},
		PartialFingerprints: map[string]string{
			FingerprintKey: fingerprint(f, base, img.Platform),
		},
		Properties: sarifResultProps{
			Image: img.Reference, Digest: img.Digest, Platform: img.Platform,
			Severity: f.Severity, Category: f.Category,
			Path: f.Path, Aliases: f.Aliases, Name: f.Name, Deleted: f.Deleted, Layer: f.Layer,
		},
	}
	var loc sarifLocation
	loc.PhysicalLocation.ArtifactLocation.URI = joinURI(base, f.Path)
	loc.PhysicalLocation.Region.StartLine = 1
	res.Locations = []sarifLocation{loc}
	if s := f.Suppressed; s != nil {
		just := s.Reason
		if s.Expires != "" {
			just += " (until " + s.Expires + ")"
		}
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: just}}
		res.Properties.Policy, res.Properties.Expires = s.Policy, s.Expires
	}
	return res
}

// sarifMessage says what was found where, and which step added it.
func sarifMessage(img *report.Image, f report.Finding) string {
	var b strings.Builder
	b.WriteString(f.Title)
	switch {
	case f.Path != "":
		fmt.Fprintf(&b, ": %s", f.Path)
		if f.Name != "" && !strings.HasSuffix(f.Path, "/"+f.Name) {
			fmt.Fprintf(&b, " (%s)", f.Name)
		}
	case f.Name != "":
		fmt.Fprintf(&b, ": %s", f.Name)
	}
	fmt.Fprintf(&b, " in image %s", img.Reference)
	b.WriteString(".")
	if len(f.Aliases) > 0 {
		fmt.Fprintf(&b, " Also reachable as %s.", strings.Join(f.Aliases, ", "))
	}
	if f.Deleted {
		b.WriteString(" A later layer deletes it, but the layer below still ships it.")
	}
	if f.Detail != "" {
		fmt.Fprintf(&b, " %s", strings.TrimSuffix(oneLine(f.Detail), ".")+".")
	}
	if l := f.Layer; l != nil {
		switch {
		case l.Index < 0 && l.CreatedBy != "":
			fmt.Fprintf(&b, " Set by the image config: %s.", oneLine(l.CreatedBy))
		case l.Index >= 0 && l.CreatedBy != "":
			fmt.Fprintf(&b, " Added by layer %d: %s.", l.Index, oneLine(l.CreatedBy))
		case l.Index >= 0:
			fmt.Fprintf(&b, " Added by layer %d.", l.Index)
		}
	}
	if f.Remediation != "" {
		fmt.Fprintf(&b, " Fix: %s", oneLine(f.Remediation))
	}
	return b.String()
}

// fingerprint identifies a finding across rebuilds of the image: it leaves
// out digests, tags and layers, which change with every build.
func fingerprint(f report.Finding, base, platform string) string {
	h := sha256.New()
	for _, part := range []string{f.ID, base, platform, f.Path, f.Name, fmt.Sprint(f.Deleted)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// imageURI turns an image reference into a relative URI reference that
// names the repository: transport prefixes, tag, digest, the platform
// suffix and leading "../" are dropped, ':' becomes '_' (so no segment
// reads as a URI scheme), and each segment is percent-encoded.
func imageURI(ref, platform string) string {
	s := ref
	if platform != "" {
		s = strings.TrimSuffix(s, " ("+platform+")")
	}
	for _, p := range []string{"oci-archive:", "docker-archive:", "oci:"} {
		if strings.HasPrefix(s, p) {
			s = s[len(p):]
			break
		}
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		s = s[:i]
	}
	s = strings.ReplaceAll(s, `\`, "/")
	var segs []string
	for _, seg := range strings.Split(s, "/") {
		if seg == "" || seg == "." || seg == ".." {
			continue
		}
		segs = append(segs, url.PathEscape(strings.ReplaceAll(seg, ":", "_")))
	}
	if len(segs) == 0 {
		return "image"
	}
	return strings.Join(segs, "/")
}

// joinURI appends an absolute path in the image to the image's URI.
func joinURI(base, p string) string {
	segs := []string{base}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." {
			continue
		}
		if seg == ".." {
			seg = "%2E%2E" // a path that escapes the root stays inside the URI
		} else {
			seg = url.PathEscape(seg)
		}
		segs = append(segs, seg)
	}
	return strings.Join(segs, "/")
}

// ruleName turns "IA-PACKAGE-MANAGER" into "PackageManager".
func ruleName(id string) string {
	parts := strings.FieldsFunc(strings.ToLower(id), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	if len(parts) > 1 && parts[0] == "ia" {
		parts = parts[1:]
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

// sarifLevel maps a severity onto SARIF's levels; a severity above
// critical is an error.
func sarifLevel(s report.Severity) string {
	switch {
	case s >= report.High:
		return "error"
	case s == report.Medium:
		return "warning"
	}
	return "note"
}

// problemSeverity maps a severity onto the problem.severity property that
// GitHub code scanning reads.
func problemSeverity(s report.Severity) string {
	switch {
	case s >= report.High:
		return "error"
	case s == report.Medium:
		return "warning"
	}
	return "recommendation"
}

// securitySeverity maps a severity onto GitHub's scale: critical above 9.0,
// high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9. A severity above critical
// scores as critical.
func securitySeverity(s report.Severity) string {
	switch s {
	case report.Info:
		return "1.0"
	case report.Low:
		return "3.0"
	case report.Medium:
		return "5.5"
	case report.High:
		return "8.0"
	}
	return "9.5"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
