// Package sbom catalogues the packages of a scanned image with syft
// (github.com/anchore/syft) and ties them to imgaudit's findings.
//
// syft's own image path rereads every layer and rewrites it to disk as an
// uncompressed tar before it catalogues anything. This package does not: it
// hands syft a source whose file resolver is the squashed filesystem the
// scan already built (pkg/layers), with every entry's metadata and the
// contents of the files syft's catalogers read, which the scan captured in
// its single pass because [Needs] declared them. No layer is read twice and
// nothing is extracted.
//
// [Catalog] returns a [Result]: the [Summary] that every imgaudit report
// carries (distribution, package counts per type, which packages own which
// files), and the full syft document, which [Encode] writes as CycloneDX,
// SPDX or syft JSON with syft's own encoders.
//
// What is left out, by design: file digests (they would need every file's
// bytes), files above the capture caps (layers.Limits) except what the scan
// keeps of Go executables (layers.Partial: headers and build information,
// enough for syft's Go cataloguer), and executables
// outside the paths [Needs] lists, whose embedded Go or Rust module lists
// are therefore not read. [Summary.Skipped] names the files syft asked for
// that the scan did not capture, so a report never overstates what it saw.
package sbom

import (
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrUnavailable is returned by Catalog and Encode in a build without syft
// (the nosbom build tag): see [Available].
var ErrUnavailable = errors.New("this imgaudit was built without package cataloguing (build tag nosbom)")

// Formats of full documents, as named on the command line.
const (
	FormatCycloneDXJSON = "cyclonedx-json"
	FormatSPDXJSON      = "spdx-json"
	FormatSyftJSON      = "syft-json"
)

// Formats lists the full-document formats Encode writes.
func Formats() []string { return []string{FormatCycloneDXJSON, FormatSPDXJSON, FormatSyftJSON} }

// Image identifies the image being catalogued. Only its manifest and config
// are read, never its layers.
type Image struct {
	// Reference names the image as the user gave it.
	Reference string
	// Digest is the manifest digest; zero when unknown.
	Digest v1.Hash
	// Image gives the manifest and config; nil describes the image by its
	// reference alone.
	Image v1.Image
}

// Options configure Catalog.
type Options struct {
	// ToolName and ToolVersion are recorded in full documents as their
	// creator.
	ToolName    string
	ToolVersion string
	// Parallelism is how many catalogers run at once; 0 means the number of
	// CPUs.
	Parallelism int
	// Document says the full document will be written (Encode): syft's
	// file metadata (an entry per file a package owns) and package-to-file
	// relationships are catalogued too. Without it the Result holds the
	// packages, the relationships between them and the summary, and Encode
	// refuses it: on a Debian image with 50,000 owned files the file
	// entries cost about 1 CPU-second and 30 MB of peak memory that nothing
	// else reads. The packages are the same either way.
	Document bool
}

// Summary is the package summary of an image.
type Summary struct {
	// Distro is the distribution as os-release names it, e.g. "debian",
	// and DistroVersion its version, e.g. "12"; both empty when unknown.
	Distro        string
	DistroVersion string
	// DistroName is the human-readable name, e.g. "Debian GNU/Linux 12
	// (bookworm)".
	DistroName string
	// Packages is the number of packages; ByType counts them per syft
	// package type ("deb", "apk", "rpm", "python", "go-module", "npm",
	// "java-archive", ...).
	Packages int
	ByType   map[string]int
	// Skipped lists the files syft asked to read whose contents the scan
	// did not capture (above a capture cap, or not in Needs), sorted; the
	// packages they hold are missing from the summary.
	Skipped []string
}

// Package identifies one package.
type Package struct {
	Name    string
	Version string
	// Type is syft's package type: deb, apk, rpm, python, go-module, ...
	Type string
	// Remove is the command that removes the package in a build step,
	// e.g. "apt-get purge -y curl"; empty when the image has no package
	// manager that can (Google distroless, a language package, a binary
	// copied in): such a file goes with a multi-stage build. Empty too for
	// an Essential package.
	Remove string
	// Essential is true for a dpkg package marked Essential: yes or
	// Priority: required: removing it is not safe advice (dpkg refuses an
	// Essential one), so the way out is a distroless or minimal base.
	Essential bool
}
