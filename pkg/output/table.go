package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/imgaudit/imgaudit/pkg/report"
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiYel   = "\x1b[33m"
	ansiGreen = "\x1b[32m"
	ansiDim   = "\x1b[2m"
)

type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p painter) severity(s string) string {
	switch s {
	case "critical":
		return p.paint(ansiBold+ansiRed, strings.ToUpper(s))
	case "high":
		return p.paint(ansiRed, strings.ToUpper(s))
	case "medium":
		return p.paint(ansiYel, strings.ToUpper(s))
	}
	return strings.ToUpper(s)
}

// WriteTable renders the report for a person in a terminal: per image a
// header, its layers, its findings worst first, and a one-line verdict.
func WriteTable(w io.Writer, r *report.Report, o Options) error {
	p := painter(o.Color)
	for i, img := range r.Images {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := writeImage(w, p, &img, o); err != nil {
			return err
		}
	}
	return nil
}

func writeImage(w io.Writer, p painter, img *report.Image, o Options) error {
	fmt.Fprintf(w, "%s %s\n", p.paint(ansiBold, "Image:"), img.Reference)
	if img.Error != "" {
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiBold+ansiRed, "ERROR:"), img.Error)
		fmt.Fprintf(w, "%s scan incomplete, image not assessed\n", p.paint(ansiBold+ansiRed, "Verdict:"))
		return nil
	}
	kv := [][2]string{
		{"Digest", img.Digest},
		{"Platform", img.Platform + note(img.PlatformNote)},
		{"User", userLine(img.User)},
		{"Base", baseLine(img.Base)},
		{"Contents", fmt.Sprintf("%d files in %d layers, %s compressed, %s uncompressed", img.Stats.Files, img.Stats.Layers, human(img.Stats.CompressedBytes), human(img.Stats.UncompressedBytes))},
	}
	for _, e := range kv {
		if e[1] != "" {
			fmt.Fprintf(w, "  %-9s %s\n", e[0]+":", e[1])
		}
	}

	fmt.Fprintln(w)
	lt := newTable(w, "#", "SIZE", "CREATED BY")
	for _, l := range img.Layers {
		lt.Append([]string{fmt.Sprint(l.Index), human(l.Size), clip(oneLine(l.CreatedBy), 80)})
	}
	if err := lt.Render(); err != nil {
		return fmt.Errorf("rendering layers: %w", err)
	}

	var shown []report.Finding
	for _, f := range img.Findings {
		if f.Suppressed == nil || o.ShowSuppressed {
			shown = append(shown, f)
		}
	}
	if len(shown) > 0 {
		fmt.Fprintln(w)
		ft := newTable(w, "SEVERITY", "ID", "WHAT", "LAYER")
		for _, f := range shown {
			what := f.Title
			if f.Path != "" {
				what += "\n" + f.Path
			} else if f.Name != "" {
				what += "\n" + f.Name
			}
			if len(f.Aliases) > 0 {
				what += "\n(also " + clip(strings.Join(f.Aliases, ", "), 70) + ")"
			}
			if f.Deleted {
				what += "\n(deleted later, still shipped in the layer)"
			}
			sev := p.severity(f.Severity)
			if f.Suppressed != nil {
				sev = "ignored"
				what += "\nignored: " + f.Suppressed.Reason
			}
			layer := ""
			if f.Layer != nil {
				layer = fmt.Sprint(f.Layer.Index)
			}
			ft.Append([]string{sev, f.ID, what, layer})
		}
		if err := ft.Render(); err != nil {
			return fmt.Errorf("rendering findings: %w", err)
		}
	}
	counts, n := countBySeverity(img.Findings)
	fmt.Fprintln(w)
	if n == 0 {
		fmt.Fprintf(w, "%s no findings\n", p.paint(ansiBold+ansiGreen, "Verdict:"))
	} else {
		fmt.Fprintf(w, "%s %d findings (%s)\n", p.paint(ansiBold+ansiRed, "Verdict:"), n, counts)
	}
	return nil
}

func newTable(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(header)
	return t
}

func note(s string) string {
	if s == "" {
		return ""
	}
	return " — " + s
}

func userLine(u report.User) string {
	conf := u.Configured
	if conf == "" {
		conf = "(unset)"
	}
	switch {
	case u.Root:
		return conf + " — root"
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
		s += ", distroless: no shell, no package manager"
	}
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimPrefix(s, "/bin/sh -c #(nop) ")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func human(n int64) string {
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
