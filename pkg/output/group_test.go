package output

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/pkg/report"
)

func TestFindingRows(t *testing.T) {
	apt := &report.PackageRef{Name: "apt", Version: "2.6.1", Type: "deb", Essential: true}
	layer0 := &report.LayerRef{Index: 0}
	var fs []report.Finding
	for _, n := range []string{"apt", "apt-cache", "apt-get"} {
		fs = append(fs, report.Finding{ID: "IA-PKG-MANAGER", Title: "Package manager available", Severity: report.Medium,
			Path: "/usr/bin/" + n, Aliases: []string{"/bin/" + n}, Package: apt, Layer: layer0})
	}
	fs = append(fs,
		report.Finding{ID: "IA-PKG-MANAGER", Title: "Package manager available", Severity: report.Medium, Path: "/usr/bin/pip", Layer: &report.LayerRef{Index: 2}},
		report.Finding{ID: "IA-SECRET-FILE", Title: "Credential file", Severity: report.Critical, Path: "/root/.ssh/id", Deleted: true},
		report.Finding{ID: "IA-SECRET-ENV", Title: "Credential in ENV", Severity: report.Critical, Name: "DB_PASSWORD"},
	)
	for i := range 10 {
		fs = append(fs, report.Finding{ID: "IA-DEBUG-TOOL", Title: "Debugging tool available", Severity: report.Medium, Path: fmt.Sprintf("/usr/bin/t%d", i), Layer: layer0})
	}
	rows := findingRows(fs, rowView{versions: true})
	var got []string
	for _, r := range rows {
		lines := r.lines
		if len(r.names) > 0 {
			lines = append(slices.Clone(lines), fitNames(r.prefix, r.names, 80)...)
		}
		got = append(got, r.id+"|"+r.severity.String()+"|"+strings.Join(lines, "/")+"|"+r.layer)
	}
	want := []string{
		"IA-PKG-MANAGER|medium|Package manager available/apt 2.6.1 (deb, essential): apt, apt-cache, apt-get (3 files)|0",
		"IA-PKG-MANAGER|medium|/usr/bin/pip|2",
		"IA-SECRET-FILE|critical|Credential file//root/.ssh/id/deleted by a later layer, still shipped in this one|",
		"IA-SECRET-ENV|critical|Credential in ENV/DB_PASSWORD|",
		"IA-DEBUG-TOOL|medium|Debugging tool available/t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 (10 files)|0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("grouped rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// --details: one row per finding, aliases shown.
	rows = findingRows(fs, rowView{details: true})
	if len(rows) != len(fs) || !slices.Contains(rows[0].lines, "also /bin/apt") {
		t.Errorf("details: %d rows for %d findings; first %v", len(rows), len(fs), rows[0].lines)
	}
}

func TestFixFirst(t *testing.T) {
	fixes := [][2]string{{"IA-SECRET-ENV", "a"}, {"IA-SHELL", "b"}, {"packages", "c"}, {"IA-BASE", "d"}}
	failing := failingChecks(&report.ImageGate{Reasons: []string{"IA-SECRET-ENV: 1 critical finding", "new IA-BASE: 1 low finding", "scan incomplete, image not assessed: x: y"}})
	if len(failing) != 2 {
		t.Errorf("failing checks %v", failing)
	}
	kept, rest := fixFirst(fixes, failing)
	if len(kept) != 3 || kept[0][0] != "IA-SECRET-ENV" || kept[1][0] != "packages" || kept[2][0] != "IA-BASE" || !slices.Equal(rest, []string{"IA-SHELL"}) {
		t.Errorf("kept %v rest %v", kept, rest)
	}
	if kept, rest := fixFirst(fixes, failingChecks(&report.ImageGate{})); len(kept) != 4 || rest != nil {
		t.Errorf("a passing image keeps every fix: %v %v", kept, rest)
	}
}

func TestFitNames(t *testing.T) {
	names := []string{"apt", "apt-cache", "apt-cdrom", "apt-config", "apt-get", "apt-key", "apt-mark"}
	for _, tc := range []struct {
		prefix string
		room   int
		want   []string
	}{
		{"apt 2.6.2 (deb): ", 100, []string{"apt 2.6.2 (deb): apt, apt-cache, apt-cdrom, apt-config, apt-get, apt-key, apt-mark (7 files)"}},
		// Every name under the package rather than a truncated line.
		{"apt 2.6.2 (deb): ", 80, []string{"apt 2.6.2 (deb):", "apt, apt-cache, apt-cdrom, apt-config, apt-get, apt-key, apt-mark (7 files)"}},
		{"apt 2.6.2 (deb): ", 55, []string{"apt 2.6.2 (deb): apt, apt-cache, apt-cdrom, … (7 files)"}},
		// A long package name: the prefix on its own line, the names below.
		{"libpam-modules-bin 1.5.2-6+deb12u3 (deb, essential): ", 55, []string{"libpam-modules-bin 1.5.2-6+deb12u3 (deb, essential):", "apt, apt-cache, apt-cdrom, apt-config, … (7 files)"}},
		{"", 30, []string{"apt, apt-cache, … (7 files)"}},
	} {
		got := fitNames(tc.prefix, names, tc.room)
		if !slices.Equal(got, tc.want) {
			t.Errorf("fitNames(%q, room %d) = %q, want %q", tc.prefix, tc.room, got, tc.want)
		}
		for _, l := range got {
			if n := len([]rune(l)); n > tc.room {
				t.Errorf("line %q is %d columns, room %d", l, n, tc.room)
			}
		}
	}
	// Names come from the image: escaped.
	if got := fitNames("", []string{"a\x1b[2J", "b"}, 80); strings.ContainsRune(got[0], 0x1b) {
		t.Errorf("raw escape in %q", got)
	}
}
