package output

import (
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// TableWidth is the width the table output fits in when Options.Width
// does not say (output that is not a terminal).
const TableWidth = 100

// MinTableWidth is the narrowest table: a narrower terminal still gets 80
// columns.
const MinTableWidth = 80

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiYel   = "\x1b[33m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
	ansiDim   = "\x1b[2m"
)

// painter renders for one output: colours or not, and the width to fit.
type painter struct {
	color bool
	width int
}

// newPainter takes the colour and width of o: TableWidth when o says
// none, never less than MinTableWidth.
func newPainter(o Options) painter {
	w := o.Width
	if w <= 0 {
		w = TableWidth
	}
	return painter{color: o.Color, width: max(w, MinTableWidth)}
}

func (p painter) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p painter) severity(s report.Severity) string {
	u := strings.ToUpper(s.String())
	switch {
	case s >= report.Critical:
		return p.paint(ansiBold+ansiRed, u)
	case s == report.High:
		return p.paint(ansiRed, u)
	case s == report.Medium:
		return p.paint(ansiYel, u)
	case s == report.Low:
		return p.paint(ansiCyan, u)
	}
	return u
}

// wrapVerdict wraps a verdict line to width, breaking before its
// parenthesised totals when they fit on a line of their own rather than
// inside them.
func wrapVerdict(line string, width int) string {
	if utf8.RuneCountInString(line) <= width {
		return noCommand(line)
	}
	if i := strings.LastIndex(line, " ("); i > 0 && strings.HasSuffix(line, ")") {
		head, tail := line[:i], "  "+line[i+1:]
		if utf8.RuneCountInString(tail) <= width {
			return wrapIndent(head, width, "  ") + "\n" + noCommand(tail)
		}
	}
	return wrapIndent(line, width, "  ")
}

// verdict renders the verdict line, wrapped to the width, its label
// coloured.
func (p painter) verdict(v verdict) string {
	label := "Verdict: " + v.label()
	line := wrapVerdict(label+" — "+Escape(v.text()), p.width)
	code := ansiBold
	switch v.state {
	case "error", "fail":
		code = ansiBold + ansiRed
	case "pass":
		code = ansiBold + ansiGreen
	}
	return p.paint(code, label) + strings.TrimPrefix(line, label)
}

// WriteTable renders the report for a person in a terminal, in at most
// TableWidth columns: per image a header, its layers, its findings worst
// first, how to fix them, and a one-line verdict; then the run's warnings.
func WriteTable(w io.Writer, r *report.Report, o Options) error {
	p := newPainter(o)
	if r.Workloads != nil {
		writeWorkloadTable(w, p, r, o)
	} else if err := writeImageTables(w, p, r, o); err != nil {
		return err
	}
	if r.Policy != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, wrapIndent("Policy: "+Escape(policyLine(r.Policy)), p.width, "  "))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, p.paint(ansiBold+ansiYel, "Warnings:"))
		for _, wn := range r.Warnings {
			fmt.Fprintln(w, wrapIndent("  "+Escape(wn.Message), p.width, "    "))
		}
	}
	return nil
}

// writeImageTables renders the images of a scan, with the run's totals
// and the fleet summary.
func writeImageTables(w io.Writer, p painter, r *report.Report, o Options) error {
	rules := indexRules(o.Rules)
	for i := range r.Images {
		if i > 0 {
			fmt.Fprintln(w)
			fmt.Fprintln(w, strings.Repeat("═", p.width))
			fmt.Fprintln(w)
		}
		if err := writeImageTable(w, p, r, &r.Images[i], o, rules); err != nil {
			return err
		}
	}
	if len(r.Images) > 1 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, runTotals(r))
	}
	if f := r.Summary.Fleet; f != nil {
		return writeFleet(w, p, r, f)
	}
	return nil
}

