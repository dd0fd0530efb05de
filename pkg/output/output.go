// Package output renders a report.Report for people (table, markdown) and
// for programs (json, sarif). Every renderer writes to an io.Writer and does
// nothing else: no files, no terminal probing (the caller says whether colour
// is wanted).
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// Format names an output format.
type Format string

// Output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
)

// Formats lists the formats Write accepts, for help texts.
func Formats() []Format { return []Format{FormatTable, FormatJSON} }

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(names, ", "))
}

// Options tune rendering.
type Options struct {
	// Color enables ANSI colours in the table.
	Color bool
	// ShowSuppressed lists suppressed findings in the table and markdown.
	ShowSuppressed bool
}

// Write renders r in format f to w.
func Write(w io.Writer, f Format, r *report.Report, o Options) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatTable:
		return WriteTable(w, r, o)
	}
	return fmt.Errorf("unknown format %q", f)
}

// WriteJSON writes the report as indented JSON (schema version
// report.SchemaVersion), followed by a newline.
func WriteJSON(w io.Writer, r *report.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing json: %w", err)
	}
	return nil
}

var severityRank = map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}

// countBySeverity returns "2 critical, 1 high" for the unsuppressed findings.
func countBySeverity(fs []report.Finding) (string, int) {
	counts := map[string]int{}
	n := 0
	for _, f := range fs {
		if f.Suppressed == nil {
			counts[f.Severity]++
			n++
		}
	}
	sevs := make([]string, 0, len(counts))
	for s := range counts {
		sevs = append(sevs, s)
	}
	sort.Slice(sevs, func(i, j int) bool { return severityRank[sevs[i]] > severityRank[sevs[j]] })
	parts := make([]string, 0, len(sevs))
	for _, s := range sevs {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return strings.Join(parts, ", "), n
}
