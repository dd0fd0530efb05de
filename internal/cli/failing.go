package cli

import (
	"fmt"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// maxNamed is how many failing images or workloads the exit line names
// before it gives a count of the rest.
const maxNamed = 3

// failingNames returns " in a, b, c and 4 more" naming the images (or the
// workloads of a workload run) whose verdict is v, for the one-line
// message of a failed or incomplete run; "" when none carries a verdict.
func failingNames(rep *report.Report, v report.Verdict) string {
	var names []string
	if rep.Workloads != nil {
		for _, w := range rep.Workloads {
			if w.Gate != nil && w.Gate.Verdict == v {
				names = append(names, workloadName(w))
			}
		}
	} else {
		for _, img := range rep.Images {
			if img.Gate != nil && img.Gate.Verdict == v {
				names = append(names, img.Reference)
			}
		}
	}
	switch {
	case len(names) == 0:
		return ""
	case len(names) <= maxNamed:
		return " in " + strings.Join(names, ", ")
	}
	return fmt.Sprintf(" in %s and %d more", strings.Join(names[:maxNamed], ", "), len(names)-maxNamed)
}

// workloadName is "Kind namespace/name" or "Kind name".
func workloadName(w report.Workload) string {
	if w.Namespace != "" {
		return w.Kind + " " + w.Namespace + "/" + w.Name
	}
	return w.Kind + " " + w.Name
}
