package output_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// benchChecks are the kinds of finding the benchmark reports carry, with
// the catalogue's shape: a path or not, aliases, a package, a detail.
var benchChecks = []struct {
	id, category, title      string
	severity                 report.Severity
	path, alias, pkg, config bool
}{
	{id: "IA-ROOT-USER", category: "root-user", severity: report.High, title: "Container runs as root", config: true},
	{id: "IA-SHELL", category: "shell", severity: report.Medium, title: "Shell available", path: true, alias: true, pkg: true},
	{id: "IA-PKG-MANAGER", category: "package-manager", severity: report.Medium, title: "Package manager available", path: true, alias: true, pkg: true},
	{id: "IA-NETWORK-TOOL", category: "network-tool", severity: report.Medium, title: "Network tool available", path: true, alias: true, pkg: true},
	{id: "IA-SETUID", category: "setuid", severity: report.High, title: "Setuid file", path: true, pkg: true},
	{id: "IA-SETGID", category: "setgid", severity: report.Medium, title: "Setgid file", path: true, pkg: true},
	{id: "IA-WORLD-WRITABLE", category: "world-writable", severity: report.Medium, title: "World-writable file or directory", path: true},
	{id: "IA-SECRET-ENV", category: "secret", severity: report.Critical, title: "Credential in ENV", config: true},
	{id: "IA-SECRET-HISTORY", category: "secret", severity: report.Critical, title: "Credential in build history", config: true},
	{id: "IA-SECRET-FILE", category: "secret", severity: report.Critical, title: "Credential file", path: true},
	{id: "IA-PASSWORD", category: "password", severity: report.High, title: "Account with a password or no password", path: true},
	{id: "IA-PACKAGE-RECORD", category: "package-record", severity: report.Low, title: "Package recorded but its tool is gone", path: true},
	{id: "IA-LAYER-ANOMALY", category: "suspicious-path", severity: report.Low, title: "Malformed or ambiguous layer entry", path: true},
	{id: "IA-HEALTHCHECK", category: "healthcheck", severity: report.Low, title: "No HEALTHCHECK", config: true},
}

// benchRules describe the checks as the catalogue does, with rationales and
// remediations of the catalogue's length.
func benchRules() []output.Rule {
	var rules []output.Rule
	for _, c := range benchChecks {
		rules = append(rules, output.Rule{
			ID: c.id, Title: c.title, Category: c.category, Severity: c.severity,
			Rationale: "Why " + c.title + " matters to someone attacking the container: " +
				strings.Repeat("an attacker with code execution chains it with the rest of the image. ", 3),
			Remediation: "Remove what " + c.id + " finds in the step that added it (`apt-get purge -y PKG`), " +
				"or copy the application into a smaller final stage; see the docs for details.",
		})
	}
	return rules
}

