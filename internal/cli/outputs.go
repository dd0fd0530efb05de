package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// outputOptions say what to write where.
type outputOptions struct {
	format         string
	outputs        []string
	quiet          bool
	showSuppressed bool
	details        bool
	showFrom       string
}

func (o *outputOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "table", "`FORMAT` of the report on standard output: "+output.FormatNames())
	f.StringArrayVarP(&o.outputs, "output", "o", nil,
		"also write the report as `FORMAT=FILE`, repeatable (e.g. -o json=report.json -o sarif=results.sarif);\n"+
			"a plain FILE gets the --format report instead of standard output; FILE - is standard output")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress on standard error")
	f.BoolVar(&o.showSuppressed, "show-suppressed", false, "list findings a policy ignore suppressed, with the reason, in table, markdown and html output")
	f.BoolVar(&o.details, "details", false, "in the table, one row per finding with its aliases and details (default: the findings of one check and one package share a row)")
	f.StringVar(&o.showFrom, "severity", "", "in the table, show only findings at or above `SEVERITY` (a display filter: the verdict and other formats are unchanged)")
}

// tableOptions applies --details and --severity to the renderer options.
func (o *outputOptions) tableOptions(opts *output.Options) error {
	opts.Details = o.details
	if o.showFrom != "" {
		s, err := report.ParseSeverity(o.showFrom)
		if err != nil {
			return fmt.Errorf("--severity: %w", err)
		}
		opts.MinSeverity = s
	}
	return nil
}

// destination is one rendering of the report: a format and a file ("-" for
// standard output).
type destination struct {
	format output.Format
	file   string
}

// destinations resolves --format and the -o flags. Standard output gets the
// --format report unless a plain -o FILE redirects it, or an -o FORMAT=-
// replaces it.
func (o *outputOptions) destinations() ([]destination, error) {
	def, err := output.ParseFormat(o.format)
	if err != nil {
		return nil, err
	}
	var dests []destination
	redirected := false
	for _, spec := range o.outputs {
		d, plain, err := parseOutput(spec, def)
		if err != nil {
			return nil, err
		}
		if plain {
			redirected = true
		}
		dests = append(dests, d)
	}
	stdout := 0
	seen := map[string]bool{}
	for _, d := range dests {
		if d.file == "-" {
			stdout++
			continue
		}
		key := filepath.Clean(d.file)
		if seen[key] {
			return nil, fmt.Errorf("-o: %s is named twice", d.file)
		}
		seen[key] = true
	}
	switch {
	case stdout > 1:
		return nil, fmt.Errorf("-o: only one report can go to standard output")
	case stdout == 0 && !redirected:
		dests = append([]destination{{format: def, file: "-"}}, dests...)
	}
	return dests, nil
}

// parseOutput reads one -o value: FORMAT=FILE, or a plain FILE for the
// default format.
func parseOutput(spec string, def output.Format) (d destination, plain bool, err error) {
	if spec == "" {
		return d, false, fmt.Errorf("-o: empty file name")
	}
	if name, file, ok := strings.Cut(spec, "="); ok && isWord(name) {
		f, err := output.ParseFormat(name)
		if err != nil {
			return d, false, fmt.Errorf("-o %s: %w", spec, err)
		}
		if file == "" {
			return d, false, fmt.Errorf("-o %s: no file name after '='", spec)
		}
		return destination{format: f, file: file}, false, nil
	}
	return destination{format: def, file: spec}, true, nil
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// writeReports renders the report to every destination. Each file is
// rendered in full, then written to a temporary file next to it and renamed
// into place, so a reader never sees half a report.
func writeReports(cmd *cobra.Command, env Env, dests []destination, r *report.Report, o output.Options) error {
	for _, d := range dests {
		opts := o
		if d.file == "-" && d.format == output.FormatTable {
			opts.Color = colorWanted(env, cmd.OutOrStdout())
			opts.Width = tableWidth(env, cmd.OutOrStdout())
		}
		var buf bytes.Buffer
		if err := output.Write(&buf, d.format, r, opts); err != nil {
			return err
		}
		if d.file == "-" {
			if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
				return fmt.Errorf("writing %s report: %w", d.format, err)
			}
			continue
		}
		if err := writeFileAtomic(d.file, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	// A device, FIFO or other special file (/dev/null, /dev/stdout, a pipe)
	// is written in place: renaming over it would replace it.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("writing %s: %w", path, werr)
		}
		return nil
	}
	// A symlink is followed (even to a file not yet there): the file it
	// names is replaced, not the link.
	for hops := 0; hops < 40; hops++ {
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			break
		}
		target, err := os.Readlink(path)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, 0o644)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}
