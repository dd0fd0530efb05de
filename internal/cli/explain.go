package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// checkDetailJSON is the JSON form of an explained check.
type checkDetailJSON struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Category    string   `json:"category"`
	Severity    string   `json:"severity"`
	Scope       string   `json:"scope"`
	Rationale   string   `json:"rationale,omitempty"`
	Remediation string   `json:"remediation"`
	Notes       string   `json:"notes,omitempty"`
	Names       []string `json:"names,omitempty"`
	Source      string   `json:"source,omitempty"`
}

// allCheckDetails returns every check, image checks then workload
// cross-checks, keyed by upper-case ID.
func allCheckDetails() ([]output.CheckDetail, map[string]int) {
	var ds []output.CheckDetail
	for _, m := range checks.Metas(checks.All()) {
		ds = append(ds, output.CheckDetail{Rule: output.Rule{ID: m.ID, Title: m.Title, Category: string(m.Category),
			Severity: m.Severity, Rationale: m.Rationale, Remediation: m.Remediation}, Scope: "image", Notes: m.Notes, Names: m.Names})
	}
	for _, c := range workload.Checks() {
		ds = append(ds, output.CheckDetail{Rule: output.Rule{ID: c.ID, Title: c.Title, Category: string(c.Category),
			Severity: c.Severity, Remediation: c.Remediation}, Scope: "workload", Source: c.Docs})
	}
	index := make(map[string]int, len(ds))
	for i, d := range ds {
		index[strings.ToUpper(d.ID)] = i
	}
	return ds, index
}

// explainChecks writes the checks named by ids in full, in the order
// given; an unknown ID is a usage error that suggests close IDs.
func explainChecks(w io.Writer, format string, ids []string) error {
	all, index := allCheckDetails()
	var picked []output.CheckDetail
	for _, id := range ids {
		i, ok := index[strings.ToUpper(strings.TrimSpace(id))]
		if !ok {
			return usage(fmt.Errorf("unknown check %q%s ('imgaudit checks' lists them)", id, suggest(id, all)))
		}
		picked = append(picked, all[i])
	}
	switch format {
	case "table", "text":
		for i, d := range picked {
			if i > 0 {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if err := output.WriteCheckDetail(w, d); err != nil {
				return err
			}
		}
		return nil
	case "json":
		out := struct {
			Checks []checkDetailJSON `json:"checks"`
		}{Checks: []checkDetailJSON{}}
		for _, d := range picked {
			out.Checks = append(out.Checks, checkDetailJSON{ID: d.ID, Title: d.Title, Category: d.Category,
				Severity: d.Severity.String(), Scope: d.Scope, Rationale: d.Rationale, Remediation: d.Remediation,
				Notes: d.Notes, Names: d.Names, Source: d.Source})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	return usage(fmt.Errorf("format %q cannot explain a check (want table or json)", format))
}

// suggest returns " (did you mean A or B?)" for the IDs that contain what
// was typed or differ from it by at most two edits; "" when none does.
func suggest(typed string, all []output.CheckDetail) string {
	t := strings.ToUpper(strings.TrimSpace(typed))
	var near []string
	for _, d := range all {
		if len(near) == 3 {
			break
		}
		if (len(t) >= 4 && strings.Contains(d.ID, t)) || editDistance(t, d.ID) <= 2 {
			near = append(near, d.ID)
		}
	}
	if len(near) == 0 {
		return ""
	}
	return " (did you mean " + strings.Join(near, " or ") + "?)"
}

// editDistance is the Levenshtein distance of two short ASCII strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
