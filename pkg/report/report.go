// Package report is imgaudit's report model: the versioned JSON contract that
// other tools read, and what every renderer in pkg/output takes.
//
// Schema version 1 is stable: fields may be added, none renamed or removed.
// Field order is fixed by the structs (never by maps), and no wall-clock time
// appears in a report, so the same image always gives the same bytes.
package report

import (
	"sort"
)

// SchemaVersion is the version of the JSON contract this package writes.
const SchemaVersion = 1

// Report is the result of one imgaudit run over one or more images.
type Report struct {
	SchemaVersion int     `json:"schemaVersion"`
	Tool          Tool    `json:"tool"`
	Images        []Image `json:"images"`
	// Workloads are the Kubernetes workloads of an imgaudit workload run,
	// absent from other reports.
	Workloads []Workload `json:"workloads,omitempty"`
	// Skipped counts, by kind, the objects of a workload run's manifests
	// that run no pods (Services, ConfigMaps ...), most first; absent when
	// there are none.
	Skipped []SkippedKind `json:"skipped,omitempty"`
	Summary Summary       `json:"summary"`
	// Policy names the policy file applied to the findings, when any.
	Policy *PolicyRef `json:"policy,omitempty"`
	// Gate is the CI gate the run applied, when any: the threshold and
	// whether unsuppressed findings reached it. Images that could not be
	// scanned fail a run on their own (exit 2), whatever the gate says.
	Gate *Gate `json:"gate,omitempty"`
	// Warnings are problems that did not stop the run, such as a policy
	// ignore past its expiry date. They are printed on standard error too.
	Warnings []Warning `json:"warnings"`
	// Shard is the part of a sharded audit this report covers (--shard
	// I/N); absent otherwise, and from the report imgaudit merge makes.
	Shard *Shard `json:"shard,omitempty"`
}

// PolicyRef records the policy a report was filtered with.
type PolicyRef struct {
	// File is the policy file as given or found ("" for a policy built in
	// code).
	File string `json:"file,omitempty"`
	// DisabledChecks and DisabledCategories were not reported.
	DisabledChecks     []string `json:"disabledChecks,omitempty"`
	DisabledCategories []string `json:"disabledCategories,omitempty"`
}

// Gate is the pass/fail decision of a run.
type Gate struct {
	// FailOn is the threshold: none, info, low, medium, high or critical.
	// "none" never fails.
	FailOn string `json:"failOn"`
	// Profile is the gate profile (baseline, hardened) whose checks fail an
	// image at low severity or above whatever FailOn says; empty when the
	// gate is FailOn alone.
	Profile string `json:"profile,omitempty"`
	// Failed is true when at least one unsuppressed finding is at or above
	// FailOn, or an unsuppressed added finding at or above FailOnNew.
	Failed bool `json:"failed"`
	// Verdict is the run's: incomplete when an image could not be scanned
	// completely (whatever the findings), else fail when Failed, else pass.
	Verdict Verdict `json:"verdict,omitempty"`
	// Failing counts the unsuppressed findings at or above FailOn, over
	// every image.
	Failing int `json:"failing,omitempty"`
	// Incomplete counts the images that could not be scanned completely.
	Incomplete int `json:"incomplete,omitempty"`
	// FailOnNew is the threshold for the findings a baseline did not have
	// (--fail-on-new), absent without a baseline; FailingNew counts the
	// unsuppressed added findings at or above it, over every image.
	FailOnNew  string `json:"failOnNew,omitempty"`
	FailingNew int    `json:"failingNew,omitempty"`
}

// Verdict is the gate's decision about an image or a run.
type Verdict string

// Verdicts.
const (
	// Pass: no unsuppressed finding at or above the threshold.
	Pass Verdict = "pass"
	// Fail: at least one unsuppressed finding at or above the threshold.
	Fail Verdict = "fail"
	// Incomplete: the image could not be scanned completely, so it is not
	// assessed, and never passes; a run with such an image is incomplete.
	Incomplete Verdict = "incomplete"
)

// ImageGate is the verdict of the run's gate on one image.
type ImageGate struct {
	// Verdict is pass, fail or incomplete.
	Verdict Verdict `json:"verdict"`
	// Failing counts the image's unsuppressed findings at or above the
	// gate's threshold.
	Failing int `json:"failing"`
	// FailingNew counts the image's unsuppressed added findings (Diff) at
	// or above the gate's FailOnNew.
	FailingNew int `json:"failingNew,omitempty"`
	// Reasons explain a verdict other than pass, one line each: a failing
	// check with its count and severity ("IA-SHELL: 2 medium findings"),
	// worst first, or why the scan is incomplete.
	Reasons []string `json:"reasons,omitempty"`
}

