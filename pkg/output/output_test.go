package output_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/internal/schematest"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

var update = flag.Bool("update", false, "rewrite golden files and the generated JSON schema")

const (
	reportSchema = "../../docs/schema/report-v1.schema.json"
	sarifSchema  = "testdata/sarif-schema-2.1.0.json"
)

func intp(i int) *int { return &i }

// fixture is a report that exercises every renderer: a failing image with
// findings of every severity (paths, aliases, a deleted file, a config
// finding, a suppressed one, characters Markdown and URIs must escape), a
// clean image from a multi-platform index, and an image that could not be
// scanned.
func fixture() *report.Report {
	l1 := &report.LayerRef{Index: 1, Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		DiffID:    "sha256:aaaa111111111111111111111111111111111111111111111111111111111111",
		CreatedBy: "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl bash | tee /log && rm -rf /var/lib/apt/lists/*"}
	l2 := &report.LayerRef{Index: 2, Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222",
		DiffID: "sha256:bbbb222222222222222222222222222222222222222222222222222222222222", CreatedBy: "COPY deploy_key /root/.ssh/id_ed25519 # buildkit"}
	cfg := &report.LayerRef{Index: -1, CreatedBy: "ENV AWS_SECRET_ACCESS_KEY=<redacted>"}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "imgaudit", Version: "test"},
		Images: []report.Image{
			{
				Reference:   "registry.example.com:5000/team/app:1.2",
				AlsoKnownAs: []string{"registry.example.com:5000/team/app:latest", "registry.example.com:5000/team/app:stable"},
				Source:      "registry",
				Digest:      "sha256:eeee000000000000000000000000000000000000000000000000000000000000",
				Platform:    "linux/amd64",
				User:        report.User{Configured: "", UID: intp(0), Root: true, Verifiable: true},
				Base:        report.Base{Kind: "debian", OSRelease: &report.OSRelease{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"}},
				Layers: []report.Layer{
					{Index: 0, Digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000", DiffID: "sha256:cccc", Size: 30 << 20, CreatedBy: "ADD file:4f2a in / "},
					{Index: 1, Digest: l1.Digest, DiffID: l1.DiffID, Size: 12 << 20, CreatedBy: l1.CreatedBy},
					{Index: 2, Digest: l2.Digest, DiffID: l2.DiffID, Size: 411, CreatedBy: l2.CreatedBy},
					{Index: 3, Digest: "sha256:3333333333333333333333333333333333333333333333333333333333333333", DiffID: "sha256:dddd", Size: 96, CreatedBy: "RUN /bin/sh -c rm /root/.ssh/id_ed25519"},
				},
				Stats: report.Stats{Files: 4012, Layers: 4, CompressedBytes: 44<<20 + 507, UncompressedBytes: 120 << 20, DeletedFiles: 1},
				SBOM: &report.SBOM{Distro: "Debian GNU/Linux 12 (bookworm)", DistroID: "debian", DistroVersion: "12",
					Packages: 114, ByType: map[string]int{"deb": 112, "python": 2}, Skipped: []string{"/opt/app/lib/huge.jar"}},
				Findings: []report.Finding{
					{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Title: "Shell available", Path: "/usr/bin/bash",
						Aliases: []string{"/bin/bash", "/bin/sh", "/usr/bin/sh"}, Name: "bash,sh", Layer: l1, Remediation: "Use a base without a shell.",
						Package: &report.PackageRef{Name: "bash", Version: "5.2.15-2+b7", Type: "deb", Remove: "apt-get purge -y bash"}},
					{ID: "IA-SECRET-FILE", Category: "secret", Severity: report.Critical, Title: "Credential file", Path: "/root/.ssh/id_ed25519",
						Deleted: true, Layer: l2, Detail: "OpenSSH private key <id_ed25519>", Remediation: "Never COPY keys; use `RUN --mount=type=ssh`."},
					{ID: "IA-SECRET-ENV", Category: "secret", Severity: report.Critical, Title: "Credential in ENV", Name: "AWS_SECRET_ACCESS_KEY",
						Layer: cfg, Remediation: "Pass secrets at runtime."},
					{ID: "IA-ROOT-USER", Category: "root-user", Severity: report.High, Title: "Container runs as root", Remediation: "Add a numeric USER."},
					{ID: "IA-NETWORK-TOOL", Category: "network-tool", Severity: report.Medium, Title: "Network tool available", Path: "/usr/bin/curl", Name: "curl",
						Package: &report.PackageRef{Name: "curl", Version: "7.88.1-10+deb12u8", Type: "deb", Remove: "apt-get purge -y curl"},
						Layer:   l1, Remediation: "Remove curl.", Suppressed: &report.Suppression{Reason: "needed by the | health probe until v2", Expires: "2099-12-31", Policy: ".imgaudit.yaml:9"}},
					{ID: "IA-WORLD-WRITABLE", Category: "world-writable", Severity: report.Low, Title: "World-writable file or directory",
						Path: "/opt/app/data dir/cache [tmp]/a_b*c#d?e%f:g", Layer: l1, Remediation: "chmod o-w."},
					{ID: "IA-HEALTHCHECK", Category: "healthcheck", Severity: report.Info, Title: "No HEALTHCHECK", Remediation: "Add a HEALTHCHECK."},
				},
			},
			{
				Reference:    "registry.example.com:5000/team/app:1.2 (linux/arm64/v8)",
				Source:       "registry",
				Digest:       "sha256:ffff000000000000000000000000000000000000000000000000000000000000",
				IndexDigest:  "sha256:9999000000000000000000000000000000000000000000000000000000000000",
				Platform:     "linux/arm64/v8",
				PlatformNote: "picked from an index of 2 platforms",
				User:         report.User{Configured: "65532", UID: intp(65532), Verifiable: true},
				Base:         report.Base{Kind: "distroless", Distroless: true},
				Layers:       []report.Layer{{Index: 0, Digest: "sha256:4444444444444444444444444444444444444444444444444444444444444444", DiffID: "sha256:eeee", Size: 2 << 20}},
				Stats:        report.Stats{Files: 12, Layers: 1, CompressedBytes: 2 << 20, UncompressedBytes: 5 << 20},
				Findings:     []report.Finding{},
			},
			{
				Reference: "oci:/tmp/broken",
				Error:     "oci:/tmp/broken: reading layer 1 (sha256:5555): unexpected EOF",
			},
		},
		Policy: &report.PolicyRef{File: ".imgaudit.yaml", DisabledChecks: []string{"IA-BASE"}},
		Warnings: []report.Warning{{Kind: "expired-ignore",
			Message: ".imgaudit.yaml:14: ignore of IA-SETUID at /usr/bin/passwd expired on 2024-01-31 and no longer applies (reason was: legacy login)"}},
	}
	policy.Evaluate(r, nil, policy.FailOnHigh, time.Time{})
	return r
}

func rules() []output.Rule {
	return []output.Rule{
		{ID: "IA-ROOT-USER", Title: "Container runs as root", Category: "root-user", Severity: report.High,
			Rationale: "Root in the container owns every file.", Remediation: "Add a numeric non-root user, e.g. `USER 65532:65532`.",
			Fix: "End with a numeric non-root USER."},
		{ID: "IA-SHELL", Title: "Shell available", Category: "shell", Severity: report.Medium,
			Rationale: "A shell runs whatever an attacker types.", Remediation: "Build FROM a base without a shell (gcr.io/distroless/*)."},
		{ID: "IA-BASE", Title: "Base is not distroless", Category: "base", Severity: report.Low,
			Rationale: "A full distribution ships tools.", Remediation: "Use a distroless base."},
	}
}

var formats = []struct {
	format output.Format
	ext    string
}{
	{output.FormatTable, "table"},
	{output.FormatJSON, "json"},
	{output.FormatSARIF, "sarif"},
	{output.FormatMarkdown, "md"},
}

func render(t *testing.T, f output.Format, r *report.Report, o output.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := output.Write(&buf, f, r, o); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./pkg/output -run Golden -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got); refresh with: go test ./pkg/output -run Golden -update\n%s", path, d)
	}
}