func writeImageTable(w io.Writer, p painter, r *report.Report, img *report.Image, o Options, rules ruleIndex) error {
	fmt.Fprintf(w, "%s %s\n", p.paint(ansiBold, "Image:"), Escape(img.Reference))
	v := imageVerdict(r, img)
	if img.Error != "" {
		fmt.Fprintln(w, p.verdict(v))
		return nil
	}
	if v.state != "" {
		// The verdict first, for a person; again at the end, for a CI log's
		// last lines.
		fmt.Fprintln(w, p.verdict(v))
	}
	kv := [][2]string{
		{"Also", strings.Join(img.AlsoKnownAs, ", ")},
		{"Digest", img.Digest},
		{"Platform", img.Platform + note(img.PlatformNote)},
		{"User", userLine(img.User)},
		{"Base", baseLine(img.Base)},
		{"Contents", contentsLine(img.Stats)},
	}
	if img.SBOM != nil {
		kv = append(kv, [2]string{"Packages", sbomLine(img.SBOM)})
	}
	for _, e := range kv {
		if e[1] == "" {
			continue
		}
		line := fmt.Sprintf("  %-10s%s", e[0]+":", Escape(e[1]))
		if alg, hex, ok := strings.Cut(Escape(e[1]), ":"); ok && e[0] == "Digest" && utf8.RuneCountInString(line) > p.width {
			// A digest too wide for the line: the hex on a line of its own,
			// whole, so that it can be copied.
			line = fmt.Sprintf("  %-10s%s:\n%s%s", "Digest:", alg, strings.Repeat(" ", 12), hex)
			fmt.Fprintln(w, line)
			continue
		}
		fmt.Fprintln(w, wrapIndent(line, p.width, strings.Repeat(" ", 12)))
	}
	if img.Diff != nil {
		writeDiff(w, p, img.Diff, o)
	}

	if len(img.Layers) > 0 {
		fmt.Fprintln(w)
		wIdx, wSize := len("#"), len("SIZE")
		for _, l := range img.Layers {
			wIdx = max(wIdx, len(fmt.Sprint(l.Index)))
			wSize = max(wSize, utf8.RuneCountInString(HumanBytes(l.Size)))
		}
		// 4 borders and 2 spaces of padding per column.
		room := p.width - 4 - 6 - wIdx - wSize
		lt := newTable(w)
		lt.Header([]string{"#", "SIZE", "CREATED BY"})
		for _, l := range img.Layers {
			if err := lt.Append([]string{fmt.Sprint(l.Index), HumanBytes(l.Size), clip(Escape(oneLine(l.CreatedBy)), room)}); err != nil {
				return fmt.Errorf("rendering layers: %w", err)
			}
		}
		if err := lt.Render(); err != nil {
			return fmt.Errorf("rendering layers: %w", err)
		}
	}

	open := sortedFindings(img.Findings, false)
	shown := open
	if o.MinSeverity > report.Info {
		shown = slices.DeleteFunc(slices.Clone(open), func(f report.Finding) bool { return f.Severity < o.MinSeverity })
	}
	failing := failingChecks(img.Gate)
	view := rowView{details: o.Details, versions: o.Details || p.width >= TableWidth}
	if !o.Details {
		view.summarize = func(f report.Finding) bool {
			return !failing[f.ID] && (len(failing) > 0 || f.Severity < report.Medium)
		}
	}
	multiLayer := len(img.Layers) > 1
	if len(shown) > 0 {
		fmt.Fprintln(w)
		rows := findingRows(shown, view)
		if err := findingsTable(w, p, rows, multiLayer); err != nil {
			return err
		}
		if slices.ContainsFunc(rows, func(r findingRow) bool { return r.summary }) {
			fmt.Fprintln(w, wrapIndent(summaryNote(len(failing) > 0), p.width, "  "))
		}
	}
	if n := len(open) - len(shown); n > 0 {
		fmt.Fprintf(w, "%s below %s not shown (--severity)\n", plural(n, "finding"), o.MinSeverity)
	}
	var suppressed []report.Finding
	if o.ShowSuppressed {
		for _, f := range sortedFindings(img.Findings, true) {
			if f.Suppressed != nil {
				suppressed = append(suppressed, f)
			}
		}
	}
	if len(suppressed) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s\n", p.paint(ansiBold, fmt.Sprintf("Suppressed by policy (%d):", len(suppressed))))
		if err := findingsTable(w, p, findingRows(suppressed, rowView{details: true, versions: true}), multiLayer); err != nil {
			return err
		}
	}
	writeFixes(w, p, open, rules, img.Gate, o.Details)
	fmt.Fprintln(w)
	fmt.Fprintln(w, p.verdict(v))
	return nil
}

