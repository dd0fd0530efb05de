package output

import (
	"fmt"
	"io"
	"strings"
)

// CheckDetail is one check explained in full, as `imgaudit checks ID`
// prints it.
type CheckDetail struct {
	Rule
	// Scope is "image" for a check of the image, "workload" for a
	// cross-check of a pod spec with its image.
	Scope string
	// Notes says what the check counts and what it deliberately does not.
	Notes string
	// Names are the command names a tool check matches.
	Names []string
	// Source says where a predicted behaviour comes from (kubelet,
	// runtime, kernel).
	Source string
}

// detailWidth is the width a check's explanation is wrapped to.
const detailWidth = 80

// WriteCheckDetail writes d as a short page: the ID and title, then
// severity, category and scope, then each text under its heading, wrapped
// to 80 columns. Every value is escaped (Escape).
func WriteCheckDetail(w io.Writer, d CheckDetail) error {
	var b strings.Builder
	for i, l := range wrap(Escape(d.ID)+" — "+Escape(d.Title), detailWidth) {
		if i > 0 {
			l = "  " + l
		}
		b.WriteString(noCommand(l) + "\n")
	}
	fmt.Fprintf(&b, "  severity %s · category %s · %s check\n", d.Severity, Escape(d.Category), Escape(d.Scope))
	section := func(head, text string) {
		if text == "" {
			return
		}
		fmt.Fprintf(&b, "\n%s\n", head)
		for _, l := range wrap(Escape(text), detailWidth-2) {
			b.WriteString("  " + noCommand(l) + "\n")
		}
	}
	section("Why it matters", d.Rationale)
	section("How to fix it", d.Remediation)
	section("Where the behaviour comes from", d.Source)
	section("Scope", d.Notes)
	if len(d.Names) > 0 {
		section("Names it matches", strings.Join(d.Names, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
