package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// sbomOptions say whether to catalogue packages and where to write full
// SBOM documents.
type sbomOptions struct {
	noSBOM  bool
	outputs []string
	// single is set by a command that audits exactly one image: its
	// documents go to the files as named. Otherwise each image's document
	// goes to the file named with the image's reference inserted before the
	// extension.
	single bool

	mu sync.Mutex
}

func (o *sbomOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	// A build without syft (tag nosbom) catalogues nothing: --no-sbom is
	// its default and --sbom-output says why it cannot be served.
	f.BoolVar(&o.noSBOM, "no-sbom", !sbom.Available, "skip package cataloguing: no package summary, no package owning each finding, faster")
	f.StringArrayVar(&o.outputs, "sbom-output", nil,
		"also write the image's full SBOM as `FORMAT=FILE`, repeatable; FORMAT is "+strings.Join(sbom.Formats(), ", ")+
			";\nwith several images, each image's FILE gets its reference inserted before the extension")
}

// sbomDestination is one full SBOM document to write.
type sbomDestination struct {
	format string
	file   string
}

// destinations parses the --sbom-output flags.
func (o *sbomOptions) destinations() ([]sbomDestination, error) {
	if !sbom.Available && len(o.outputs) > 0 {
		return nil, fmt.Errorf("--sbom-output: %w", sbom.ErrUnavailable)
	}
	if o.noSBOM && len(o.outputs) > 0 {
		return nil, errors.New("--sbom-output and --no-sbom cannot be used together")
	}
	var out []sbomDestination
	seen := map[string]bool{}
	for _, spec := range o.outputs {
		format, file, ok := strings.Cut(spec, "=")
		if !ok || format == "" || file == "" {
			return nil, fmt.Errorf("--sbom-output %q: want FORMAT=FILE, FORMAT one of %s", spec, strings.Join(sbom.Formats(), ", "))
		}
		if err := sbom.CheckFormat(format); err != nil {
			return nil, fmt.Errorf("--sbom-output %q: %w", spec, err)
		}
		if file == "-" {
			return nil, fmt.Errorf("--sbom-output %q: standard output carries the report; name a file", spec)
		}
		if key := filepath.Clean(file); seen[key] {
			return nil, fmt.Errorf("--sbom-output: %s is named twice", file)
		} else {
			seen[key] = true
		}
		out = append(out, sbomDestination{format: format, file: file})
	}
	return out, nil
}

// writer returns the audit callback that writes each image's documents.
func (o *sbomOptions) writer(dests []sbomDestination) func(report.Image, *sbom.Result) error {
	if len(dests) == 0 {
		return nil
	}
	return func(img report.Image, res *sbom.Result) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, d := range dests {
			file := d.file
			if !o.single {
				file = perImageFile(file, img.Reference)
			}
			if err := writeSBOM(file, d.format, res); err != nil {
				return err
			}
		}
		return nil
	}
}

func writeSBOM(file, format string, res *sbom.Result) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := sbom.Encode(f, res, format); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", file, err)
	}
	return f.Close()
}

// perImageFile inserts the image reference, made safe for a file name,
// before the extension: sbom.json for registry.example.com/app:1.2 becomes
// sbom.registry.example.com_app_1.2.json.
func perImageFile(file, ref string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, ref)
	safe = strings.Trim(safe, "._")
	dir, base := filepath.Split(file)
	ext := filepath.Ext(base)
	return filepath.Join(dir, strings.TrimSuffix(base, ext)+"."+safe+ext)
}
