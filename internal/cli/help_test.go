package cli

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every command's help fits 80 columns and states defaults a person can
// read: sizes with a unit, no "-1: default".
func TestHelpFits80Columns(t *testing.T) {
	root := NewRoot(Env{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		var out bytes.Buffer
		c.SetOut(&out)
		c.SetErr(&out)
		if err := c.Help(); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if n := len([]rune(l)); n > helpWidth {
				t.Errorf("%s --help: line of %d columns: %q", c.CommandPath(), n, l)
			}
		}
		for _, bad := range []string{"(default -1)", "-1: default", "5368709120", "68719476736"} {
			if strings.Contains(out.String(), bad) {
				t.Errorf("%s --help shows %q", c.CommandPath(), bad)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// The README's table of scan flags names every flag of `imgaudit scan`,
// and only those.
func TestReadmeScanFlags(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Flags of `imgaudit scan`\n")
	if !ok {
		t.Fatal("README has no \"Flags of `imgaudit scan`\" section")
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	flagRE := regexp.MustCompile("`(?:-[a-z], )?--([a-z][a-z-]*)")
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(strings.TrimPrefix(line, "| "), " | ", 2)[0]
		for _, m := range flagRE.FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
		// "`--timeout`, `--retries`": every backquoted flag of the cell.
		for _, m := range regexp.MustCompile("`--([a-z][a-z-]*)").FindAllStringSubmatch(first, -1) {
			if !slices.Contains(documented, m[1]) {
				documented = append(documented, m[1])
			}
		}
	}
	var actual []string
	scan, _, err := NewRoot(Env{}).Find([]string{"scan"})
	if err != nil {
		t.Fatal(err)
	}
	scan.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			actual = append(actual, f.Name)
		}
	})
	slices.Sort(documented)
	documented = slices.Compact(documented)
	slices.Sort(actual)
	for _, f := range actual {
		if !slices.Contains(documented, f) {
			t.Errorf("README's scan flag table lacks --%s", f)
		}
	}
	for _, f := range documented {
		if !slices.Contains(actual, f) {
			t.Errorf("README's scan flag table has --%s, which scan does not", f)
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1024": 1024, "5GiB": 5 << 30, "5gib": 5 << 30, "5G": 5 << 30, "500MB": 500e6, "64KiB": 64 << 10,
		"1.5GiB": 3 << 29, "2 TiB": 2 << 40, "0": 0, "10B": 10, "3kB": 3000,
	} {
		got, err := parseByteSize(in)
		if err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1", "5XB", "1e30GiB", "NaN", "9223372036854775807KiB", "five"} {
		if got, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q) = %d, want an error", in, got)
		}
	}
	for n, want := range map[int64]string{5 << 30: "5GiB", 64 << 36: "4TiB", 1536: "1536", 3 << 20: "3MiB", 0: "0", 1000: "1000"} {
		if got := formatByteSize(n); got != want {
			t.Errorf("formatByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