// writeFixes renders how to fix the findings. With details, "How to
// fix:" gives every check's remediation in full and every package
// command. Otherwise "Fix first:" gives, in one line each where the
// catalogue has one (Rule.Fix), the fixes of the checks that fail the gate
// and the package commands for their files, then one line for the others
// (see fixFirst); when nothing fails the gate, every check's.
func writeFixes(w io.Writer, p painter, open []report.Finding, rules ruleIndex, g *report.ImageGate, details bool) {
	failing := failingChecks(g)
	fixes := remediations(open, rules)
	pkgs := open
	heading := "How to fix:"
	if !details {
		heading = "Fix first:"
		for i, f := range fixes {
			if r := rules[f[0]]; r != nil && r.Fix != "" {
				fixes[i][1] = r.Fix
			}
		}
		if len(failing) > 0 {
			pkgs = slices.DeleteFunc(slices.Clone(open), func(f report.Finding) bool { return !failing[f.ID] })
		}
	}
	for _, cmd := range packageRemovals(pkgs) {
		fixes = append(fixes, [2]string{"packages", "Remove the packages that ship these files: `" + cmd + "`."})
	}
	if names := essentialPackages(pkgs); len(names) > 0 {
		advice := essentialAdvice(names)
		if !details {
			advice = "Essential, so do not remove " + strings.Join(names, ", ") + "; use a distroless or minimal base."
		}
		fixes = append(fixes, [2]string{"packages", advice})
	}
	if !details {
		var rest []string
		fixes, rest = fixFirst(fixes, failing)
		if len(rest) > 0 {
			fixes = append(fixes, [2]string{"then", fmt.Sprintf("%d more %s: --details, or imgaudit checks ID", len(rest), map[bool]string{true: "check", false: "checks"}[len(rest) == 1])})
		}
	}
	if len(fixes) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, p.paint(ansiBold, heading))
	width := 0
	for _, f := range fixes {
		width = max(width, len(f[0]))
	}
	for _, f := range fixes {
		line := fmt.Sprintf("  %-*s  %s", width, f[0], Escape(oneLine(f[1])))
		fmt.Fprintln(w, wrapIndent(line, p.width, strings.Repeat(" ", width+4)))
	}
}

// failingChecks is the set of check IDs the gate names in its reasons
// ("IA-SHELL: 2 medium findings", "new IA-BASE: 1 low finding"); empty
// without a gate or when nothing fails it.
func failingChecks(g *report.ImageGate) map[string]bool {
	failing := map[string]bool{}
	if g != nil {
		for _, r := range g.Reasons {
			id, _, ok := strings.Cut(strings.TrimPrefix(r, "new "), ":")
			if ok && !strings.Contains(id, " ") {
				failing[id] = true
			}
		}
	}
	return failing
}

// fixFirst keeps, of the checks' remediations, those of the failing
// checks and the package lines; it returns the IDs of the others. When
// nothing fails, every remediation is kept.
func fixFirst(fixes [][2]string, failing map[string]bool) (kept [][2]string, rest []string) {
	if len(failing) == 0 {
		return fixes, nil
	}
	for _, f := range fixes {
		if failing[f[0]] || f[0] == "packages" {
			kept = append(kept, f)
		} else {
			rest = append(rest, f[0])
		}
	}
	return kept, rest
}

// summaryNote says, under a findings table, what its summary rows are.
func summaryNote(failing bool) string {
	if failing {
		return "One row per check that does not fail the gate; --details lists every finding."
	}
	return "One row per low or info check; --details lists every finding."
}