// Warning is a problem that did not stop the run.
type Warning struct {
	// Kind classifies the warning, e.g. "expired-ignore".
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Image is the audit of one image (one platform of a multi-platform index).
type Image struct {
	// Reference is what the user asked for, plus the platform when the image
	// was picked from an index.
	Reference string `json:"reference"`
	// Source is where it came from: registry, oci, oci-archive, docker-archive.
	Source string `json:"source,omitempty"`
	// Digest is the image manifest's digest.
	Digest string `json:"digest,omitempty"`
	// IndexDigest is the digest of the index the image was picked from.
	IndexDigest string `json:"indexDigest,omitempty"`
	// Platform is os/arch[/variant].
	Platform string `json:"platform,omitempty"`
	// PlatformNote says how the platform was chosen when the user did not say.
	PlatformNote string    `json:"platformNote,omitempty"`
	User         User      `json:"user"`
	Base         Base      `json:"base"`
	Layers       []Layer   `json:"layers"`
	Stats        Stats     `json:"stats"`
	Findings     []Finding `json:"findings"`
	// SBOM is the package summary, absent when cataloguing was skipped.
	SBOM *SBOM `json:"sbom,omitempty"`
	// AlsoKnownAs lists the other references that name the same image
	// (tags of one digest in a registry audit), which was audited once.
	AlsoKnownAs []string `json:"alsoKnownAs,omitempty"`
	// Error is set when the image could not be scanned completely; such an
	// image is never reported as clean.
	Error string `json:"error,omitempty"`
	// Gate is the image's verdict under the run's gate (Report.Gate),
	// absent when no gate was applied.
	Gate *ImageGate `json:"gate,omitempty"`
	// Diff compares the image with a baseline (imgaudit diff, scan
	// --baseline); absent otherwise.
	Diff *Diff `json:"diff,omitempty"`
}

// User is the user the container runs as.
type User struct {
	// Configured is the config's User field as written ("" when unset).
	Configured string `json:"configured"`
	// UID is the numeric user ID, when it can be determined.
	UID *int `json:"uid"`
	// Root is true when the container runs as uid 0, or cannot be proven not to.
	Root bool `json:"root"`
	// Verifiable is false when a runtime cannot prove the user is not root
	// (a name rather than a number, or a name missing from /etc/passwd).
	Verifiable bool `json:"verifiable"`
}

// Base says what the image is built on.
type Base struct {
	// Kind is distroless, wolfi, chainguard, scratch, busybox, alpine,
	// debian, ubuntu, rhel, centos, fedora, rocky, almalinux, amazonlinux,
	// ... or unknown.
	Kind string `json:"kind"`
	// Distroless is true only when the final filesystem has no shell and no
	// package manager.
	Distroless bool       `json:"distroless"`
	OSRelease  *OSRelease `json:"osRelease,omitempty"`
	// Name and Digest are the base image the manifest names in the OCI
	// annotations org.opencontainers.image.base.name and .base.digest
	// (BuildKit writes them), "" when it names none.
	Name   string `json:"name,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// OSRelease holds the fields of /etc/os-release that identify a distribution.
type OSRelease struct {
	ID         string `json:"id,omitempty"`
	VersionID  string `json:"versionID,omitempty"`
	PrettyName string `json:"prettyName,omitempty"`
}

// Layer is one layer of the image, base first.
type Layer struct {
	Index     int    `json:"index"`
	Digest    string `json:"digest"`
	DiffID    string `json:"diffID"`
	Size      int64  `json:"size"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// LayerRef points a finding at the layer (and Dockerfile step) that caused it.
type LayerRef struct {
	Index     int    `json:"index"`
	Digest    string `json:"digest"`
	DiffID    string `json:"diffID"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// Stats are counts about the image's contents.
type Stats struct {
	Files             int   `json:"files"`
	Layers            int   `json:"layers"`
	CompressedBytes   int64 `json:"compressedBytes"`
	UncompressedBytes int64 `json:"uncompressedBytes"`
	DeletedFiles      int   `json:"deletedFiles"`
}

// Finding is one thing an attacker could use, with its evidence.
type Finding struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	// Severity is info, low, medium, high or critical.
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Path is absolute in the final filesystem ("" for findings about the
	// config, such as the user).
	Path string `json:"path,omitempty"`
	// Aliases are the other paths that reach the same file.
	Aliases []string `json:"aliases,omitempty"`
	// Name carries the tool name, or an ENV variable's name.
	Name string `json:"name,omitempty"`
	// Detail is a one-line explanation of the evidence (secret values are
	// always redacted).
	Detail string `json:"detail,omitempty"`
	// Deleted marks a file shipped only in a lower layer's blob.
	Deleted bool      `json:"deleted,omitempty"`
	Layer   *LayerRef `json:"layer,omitempty"`
	// Package is the package whose database lists the file (or one of its
	// aliases), set for tool, shell, package-manager, SSH-server, setuid and
	// setgid findings when the image's SBOM was catalogued and a package
	// owns the file.
	Package     *PackageRef `json:"package,omitempty"`
	Remediation string      `json:"remediation"`
	// Suppressed is set when a policy ignore matched; Reason says why.
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// Mitigated is set on a workload finding about the image that the pod
	// spec neutralises (a root image run with runAsUser: 10001); it never
	// fails a gate.
	Mitigated bool `json:"mitigated,omitempty"`
}

// Suppression records the policy ignore that matched a finding.
type Suppression struct {
	Reason string `json:"reason"`
	// Expires is the last day (YYYY-MM-DD) the ignore applies, "" for never.
	Expires string `json:"expires,omitempty"`
	// Policy locates the ignore that matched, as FILE:LINE.
	Policy string `json:"policy,omitempty"`
}

// PackageRef names a package that ships a file.
type PackageRef struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Type is the package type as syft names it: deb, apk, rpm, python,
	// go-module, npm, java-archive, binary, ...
	Type string `json:"type"`
	// Remove is the command that uninstalls the package in a build step
	// ("apt-get purge -y curl", "apk del curl", "microdnf remove -y curl"),
	// empty when the image has no package manager that can: then a
	// multi-stage build is the way to leave the file out.
	Remove string `json:"remove,omitempty"`
	// Essential is true for a package the distribution protects (dpkg's
	// Essential: yes or Priority: required): no removal command is given,
	// since removing it is unsafe; a distroless or minimal base is the
	// way to leave its files out.
	Essential bool `json:"essential,omitempty"`
}

// SBOM is the package summary of an image.
type SBOM struct {
	// Distro is the distribution's name and version for a person, as
	// os-release gives it ("Debian GNU/Linux 12 (bookworm)").
	Distro string `json:"distro,omitempty"`
	// DistroID and DistroVersion identify the distribution for programs:
	// os-release's ID and VERSION_ID ("debian", "12").
	DistroID      string `json:"distroID,omitempty"`
	DistroVersion string `json:"distroVersion,omitempty"`
	// Packages counts the packages; ByType per package type (deb, apk,
	// rpm, python, go-module, npm, java-archive, ...).
	Packages int            `json:"packages"`
	ByType   map[string]int `json:"byType"`
	// Skipped lists the files the cataloguers asked to read whose contents
	// the scan did not capture (larger than the capture limit, or of a kind
	// imgaudit does not capture, such as kernel modules or AI models): the
	// packages they hold are not counted.
	Skipped []string `json:"skipped,omitempty"`
}

// Summary aggregates a report over its images.
type Summary struct {
	Images     int              `json:"images"`
	Errors     int              `json:"errors"`
	Findings   int              `json:"findings"`
	BySeverity map[Severity]int `json:"bySeverity"`
	ByCategory map[string]int   `json:"byCategory"`
	Suppressed int              `json:"suppressed"`
	// Fleet is set when the report covers more than one image.
	Fleet *Fleet `json:"fleet,omitempty"`
	// Workloads aggregates the workloads of a workload run (absent from
	// other reports); the counts above are the images' own findings.
	Workloads *WorkloadSummary `json:"workloads,omitempty"`
}

// Summarize recomputes r.Summary from r.Images and r.Workloads. Suppressed
// findings are counted apart and not in the other counts; so are mitigated
// workload findings.
func (r *Report) Summarize() {
	s := Summary{BySeverity: map[Severity]int{}, ByCategory: map[string]int{}}
	for _, img := range r.Images {
		s.Images++
		if img.Error != "" {
			s.Errors++
		}
		for _, f := range img.Findings {
			if f.Suppressed != nil {
				s.Suppressed++
				continue
			}
			s.Findings++
			s.BySeverity[f.Severity]++
			s.ByCategory[f.Category]++
		}
	}
	if r.Workloads != nil {
		s.Workloads = summarizeWorkloads(r.Workloads)
	}
	r.Summary = s
}

func summarizeWorkloads(ws []Workload) *WorkloadSummary {
	s := &WorkloadSummary{BySeverity: map[Severity]int{}, ByCategory: map[string]int{}}
	for _, w := range ws {
		s.Workloads++
		incomplete := false
		for _, c := range w.Containers {
			s.Containers++
			if c.Image.Error != "" {
				incomplete = true
			}
			for _, f := range c.Findings {
				switch {
				case f.Suppressed != nil:
					s.Suppressed++
				case f.Mitigated:
					s.Mitigated++
				default:
					s.Findings++
					s.BySeverity[f.Severity]++
					s.ByCategory[f.Category]++
				}
			}
		}
		if incomplete {
			s.Incomplete++
		}
	}
	return s
}

// SortImages orders images by reference then platform, for stable output.
func (r *Report) SortImages() {
	sort.SliceStable(r.Images, func(i, j int) bool {
		a, b := r.Images[i], r.Images[j]
		if a.Reference != b.Reference {
			return a.Reference < b.Reference
		}
		return a.Platform < b.Platform
	})
}
