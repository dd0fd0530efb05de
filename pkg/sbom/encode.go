//go:build !nosbom

package sbom

import (
	"fmt"
	"io"
	"strings"

	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/format/syftjson"
	syftsbom "github.com/anchore/syft/syft/sbom"
)

// encoder returns syft's encoder for a format, in its default version.
func encoder(format string) (syftsbom.FormatEncoder, error) {
	switch format {
	case FormatCycloneDXJSON:
		return cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	case FormatSPDXJSON:
		return spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig())
	case FormatSyftJSON:
		return syftjson.NewFormatEncoderWithConfig(syftjson.DefaultEncoderConfig())
	}
	return nil, fmt.Errorf("unknown SBOM format %q (want %s)", format, strings.Join(Formats(), ", "))
}

// CheckFormat reports whether Encode knows format.
func CheckFormat(format string) error {
	_, err := encoder(format)
	return err
}

// Encode writes the full document of r to w in format (see [Formats]),
// with syft's own encoder.
func Encode(w io.Writer, r *Result, format string) error {
	if r != nil && r.NoFiles {
		return fmt.Errorf("encoding %s: the packages were catalogued without file metadata (sbom.Options.Document)", format)
	}
	return encode(w, r, format)
}

// encode writes r's document as it is.
func encode(w io.Writer, r *Result, format string) error {
	enc, err := encoder(format)
	if err != nil {
		return err
	}
	if r == nil || r.Document == nil {
		return fmt.Errorf("encoding %s: no document", format)
	}
	if err := enc.Encode(w, *r.Document); err != nil {
		return fmt.Errorf("encoding %s: %w", format, err)
	}
	return nil
}