// findingsTable renders rows as SEVERITY, CHECK, FINDING, LAYER, with
// the FINDING column wrapped so the table fits the painter's width. When
// every row names the same layer, or none, the LAYER column gives way to
// the FINDING column; the header names that layer when the image has
// several (multiLayer).
func findingsTable(w io.Writer, p painter, rows []findingRow, multiLayer bool) error {
	wSev, wID, wLayer := len("SEVERITY"), len("CHECK"), len("LAYER")
	var layers []string
	for _, r := range rows {
		wSev = max(wSev, len(r.severity.String()))
		wID = max(wID, utf8.RuneCountInString(r.id))
		wLayer = max(wLayer, len(r.layer))
		for _, l := range strings.Split(r.layer, ",") {
			if l != "" && !slices.Contains(layers, l) {
				layers = append(layers, l)
			}
		}
	}
	header := []string{"SEVERITY", "CHECK", "FINDING", "LAYER"}
	// 5 borders and 2 spaces of padding per column.
	room := max(p.width-5-8-wSev-wID-wLayer, 24)
	layerColumn := len(layers) > 1
	if !layerColumn {
		header = header[:3]
		room = max(p.width-4-6-wSev-wID, 24)
		if multiLayer && len(layers) == 1 {
			header[2] = "FINDING (files from layer " + layers[0] + ")"
		}
	}
	t := newTable(w)
	t.Header(header)
	for _, r := range rows {
		var wrapped []string
		for _, l := range r.lines {
			wrapped = append(wrapped, wrap(Escape(l), room)...)
		}
		if len(r.names) > 0 {
			for _, l := range fitNames(r.prefix, r.names, room) {
				wrapped = append(wrapped, wrap(l, room)...)
			}
		}
		cells := []string{p.severity(r.severity), r.id, strings.Join(wrapped, "\n")}
		if layerColumn {
			cells = append(cells, r.layer)
		}
		if err := t.Append(cells); err != nil {
			return fmt.Errorf("rendering findings: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("rendering findings: %w", err)
	}
	return nil
}

// findingRow is one row of the findings table.
type findingRow struct {
	severity report.Severity
	id       string
	lines    []string
	layer    string
	// prefix and names, when names is set, are a grouped row's last line:
	// the package, then as many file names as fit the column (fitNames).
	prefix string
	names  []string
	// summary marks the one row of a summarized check.
	summary bool
}

// rowView is how findingRows lays out findings.
type rowView struct {
	// details gives every finding its own row, with every fact.
	details bool
	// versions names a grouped row's package with its version.
	versions bool
	// summarize, when set, picks the findings whose check gets a single
	// summary row (summaryRow) instead of a row per package.
	summarize func(report.Finding) bool
}

// fitNames is a grouped row's file lines, escaped (the names come from
// the image). In order of preference: "PREFIX a, b, c (N files)" on one
// line; the prefix on its own line and every name on the next; "PREFIX a,
// b, … (N files)" with as many names as fit room columns; the prefix on
// its own line and as many names as fit on the next.
func fitNames(prefix string, names []string, room int) []string {
	count := fmt.Sprintf(" (%d files)", len(names))
	fit := func(head string) (string, bool) {
		line := head + Escape(names[0])
		for i, n := range names[1:] {
			next := line + ", " + Escape(n)
			tail := count
			if i+2 < len(names) {
				tail = ", …" + count
			}
			if utf8.RuneCountInString(next+tail) > room {
				return line + ", …" + count, i > 0 || utf8.RuneCountInString(line+", …"+count) <= room
			}
			line = next
		}
		return line + count, utf8.RuneCountInString(line+count) <= room
	}
	all := strings.Join(escapeAll(names), ", ") + count
	head := strings.TrimSuffix(Escape(prefix), " ")
	switch {
	case utf8.RuneCountInString(Escape(prefix)+all) <= room:
		return []string{Escape(prefix) + all} // every name, one line
	case prefix != "" && utf8.RuneCountInString(all) <= room:
		return []string{head, all} // every name, under the package
	}
	if line, ok := fit(Escape(prefix)); ok || prefix == "" {
		return []string{line}
	}
	line, _ := fit("")
	return []string{head, line}
}

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}

// findingRows makes the table's rows: with details one per finding;
// otherwise the file findings of one check that one package ships (or
// that no package owns) share a row, which names the package once and
// lists the files by name ("apt 2.6.1 (deb): apt, apt-cache, apt-get (3
// files)"), and the findings of a check that v.summarize picks share one
// summary row, after the others. Findings about the config, files deleted
// but still shipped and suppressed findings keep their own detailed row;
// aliases and per-file details are left to --details. A check's title
// heads its first row. Rows keep the order of their first finding.
func findingRows(fs []report.Finding, v rowView) []findingRow {
	type group struct {
		first int
		fs    []report.Finding
	}
	summarized := func(f report.Finding) bool {
		return !v.details && v.summarize != nil && f.Suppressed == nil && v.summarize(f)
	}
	groupable := func(f report.Finding) bool {
		return !v.details && f.Path != "" && !f.Deleted && f.Suppressed == nil
	}
	key := func(f report.Finding) string {
		k := f.ID + "\x00"
		if summarized(f) {
			return k + "summary"
		}
		if pk := f.Package; pk != nil {
			k += pk.Name + "\x00" + pk.Version + "\x00" + pk.Type
		}
		return k
	}
	groups := map[string]*group{}
	var order []*group
	for i, f := range fs {
		if !summarized(f) && !groupable(f) {
			order = append(order, &group{first: i, fs: []report.Finding{f}})
			continue
		}
		k := key(f)
		if g := groups[k]; g != nil {
			g.fs = append(g.fs, f)
			continue
		}
		g := &group{first: i, fs: []report.Finding{f}}
		groups[k] = g
		order = append(order, g)
	}
	// The checks that report each file, for a summary row's cross-reference.
	checksOf := map[string][]string{}
	for _, f := range fs {
		if f.Path != "" && !f.Deleted && !slices.Contains(checksOf[f.Path], f.ID) {
			checksOf[f.Path] = append(checksOf[f.Path], f.ID)
		}
	}
	rows := make([]findingRow, 0, len(order))
	var summaries []findingRow
	titled := map[string]bool{}
	for _, g := range order {
		f := g.fs[0]
		if summarized(f) {
			summaries = append(summaries, summaryRow(g.fs, checksOf))
			continue
		}
		if !groupable(f) {
			rows = append(rows, findingRow{severity: f.Severity, id: f.ID, lines: findingLines(f), layer: layerLabel(f.Layer)})
			continue
		}
		// The check's title once, on its first row; then the package and
		// what it ships.
		r := findingRow{id: f.ID}
		if !titled[f.ID] {
			titled[f.ID] = true
			r.lines = append(r.lines, f.Title)
		}
		prefix := ""
		if pk := f.Package; pk != nil {
			prefix = shortPackage(pk, v.versions) + ": "
		}
		if len(g.fs) == 1 {
			r.severity, r.layer = f.Severity, layerLabel(f.Layer)
			r.lines = append(r.lines, prefix+f.Path)
			rows = append(rows, r)
			continue
		}
		var names, layers []string
		for _, gf := range g.fs {
			r.severity = max(r.severity, gf.Severity)
			names = append(names, path.Base(gf.Path))
			if l := layerLabel(gf.Layer); !slices.Contains(layers, l) {
				layers = append(layers, l)
			}
		}
		r.prefix, r.names = prefix, names
		r.layer = strings.Join(layers, ",")
		rows = append(rows, r)
	}
	return append(rows, summaries...)
}

// summaryRow is the one row of a summarized check: its title and what it
// found, in a line when it fits: "No HEALTHCHECK", "Base is not
// distroless: /usr/lib/os-release", "Privilege tool available: 4 files
// (login, util-linux), 2 also IA-SETUID". checksOf gives the checks that
// report each path: a file another check reports too is counted under it.
func summaryRow(fs []report.Finding, checksOf map[string][]string) findingRow {
	f := fs[0]
	r := findingRow{id: f.ID, summary: true}
	var pkgs, layers []string
	files, unowned := 0, 0
	also := map[string]int{}
	for _, g := range fs {
		r.severity = max(r.severity, g.Severity)
		if l := layerLabel(g.Layer); l != "" && !slices.Contains(layers, l) {
			layers = append(layers, l)
		}
		if g.Path == "" {
			continue
		}
		files++
		switch {
		case g.Package == nil:
			unowned++
		case !slices.Contains(pkgs, g.Package.Name):
			pkgs = append(pkgs, g.Package.Name)
		}
		if !g.Deleted {
			for _, id := range checksOf[g.Path] {
				if id != g.ID {
					also[id]++
				}
			}
		}
	}
	r.layer = strings.Join(layers, ",")
	line := f.Title
	switch {
	case len(fs) == 1 && f.Path != "":
		line += ": " + f.Path
		if f.Package != nil {
			line += " (" + f.Package.Name + ")"
		}
	case len(fs) == 1 && f.Name != "":
		line += ": " + f.Name
	case len(fs) == 1:
	case files < len(fs):
		line += ": " + plural(len(fs), "finding")
	default:
		line += ": " + plural(files, "file")
		if len(pkgs) > 0 {
			slices.Sort(pkgs)
			line += " (" + strings.Join(pkgs, ", ")
			if unowned > 0 {
				line += fmt.Sprintf("; %d of no package", unowned)
			}
			line += ")"
		}
	}
	ids := make([]string, 0, len(also))
	for id := range also {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	switch {
	case len(ids) == 0:
	case len(fs) == 1:
		line += ", also " + strings.Join(ids, ", ")
	default:
		for _, id := range ids {
			line += fmt.Sprintf(", %d also %s", also[id], id)
		}
	}
	r.lines = []string{line}
	return r
}

// shortPackage names a package for a grouped row: "curl 7.88.1 (deb)",
// "bash 5.2.15 (deb, essential)", without the version unless versions;
// how to remove it is in the fix list.
func shortPackage(p *report.PackageRef, versions bool) string {
	s := p.Name
	if versions && p.Version != "" {
		s += " " + p.Version
	}
	if p.Essential {
		return s + " (" + p.Type + ", essential)"
	}
	return s + " (" + p.Type + ")"
}

func findingLines(f report.Finding) []string {
	lines := []string{f.Title}
	switch {
	case f.Path != "" && f.Name != "" && !strings.HasSuffix(f.Path, "/"+f.Name):
		lines = append(lines, f.Path+" ("+f.Name+")")
	case f.Path != "":
		lines = append(lines, f.Path)
	case f.Name != "":
		lines = append(lines, f.Name)
	}
	if len(f.Aliases) > 0 {
		lines = append(lines, "also "+strings.Join(f.Aliases, ", "))
	}
	if pk := f.Package; pk != nil {
		lines = append(lines, packageLine(pk))
	}
	if f.Deleted {
		lines = append(lines, "deleted by a later layer, still shipped in this one")
	}
	if f.Detail != "" {
		lines = append(lines, oneLine(f.Detail))
	}
	if s := f.Suppressed; s != nil {
		lines = append(lines, "ignored: "+oneLine(s.Reason))
		var where []string
		if s.Policy != "" {
			where = append(where, "by "+s.Policy)
		}
		if s.Expires != "" {
			where = append(where, "until "+s.Expires)
		}
		if len(where) > 0 {
			lines = append(lines, "("+strings.Join(where, ", ")+")")
		}
	}
	return lines
}

func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithEastAsian(tw.Off),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

// wrap breaks s into lines of at most width runes: at spaces when it can,
// else after a '/', ',' or ':', else anywhere. It converts s to runes once, so a
// long line (a file with 100,000 hardlinks lists them all) costs time in
// proportion to its length, not to its length squared.
func wrap(s string, width int) []string {
	width = max(width, 8)
	if utf8.RuneCountInString(s) <= width {
		return []string{s}
	}
	var lines []string
	r := []rune(s)
	for len(r) > width {
		cut := -1
		for i := width; i > 0; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		if cut > 0 {
			lines = append(lines, strings.TrimRight(string(r[:cut]), " "))
			r = r[cut:]
			for len(r) > 0 && r[0] == ' ' {
				r = r[1:]
			}
			continue
		}
		for i := width - 1; i > 0; i-- {
			if r[i] == '/' || r[i] == ',' || r[i] == ':' {
				cut = i + 1
				break
			}
		}
		if cut <= 0 {
			cut = width
		}
		lines = append(lines, string(r[:cut]))
		r = r[cut:]
	}
	return append(lines, string(r))
}

// wrapIndent wraps a line to width, indenting continuation lines.
func wrapIndent(s string, width int, indent string) string {
	first := wrap(s, width)
	if len(first) == 1 {
		return noCommand(s)
	}
	out := []string{noCommand(first[0])}
	rest := strings.Join(first[1:], " ")
	for _, l := range wrap(rest, width-utf8.RuneCountInString(indent)) {
		out = append(out, noCommand(indent+l))
	}
	return strings.Join(out, "\n")
}

// noCommand keeps a line that data begins (a wrapped value, a warning) from
// reading as a GitHub Actions workflow command, "::error::..." after
// leading spaces: its first colon is written \x3a, as Escape would.
func noCommand(line string) string {
	rest := strings.TrimLeft(line, " ")
	if !strings.HasPrefix(rest, "::") {
		return line
	}
	return line[:len(line)-len(rest)] + `\x3a` + rest[1:]
}

func note(s string) string {
	if s == "" {
		return ""
	}
	return " — " + s
}

// sbomLine summarizes the packages: "12 packages (10 deb, 2 python) on
// Debian GNU/Linux 12 (bookworm)".
func sbomLine(s *report.SBOM) string {
	line := plural(s.Packages, "package")
	if len(s.ByType) > 0 {
		types := make([]string, 0, len(s.ByType))
		for t := range s.ByType {
			types = append(types, t)
		}
		slices.SortFunc(types, func(a, b string) int {
			if d := s.ByType[b] - s.ByType[a]; d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		parts := make([]string, len(types))
		for i, t := range types {
			parts[i] = fmt.Sprintf("%d %s", s.ByType[t], t)
		}
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.Distro != "" {
		line += " on " + s.Distro
	}
	if n := len(s.Skipped); n > 0 {
		line += fmt.Sprintf("; not read, so not catalogued (above the capture limit or not captured): %s", strings.Join(clipList(s.Skipped, 3), ", "))
	}
	return line
}

// clipList keeps the first n items, and says how many more there are.
func clipList(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return append(slices.Clone(items[:n]), fmt.Sprintf("and %d more", len(items)-n))
}

// packageLine names the package that ships a finding's file and how to
// remove it.
func packageLine(p *report.PackageRef) string {
	s := "package " + p.Name
	if p.Version != "" {
		s += " " + p.Version
	}
	s += " (" + p.Type + ")"
	if p.Remove != "" {
		return s + ": " + p.Remove
	}
	if p.Essential {
		return s + ": essential to the distribution, use a distroless or minimal base"
	}
	return s + ": no package manager, use a multi-stage build"
}

// packageRemovals gathers the removal commands of the packages that ship
// the findings' files into one command per package manager, sorted:
// "apt-get purge -y curl wget".
func packageRemovals(fs []report.Finding) []string {
	byCmd := map[string][]string{}
	for _, f := range fs {
		p := f.Package
		if p == nil || p.Remove == "" || !strings.HasSuffix(p.Remove, " "+p.Name) {
			continue
		}
		cmd := strings.TrimSuffix(p.Remove, " "+p.Name)
		if !slices.Contains(byCmd[cmd], p.Name) {
			byCmd[cmd] = append(byCmd[cmd], p.Name)
		}
	}
	var out []string
	for cmd, names := range byCmd {
		slices.Sort(names)
		out = append(out, cmd+" "+strings.Join(names, " "))
	}
	slices.Sort(out)
	return out
}

// essentialPackages returns the sorted names of the essential packages
// (report.PackageRef.Essential) that ship the findings' files.
func essentialPackages(fs []report.Finding) []string {
	var names []string
	for _, f := range fs {
		if p := f.Package; p != nil && p.Essential && !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names
}

// essentialAdvice is the fix for files that essential packages ship: no
// removal command, since removing them is unsafe.
func essentialAdvice(names []string) string {
	return "Essential packages ship the other files (" + strings.Join(names, ", ") + "); removing them breaks the " +
		"package system, so do not: build the final stage on a distroless or minimal base instead."
}

func policyLine(p *report.PolicyRef) string {
	s := p.File
	if s == "" {
		s = "(built in)"
	}
	if len(p.DisabledChecks) > 0 {
		s += "; checks disabled: " + strings.Join(p.DisabledChecks, ", ")
	}
	if len(p.DisabledCategories) > 0 {
		s += "; categories disabled: " + strings.Join(p.DisabledCategories, ", ")
	}
	return s
}

// totalsThreshold says what the images counted as failed reached: "at
// high", "failing the hardened profile", and with a baseline "at medium
// (new findings)" when only new findings fail (the gate's FailOn is then
// none, which fails nothing), else "at high (new findings: medium)".
func totalsThreshold(g *report.Gate) string {
	base := "at " + g.FailOn
	if g.Profile != "" {
		base = gatePhrase(g.FailOn, g.Profile)
	}
	switch {
	case g.FailOnNew == "":
		return base
	case (g.FailOn == "" || g.FailOn == "none") && g.Profile == "":
		return "at " + g.FailOnNew + " (new findings)"
	}
	return base + " (new findings: " + g.FailOnNew + ")"
}

// runTotals is the closing line of a multi-image report.
func runTotals(r *report.Report) string {
	failed, errs := 0, 0
	for i := range r.Images {
		switch imageVerdict(r, &r.Images[i]).state {
		case "fail":
			failed++
		case "error":
			errs++
		}
	}
	s := fmt.Sprintf("Total: %s, %s", plural(len(r.Images), "image"), plural(r.Summary.Findings, "finding"))
	if r.Gate != nil {
		s += fmt.Sprintf(", %d failed %s", failed, totalsThreshold(r.Gate))
	}
	if errs > 0 {
		s += fmt.Sprintf(", %d not scanned completely", errs)
	}
	if r.Summary.Suppressed > 0 {
		s += fmt.Sprintf(", %d suppressed", r.Summary.Suppressed)
	}
	return s
}

// WriteRuleTable lists checks for a person: ID, severity, category and
// title, fitted to TableWidth.
func WriteRuleTable(w io.Writer, rules []Rule, o Options) error {
	p := newPainter(o)
	wID, wSev, wCat, wProf := len("CHECK"), len("SEVERITY"), len("CATEGORY"), len("PROFILE")
	for _, r := range rules {
		wID = max(wID, utf8.RuneCountInString(r.ID))
		wSev = max(wSev, len(r.Severity.String()))
		wCat = max(wCat, utf8.RuneCountInString(r.Category))
		wProf = max(wProf, utf8.RuneCountInString(r.Profile))
	}
	room := max(p.width-5-11-wID-wSev-wCat-wProf, 12)
	t := newTable(w)
	t.Header([]string{"CHECK", "SEVERITY", "CATEGORY", "PROFILE", "TITLE"})
	for _, r := range rules {
		prof := r.Profile
		if prof == "" {
			prof = "—"
		}
		if err := t.Append([]string{r.ID, p.severity(r.Severity), r.Category, prof, strings.Join(wrap(r.Title, room), "\n")}); err != nil {
			return fmt.Errorf("rendering checks: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("rendering checks: %w", err)
	}
	return nil
}

// writeFleet renders the fleet summary of a multi-image audit.
func writeFleet(w io.Writer, p painter, r *report.Report, f *report.Fleet) error {
	fmt.Fprintln(w)
	fmt.Fprintln(w, p.paint(ansiBold, "Fleet summary:"))
	fmt.Fprintf(w, "  %d of %s fail the gate\n", f.ImagesFailing, plural(len(r.Images), "image"))
	if len(f.ImagesByCategory) > 0 {
		cats := make([]string, 0, len(f.ImagesByCategory))
		for c := range f.ImagesByCategory {
			cats = append(cats, c)
		}
		slices.SortFunc(cats, func(a, b string) int {
			if d := f.ImagesByCategory[b] - f.ImagesByCategory[a]; d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		parts := make([]string, 0, len(cats))
		for _, c := range cats {
			parts = append(parts, fmt.Sprintf("%s %d", c, f.ImagesByCategory[c]))
		}
		fmt.Fprintln(w, wrapIndent("  Images shipping: "+strings.Join(parts, ", "), p.width, "    "))
	}
	if len(f.WorstImages) > 0 {
		fmt.Fprintln(w)
		t := newTable(w)
		t.Header([]string{"WORST IMAGES", "CRIT", "HIGH", "MED", "LOW"})
		for _, s := range f.WorstImages {
			ref := clipRight(Escape(s.Reference), 60)
			if len(s.AlsoKnownAs) > 0 {
				ref += "\n" + clipRight(Escape("also "+strings.Join(s.AlsoKnownAs, ", ")), 60)
			}
			t.Append([]string{ref, fmt.Sprint(s.Critical), fmt.Sprint(s.High), fmt.Sprint(s.Medium), fmt.Sprint(s.Low)})
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("rendering fleet: %w", err)
		}
	}
	if len(f.OffendingLayers) > 0 {
		fmt.Fprintln(w)
		t := newTable(w)
		t.Header([]string{"LAYERS BRINGING FINDINGS", "IMAGES", "FINDINGS"})
		for _, l := range f.OffendingLayers {
			what := Escape(shortDigest(l.DiffID))
			if l.CreatedBy != "" {
				what += " " + clipRight(Escape(oneLine(l.CreatedBy)), 50)
			}
			what += "\n" + strings.Join(l.Categories, ", ")
			t.Append([]string{what, fmt.Sprint(l.Images), fmt.Sprint(l.Findings)})
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("rendering fleet: %w", err)
		}
	}
	writeRegressions(w, p, r, f)
	return nil
}

// newThreshold names the gate's --fail-on-new threshold.
func newThreshold(g *report.Gate) string {
	if g == nil || g.FailOnNew == "" {
		return "the --fail-on-new threshold"
	}
	return g.FailOnNew
}

// writeRegressions lists the images that add findings at or above the
// gate's --fail-on-new over their baselines.
func writeRegressions(w io.Writer, p painter, r *report.Report, f *report.Fleet) {
	if len(f.Regressions) == 0 {
		return
	}
	t := newThreshold(r.Gate)
	fmt.Fprintln(w)
	fmt.Fprintln(w, p.paint(ansiBold, fmt.Sprintf("Regressions (new findings at or above %s):", t)))
	for _, g := range f.Regressions {
		line := fmt.Sprintf("  %s adds %d at or above %s (%d in all) over %s",
			Escape(g.Reference), g.FailingNew, t, g.Added, Escape(g.Baseline))
		fmt.Fprintln(w, wrapIndent(line, TableWidth, "    "))
	}
}

func clipRight(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[i+1 : i+13]
	}
	return d
}