func TestGoldenRenderers(t *testing.T) {
	for _, show := range []bool{false, true} {
		for _, f := range formats {
			name := "report." + f.ext
			if show {
				if f.format == output.FormatJSON || f.format == output.FormatSARIF {
					continue // always carry suppressed findings
				}
				name = "report.show-suppressed." + f.ext
			}
			t.Run(name, func(t *testing.T) {
				got := render(t, f.format, fixture(), output.Options{Rules: rules(), ShowSuppressed: show})
				golden(t, name, got)
				// Rendering is deterministic.
				if again := render(t, f.format, fixture(), output.Options{Rules: rules(), ShowSuppressed: show}); !bytes.Equal(got, again) {
					t.Error("two renderings of the same report differ")
				}
			})
		}
	}
}

func TestTableFitsWidth(t *testing.T) {
	for _, show := range []bool{false, true} {
		out := render(t, output.FormatTable, fixture(), output.Options{Rules: rules(), ShowSuppressed: show})
		for i, line := range strings.Split(string(out), "\n") {
			if n := utf8.RuneCountInString(line); n > output.TableWidth {
				t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
			}
		}
		var rb bytes.Buffer
		if err := output.WriteRuleTable(&rb, rules(), output.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(rb.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > output.TableWidth {
				t.Errorf("rule table line is %d columns wide: %q", n, line)
			}
		}
	}
}

func TestTableColor(t *testing.T) {
	plain := string(render(t, output.FormatTable, fixture(), output.Options{}))
	if strings.Contains(plain, "\x1b[") {
		t.Error("colour escapes without Color")
	}
	color := string(render(t, output.FormatTable, fixture(), output.Options{Color: true}))
	for _, want := range []string{"\x1b[1m\x1b[31mCRITICAL\x1b[0m", "\x1b[1m\x1b[31mVerdict: FAIL\x1b[0m", "\x1b[1m\x1b[32mVerdict: PASS\x1b[0m"} {
		if !strings.Contains(color, want) {
			t.Errorf("coloured table lacks %q", want)
		}
	}
	// Without the escapes, the coloured table is the plain one.
	stripped := color
	for _, code := range []string{"\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[2m"} {
		stripped = strings.ReplaceAll(stripped, code, "")
	}
	if d := cmp.Diff(plain, stripped); d != "" {
		t.Errorf("colour changes the layout:\n%s", d)
	}
}

func TestTableVerdicts(t *testing.T) {
	out := string(render(t, output.FormatTable, fixture(), output.Options{}))
	for _, want := range []string{
		"Verdict: FAIL — 3 findings at or above high (6 findings in all: 2 critical, 1 high, 1 medium, 1 low, 1 info); 1 suppressed by policy",
		"Verdict: PASS — no findings",
		"Verdict: ERROR — scan incomplete, image not assessed: oci:/tmp/broken: reading layer 1",
		"Total: 3 images, 6 findings, 1 failed at high, 1 not scanned completely, 1 suppressed",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("table lacks %q", want)
		}
	}
	// Worst first: the critical findings come before the others.
	if strings.Index(out, "CRITICAL") > strings.Index(out, "HIGH ") || strings.Index(out, "HIGH ") > strings.Index(out, "MEDIUM") {
		t.Error("findings are not worst first")
	}
	if strings.Contains(out, "/usr/bin/curl") {
		t.Error("a suppressed finding is listed without ShowSuppressed")
	}
	shown := string(render(t, output.FormatTable, fixture(), output.Options{ShowSuppressed: true}))
	for _, want := range []string{"Suppressed by policy (1):", "/usr/bin/curl", "ignored: needed by the | health probe", "by .imgaudit.yaml:9, until 2099-12-31"} {
		if !strings.Contains(shown, want) {
			t.Errorf("ShowSuppressed table lacks %q", want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := fixture()
	var got report.Report
	if err := json.Unmarshal(render(t, output.FormatJSON, in, output.Options{}), &got); err != nil {
		t.Fatal(err)
	}
	// The error image had nil lists: JSON carries them as [].
	in.Images[2].Findings, in.Images[2].Layers = []report.Finding{}, []report.Layer{}
	if d := cmp.Diff(*in, got); d != "" {
		t.Errorf("json round trip (-want +got):\n%s", d)
	}
}

// TestJSONValidatesAgainstSchema validates the golden JSON, and reports with
// every optional part left empty, against docs/schema.
func TestJSONValidatesAgainstSchema(t *testing.T) {
	s, err := schematest.Compile(reportSchema)
	if err != nil {
		t.Fatal(err)
	}
	bare := &report.Report{SchemaVersion: 1, Tool: report.Tool{Name: "imgaudit", Version: "dev"}}
	bare.Images = []report.Image{{Reference: "x"}}
	cases := map[string][]byte{
		"fixture": render(t, output.FormatJSON, fixture(), output.Options{}),
		"bare":    render(t, output.FormatJSON, bare, output.Options{}),
		"empty":   render(t, output.FormatJSON, &report.Report{SchemaVersion: 1}, output.Options{}),
	}
	if b, err := os.ReadFile("testdata/report.json"); err == nil {
		cases["golden"] = b
	}
	for name, doc := range cases {
		if err := schematest.Validate(s, doc); err != nil {
			t.Errorf("%s: %v\n%s", name, err, doc)
		}
	}
	// The schema is not vacuous: a wrong severity or a missing field fails.
	for name, mutate := range map[string]func(m map[string]any){
		"bad severity": func(m map[string]any) {
			img := m["images"].([]any)[0].(map[string]any)
			img["findings"].([]any)[0].(map[string]any)["severity"] = "severe"
		},
		"no reference": func(m map[string]any) { delete(m["images"].([]any)[0].(map[string]any), "reference") },
		"version 2":    func(m map[string]any) { m["schemaVersion"] = 2 },
	} {
		var m map[string]any
		if err := json.Unmarshal(cases["fixture"], &m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		b, _ := json.Marshal(m)
		if err := schematest.Validate(s, b); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

func TestSARIFValidatesAgainstOASISSchema(t *testing.T) {
	s, err := schematest.Compile(sarifSchema)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{
		"fixture":    render(t, output.FormatSARIF, fixture(), output.Options{Rules: rules()}),
		"no rules":   render(t, output.FormatSARIF, fixture(), output.Options{}),
		"no images":  render(t, output.FormatSARIF, &report.Report{SchemaVersion: 1}, output.Options{}),
		"no catalog": render(t, output.FormatSARIF, &report.Report{SchemaVersion: 1, Tool: report.Tool{Name: "imgaudit"}}, output.Options{Rules: rules()}),
	}
	if b, err := os.ReadFile("testdata/report.sarif"); err == nil {
		docs["golden"] = b
	}
	for name, doc := range docs {
		if err := schematest.Validate(s, doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		checkGitHubSARIF(t, name, doc)
	}
}

// sarifDoc is the part of SARIF GitHub code scanning insists on.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string `json:"id"`
					Help       struct{ Text, Markdown string }
					Properties struct {
						Tags             []string `json:"tags"`
						SecuritySeverity string   `json:"security-severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Justification string `json:"justification"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

// checkGitHubSARIF asserts what GitHub code scanning needs beyond the
// schema: every result located in a file at a line, rules with help, tags
// including "security" and a numeric security-severity, ruleIndex pointing
// at the rule, unique fingerprints.
func checkGitHubSARIF(t *testing.T, name string, doc []byte) {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%s: %d runs", name, len(d.Runs))
	}
	run := d.Runs[0]
	seenRule := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if seenRule[r.ID] {
			t.Errorf("%s: rule %s twice", name, r.ID)
		}
		seenRule[r.ID] = true
		if r.Help.Text == "" || r.Help.Markdown == "" {
			t.Errorf("%s: rule %s has no help", name, r.ID)
		}
		if v, err := strconv.ParseFloat(r.Properties.SecuritySeverity, 64); err != nil || v < 0 || v > 10 {
			t.Errorf("%s: rule %s security-severity %q", name, r.ID, r.Properties.SecuritySeverity)
		}
		if !contains(r.Properties.Tags, "security") {
			t.Errorf("%s: rule %s tags %v lack security", name, r.ID, r.Properties.Tags)
		}
	}
	fps := map[string]bool{}
	for i, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("%s: result %d: ruleIndex %d does not name %s", name, i, res.RuleIndex, res.RuleID)
		}
		if res.Message.Text == "" {
			t.Errorf("%s: result %d has no message", name, i)
		}
		if len(res.Locations) == 0 {
			t.Errorf("%s: result %d has no location", name, i)
			continue
		}
		for _, loc := range res.Locations {
			uri := loc.PhysicalLocation.ArtifactLocation.URI
			if uri == "" || strings.Contains(strings.SplitN(uri, "/", 2)[0], ":") || strings.HasPrefix(uri, "/") {
				t.Errorf("%s: result %d: uri %q is not a relative path", name, i, uri)
			}
			if loc.PhysicalLocation.Region.StartLine < 1 {
				t.Errorf("%s: result %d: startLine %d", name, i, loc.PhysicalLocation.Region.StartLine)
			}
		}
		fp := res.PartialFingerprints[output.FingerprintKey]
		if fp == "" || fps[fp] {
			t.Errorf("%s: result %d: fingerprint %q missing or repeated", name, i, fp)
		}
		fps[fp] = true
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestSARIFDetails(t *testing.T) {
	var d sarifDoc
	if err := json.Unmarshal(render(t, output.FormatSARIF, fixture(), output.Options{Rules: rules()}), &d); err != nil {
		t.Fatal(err)
	}
	run := d.Runs[0]
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
	}
	// The catalogue's rules in order, then the checks only findings name.
	want := []string{"IA-ROOT-USER", "IA-SHELL", "IA-BASE", "IA-HEALTHCHECK", "IA-NETWORK-TOOL", "IA-SECRET-ENV", "IA-SECRET-FILE", "IA-WORLD-WRITABLE"}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
	if run.Invocations[0].ExecutionSuccessful {
		t.Error("an image failed, yet the invocation is successful")
	}
	uris := map[string]string{}
	suppressed := 0
	for _, res := range run.Results {
		uris[res.RuleID] = res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		if len(res.Suppressions) > 0 {
			suppressed++
			if !strings.Contains(res.Suppressions[0].Justification, "health probe") {
				t.Errorf("justification %q", res.Suppressions[0].Justification)
			}
		}
	}
	if suppressed != 1 {
		t.Errorf("%d suppressed results, want 1", suppressed)
	}
	for id, want := range map[string]string{
		"IA-SHELL":          "registry.example.com_5000/team/app/usr/bin/bash",
		"IA-ROOT-USER":      "registry.example.com_5000/team/app",
		"IA-WORLD-WRITABLE": "registry.example.com_5000/team/app/opt/app/data%20dir/cache%20%5Btmp%5D/a_b%2Ac%23d%3Fe%25f:g",
	} {
		if uris[id] != want {
			t.Errorf("%s: uri %q, want %q", id, uris[id], want)
		}
	}
}

// TestSARIFFingerprintsSurviveRebuilds: a new tag, digest and layers for the
// same finding keep its fingerprint; another path or platform changes it.
func TestSARIFFingerprintsSurviveRebuilds(t *testing.T) {
	fp := func(r *report.Report) string {
		var d sarifDoc
		if err := json.Unmarshal(render(t, output.FormatSARIF, r, output.Options{}), &d); err != nil {
			t.Fatal(err)
		}
		for _, res := range d.Runs[0].Results {
			if res.RuleID == "IA-SHELL" {
				return res.PartialFingerprints[output.FingerprintKey]
			}
		}
		t.Fatal("no IA-SHELL result")
		return ""
	}
	base := fp(fixture())
	rebuilt := fixture()
	rebuilt.Images[0].Reference = "registry.example.com:5000/team/app:1.3@sha256:abcd"
	rebuilt.Images[0].Digest = "sha256:0123"
	rebuilt.Images[0].Findings[0].Layer = &report.LayerRef{Index: 4, Digest: "sha256:new", CreatedBy: "RUN other"}
	if got := fp(rebuilt); got != base {
		t.Errorf("fingerprint changed across a rebuild: %s vs %s", got, base)
	}
	moved := fixture()
	moved.Images[0].Findings[0].Path = "/bin/bash"
	if fp(moved) == base {
		t.Error("another path keeps the fingerprint")
	}
	other := fixture()
	other.Images[0].Platform = "linux/s390x"
	if fp(other) == base {
		t.Error("another platform keeps the fingerprint")
	}
}

func TestMarkdownEscapes(t *testing.T) {
	md := string(render(t, output.FormatMarkdown, fixture(), output.Options{ShowSuppressed: true}))
	for _, want := range []string{
		"`/opt/app/data dir/cache [tmp]/a_b*c#d?e%f:g`",                     // a code span keeps the path as is
		"needed by the \\| health probe",                                    // a pipe in a cell is escaped
		"apt-get install -y --no-install-recommends curl bash \\| tee /log", // and in a code span in a cell
		"OpenSSH private key &lt;id\\_ed25519&gt;",                          // HTML and emphasis are escaped
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Every table row has the header's number of cells.
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| Severity") && !strings.HasPrefix(line, "| **") && !strings.HasPrefix(line, "| medium") &&
			!strings.HasPrefix(line, "| low") && !strings.HasPrefix(line, "| info") {
			continue
		}
		cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") - 1
		if cells != 4 {
			t.Errorf("%d cells: %s", cells, line)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]output.Format{"table": "table", "json": "json", "sarif": "sarif", "markdown": "markdown", "md": "markdown", "html": "html"} {
		if got, err := output.ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := output.ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "table, json, sarif, markdown") {
		t.Errorf("ParseFormat(xml) = %v", err)
	}
}

// TestPackageOwnership checks how the package that ships a finding's file
// is shown: with its removal command, or with multi-stage advice when the
// image has no package manager for it; and the combined removal commands.
func TestPackageOwnership(t *testing.T) {
	r := fixture()
	img := &r.Images[0]
	img.Findings = append(img.Findings,
		report.Finding{ID: "IA-PKG-MANAGER", Category: "package-manager", Severity: report.Medium, Title: "Package manager available",
			Path: "/usr/local/bin/pip3", Name: "pip3", Remediation: "Install in a build stage.",
			Package: &report.PackageRef{Name: "pip", Version: "24.0", Type: "python"}},
		report.Finding{ID: "IA-NETWORK-TOOL", Category: "network-tool", Severity: report.Medium, Title: "Network tool available",
			Path: "/usr/bin/wget", Name: "wget", Remediation: "Remove wget.",
			Package: &report.PackageRef{Name: "wget", Version: "1.21.3-1+b2", Type: "deb", Remove: "apt-get purge -y wget"}},
	)
	r.Summarize()
	table := string(render(t, output.FormatTable, r, output.Options{Details: true}))
	md := string(render(t, output.FormatMarkdown, r, output.Options{}))
	// At high the medium checks pass the gate: a summary row each, and
	// no package command among the fixes to make first.
	summarized := string(render(t, output.FormatTable, r, output.Options{}))
	for _, want := range []string{"Package manager available: /usr/local/bin/pip3 (pip)", "Network tool available: /usr/bin/wget (wget)"} {
		if !strings.Contains(summarized, want) {
			t.Errorf("table at high lacks %q", want)
		}
	}
	if strings.Contains(summarized, "apt-get purge") {
		t.Errorf("table at high proposes to remove packages of checks that pass the gate:\n%s", summarized)
	}
	// At medium they fail it: a row per package, and the package command.
	policy.Evaluate(r, nil, policy.FailOnMedium, time.Time{})
	grouped := string(render(t, output.FormatTable, r, output.Options{}))
	for _, want := range []string{"pip 24.0 (python): /usr/local/bin/pip3", "wget 1.21.3-1+b2 (deb): /usr/bin/wget", "`apt-get purge -y bash wget`"} {
		if !strings.Contains(grouped, want) {
			t.Errorf("grouped table lacks %q", want)
		}
	}
	for _, want := range []string{
		"package pip 24.0 (python): no package manager, use a",
		"package wget 1.21.3-1+b2 (deb): apt-get purge -y wget",
		"`apt-get purge -y bash wget`",
		"114 packages (112 deb, 2 python) on Debian GNU/Linux 12 (bookworm)",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	for _, want := range []string{
		"package pip 24.0 (python): no package manager, use a multi-stage build",
		"`apt-get purge -y bash wget`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