// benchReport is a report of images images with perImage findings each,
// gated at high, with one finding in 50 suppressed by policy, and, for
// several images, the fleet summary the CLI computes. It returns the report
// and the path of an unsuppressed finding every renderer must show.
func benchReport(images, perImage int) (*report.Report, string) {
	const layers = 6
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "imgaudit", Version: "bench"},
		Policy:        &report.PolicyRef{File: ".imgaudit.yaml", DisabledChecks: []string{"IA-BASE"}},
	}
	shown := ""
	for i := 0; i < images; i++ {
		img := report.Image{
			Reference: fmt.Sprintf("registry.example.com:5000/team/service-%03d:1.%d", i, i%7),
			Source:    "registry",
			Digest:    fmt.Sprintf("sha256:%064x", 0xd0000+i),
			Platform:  "linux/amd64",
			User:      report.User{Configured: "app", Verifiable: false},
			Base: report.Base{Kind: "debian", OSRelease: &report.OSRelease{ID: "debian", VersionID: "12",
				PrettyName: "Debian GNU/Linux 12 (bookworm)"}},
			Stats: report.Stats{Files: 40_000 + i, Layers: layers, CompressedBytes: 80<<20 + int64(i), UncompressedBytes: 230 << 20, DeletedFiles: 3},
			SBOM: &report.SBOM{Distro: "Debian GNU/Linux 12 (bookworm)", DistroID: "debian", DistroVersion: "12",
				Packages: 310, ByType: map[string]int{"deb": 300, "python": 10}},
		}
		refs := make([]*report.LayerRef, layers)
		for l := 0; l < layers; l++ {
			// The base layers are shared by the fleet, the others are not.
			diff := fmt.Sprintf("sha256:%064x", 0xa0000+l)
			if l >= 2 {
				diff = fmt.Sprintf("sha256:%064x", 0xb0000+i*layers+l)
			}
			created := fmt.Sprintf("RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends pkg%d pkg%d && rm -rf /var/lib/apt/lists/*", l, l+1)
			img.Layers = append(img.Layers, report.Layer{Index: l, Digest: fmt.Sprintf("sha256:%064x", 0xc0000+i*layers+l),
				DiffID: diff, Size: int64(l+1) << 20, CreatedBy: created})
			refs[l] = &report.LayerRef{Index: l, Digest: img.Layers[l].Digest, DiffID: diff, CreatedBy: created}
		}
		config := &report.LayerRef{Index: -1, CreatedBy: "ENV DB_PASSWORD=hu…(14 chars)"}
		for k := 0; k < perImage; k++ {
			c := benchChecks[k%len(benchChecks)]
			f := report.Finding{
				ID: c.id, Category: c.category, Severity: c.severity, Title: c.title,
				Detail:      fmt.Sprintf("evidence %d of %s: mode 4755, owner 0:0", k, c.id),
				Layer:       refs[k%layers],
				Remediation: "Remove it in the step that added it.",
			}
			switch {
			case c.config:
				f.Name, f.Layer = fmt.Sprintf("VAR_%d", k), config
			case c.path:
				f.Path = fmt.Sprintf("/usr/lib/x86_64-linux-gnu/pkg%d/bin/tool-%d", k/100, k)
				f.Name = fmt.Sprintf("tool-%d", k)
			}
			if c.alias {
				f.Aliases = []string{"/bin/" + f.Name, "/usr/bin/" + f.Name}
			}
			if c.pkg {
				name := fmt.Sprintf("pkg%d", k%300)
				f.Package = &report.PackageRef{Name: name, Version: "1.2.3-4+deb12u1", Type: "deb", Remove: "apt-get purge -y " + name}
			}
			if k%50 == 49 {
				f.Suppressed = &report.Suppression{Reason: "accepted until the next release", Expires: "2099-12-31", Policy: ".imgaudit.yaml:12"}
			} else if shown == "" && f.Path != "" {
				shown = f.Path
			}
			img.Findings = append(img.Findings, f)
		}
		r.Images = append(r.Images, img)
	}
	policy.Evaluate(r, nil, policy.FailOnHigh, time.Time{})
	if images > 1 {
		r.ComputeFleet(report.FleetTop)
	}
	return r, shown
}

// checkRendered fails the benchmark unless out is a complete rendering of r
// in format f.
func checkRendered(b *testing.B, f output.Format, r *report.Report, shown string, out []byte) {
	b.Helper()
	if len(out) == 0 {
		b.Fatalf("%s: empty output", f)
	}
	total := 0
	for _, img := range r.Images {
		total += len(img.Findings)
	}
	switch f {
	case output.FormatJSON:
		var got report.Report
		if err := json.Unmarshal(out, &got); err != nil {
			b.Fatalf("json: %v", err)
		}
		n := 0
		for _, img := range got.Images {
			n += len(img.Findings)
		}
		if len(got.Images) != len(r.Images) || n != total {
			b.Fatalf("json: %d images and %d findings, want %d and %d", len(got.Images), n, len(r.Images), total)
		}
	case output.FormatSARIF:
		var got struct {
			Runs []struct {
				Results []json.RawMessage `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			b.Fatalf("sarif: %v", err)
		}
		if len(got.Runs) != 1 {
			b.Fatalf("sarif: %d runs, want 1", len(got.Runs))
		}
		if n := len(got.Runs[0].Results); n != total {
			b.Fatalf("sarif: %d results, want %d", n, total)
		}
	case output.FormatJSONL:
		lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
		if len(lines) != len(r.Images)+1 {
			b.Fatalf("jsonl: %d lines, want %d", len(lines), len(r.Images)+1)
		}
		for i, l := range lines {
			if !json.Valid(l) {
				b.Fatalf("jsonl: line %d is not JSON", i+1)
			}
		}
	default: // table, markdown: for people
		if !bytes.Contains(out, []byte(shown)) {
			b.Fatalf("%s: no finding at %s in the output", f, shown)
		}
	}
}

// BenchmarkRender times each renderer on one image with many findings and
// on a fleet of images with fewer each, writing to io.Discard; bytes/s is
// the rate of rendered output.
func BenchmarkRender(b *testing.B) {
	sizes := []struct{ images, findings int }{{1, 10_000}, {100, 100}}
	o := output.Options{Rules: benchRules()}
	for _, f := range output.Formats() {
		for _, s := range sizes {
			b.Run(fmt.Sprintf("%s/%dx%d", f, s.images, s.findings), func(b *testing.B) {
				r, shown := benchReport(s.images, s.findings)
				var buf bytes.Buffer
				if err := output.Write(&buf, f, r, o); err != nil {
					b.Fatal(err)
				}
				checkRendered(b, f, r, shown, buf.Bytes())
				b.SetBytes(int64(buf.Len()))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := output.Write(io.Discard, f, r, o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
