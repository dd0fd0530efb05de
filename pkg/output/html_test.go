package output_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// fleetFixture is fixture() with the fleet summary a multi-image run has.
func fleetFixture() *report.Report {
	r := fixture()
	r.ComputeFleet(report.FleetTop)
	return r
}

func TestGoldenHTML(t *testing.T) {
	workloads := func() *report.Report { return evaluatedWorkloads(t) }
	for name, r := range map[string]func() *report.Report{"report.html": fleetFixture, "report.nofleet.html": fixture, "workload.html": workloads} {
		t.Run(name, func(t *testing.T) {
			got := render(t, output.FormatHTML, r(), output.Options{Rules: rules()})
			golden(t, name, got)
			if again := render(t, output.FormatHTML, r(), output.Options{Rules: rules()}); !bytes.Equal(got, again) {
				t.Error("two renderings of the same report differ")
			}
		})
	}
}

// TestHTMLSections checks what the page says, in the order a reader needs
// it: the gate's verdict and totals first, then the heat map, the fleet's
// offending layers (only when the report carries a fleet summary), then
// each image with its tags, timeline and findings.
func TestHTMLSections(t *testing.T) {
	page := string(render(t, output.FormatHTML, fleetFixture(), output.Options{Rules: rules()}))
	text := pageText(t, page)
	order := []string{
		"ERROR — 1 of 3 images could not be scanned completely; 1 has findings at or above high",
		"Total: 3 images",
		"Findings by image and category",
		"Layers that bring findings into most images",
		"registry.example.com:5000/team/app:1.2",
		"registry.example.com:5000/team/app:latest, registry.example.com:5000/team/app:stable",
		"Layer timeline",
		"Layer 1",
		"apt-get update && apt-get install",
		"IA-SHELL",
		"Findings",
		"suppressed: needed by the | health probe until v2 (.imgaudit.yaml:9, until 2099-12-31)",
		"package bash 5.2.15-2+b7 (deb): apt-get purge -y bash",
		"How to fix",
		"ERROR — scan incomplete, image not assessed",
		"expired on 2024-01-31",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(text[at:], want)
		if i < 0 {
			t.Fatalf("%q missing after offset %d of the page text:\n%s", want, at, text)
		}
		at += i
	}
	// The verdict is the gate's: the same run without a gate has none.
	r := fixture()
	r.Gate = nil
	for i := range r.Images {
		r.Images[i].Gate = nil
	}
	r.Images = r.Images[:2]
	if got := pageText(t, string(render(t, output.FormatHTML, r, output.Options{}))); !strings.Contains(got, "FINDINGS — ") || strings.Contains(got, "FAIL") {
		t.Errorf("without a gate the page decides a verdict:\n%s", got)
	}
	// No fleet summary in the report: no fleet section.
	if page := string(render(t, output.FormatHTML, fixture(), output.Options{})); strings.Contains(page, `id="fleet"`) {
		t.Error("a fleet section without a fleet summary")
	}
}

// TestHTMLWorkloadVerdict: a workload run leads with the workloads'
// verdict, as the gate decided it per workload.
func TestHTMLWorkloadVerdict(t *testing.T) {
	r := evaluatedWorkloads(t)
	md := string(render(t, output.FormatMarkdown, r, output.Options{}))
	text := pageText(t, string(render(t, output.FormatHTML, r, output.Options{})))
	for _, label := range []string{"FAIL", "INCOMPLETE", "PASS"} {
		if strings.Contains(md, "**"+label+"**:") {
			if !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "imgaudit report")), label+" — ") {
				t.Errorf("markdown leads with %s, the page with:\n%s", label, text[:min(len(text), 300)])
			}
			return
		}
	}
	t.Fatalf("no verdict in the markdown:\n%s", md)
}

// TestHTMLHeatMap checks the cells: a count of unsuppressed findings, the
// colour of the worst of them.
func TestHTMLHeatMap(t *testing.T) {
	page := string(render(t, output.FormatHTML, fixture(), output.Options{}))
	// The first image: 2 secret findings (critical), 1 shell (medium); the
	// suppressed network-tool finding is not counted.
	for _, want := range []string{`<td class="cell s-critical">2</td>`, `<td class="cell s-medium">1</td>`, `<th class="cat">secret</th>`} {
		if !strings.Contains(page, want) {
			t.Errorf("%s missing", want)
		}
	}
	if strings.Contains(page, `<th class="cat">network-tool</th>`) {
		t.Error("a suppressed finding makes a heat map column")
	}
}

// htmlAttacks are what a hostile image would write to run script in, or
// restyle, the page of whoever opens the report.
var htmlAttacks = []string{
	`<script>alert(1)</script>`,
	`</style><script>alert(2)</script>`,
	`"><img src=x onerror=alert(3)>`,
	`' onmouseover='alert(4)`,
	`javascript:alert(5)`,
	`</title><!--`,
	`{{.}}`,
	`url(https://evil.example/x)`,
}

func TestHTMLEscapesImageData(t *testing.T) {
	r := hostile()
	a := strings.Join(htmlAttacks, " ") + " " + strings.Join(attacks, " ")
	img := &r.Images[0]
	img.Reference += a
	img.AlsoKnownAs = append(img.AlsoKnownAs, a)
	img.Layers[0].CreatedBy += a
	img.Findings[0].Path += a
	img.Findings[0].Category = "setuid" + a
	img.Findings[1].Detail += a
	img.Findings[0].Package.Remove += a
	r.Summary.Fleet.OffendingLayers[0].CreatedBy += a
	r.Summary.Fleet.OffendingLayers[0].Categories = append(r.Summary.Fleet.OffendingLayers[0].Categories, a)
	r.Warnings = append(r.Warnings, report.Warning{Kind: "x", Message: a})
	page := string(render(t, output.FormatHTML, r, output.Options{Rules: rules()}))

	// The page's only elements and attributes are the template's.
	tags := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
		"header": true, "h1": true, "h2": true, "h3": true, "p": true, "span": true, "section": true, "table": true,
		"thead": true, "tbody": true, "tr": true, "th": true, "td": true, "a": true, "dl": true, "dt": true, "dd": true,
		"ol": true, "ul": true, "li": true, "code": true, "strong": true, "em": true, "br": true, "footer": true}
	safeClass := regexp.MustCompile(`^[a-z][a-z0-9 -]*$`)
	styles := 0
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if !tags[tok.Data] {
				t.Errorf("element <%s> is not the template's", tok.Data)
			}
			if tok.Data == "style" {
				styles++
			}
			for _, at := range tok.Attr {
				ok := false
				switch at.Key {
				case "class":
					ok = safeClass.MatchString(at.Val)
				case "id", "href":
					ok = regexp.MustCompile(`^#?(image-[0-9]+|heatmap|fleet)$`).MatchString(at.Val)
				case "colspan":
					ok = regexp.MustCompile(`^[0-9]+$`).MatchString(at.Val)
				case "lang", "charset", "http-equiv", "name", "content":
					ok = !strings.Contains(at.Val, "alert")
				}
				if !ok {
					t.Errorf("<%s %s=%q>: not the template's attribute", tok.Data, at.Key, at.Val)
				}
			}
		case html.TextToken:
			if why := unprintable(strings.ReplaceAll(tok.Data, "\n", "")); why != "" {
				t.Errorf("text: %s: %q", why, tok.Data)
			}
		case html.CommentToken:
			t.Errorf("a comment: %q", tok.Data)
		}
	}
	if styles != 1 {
		t.Errorf("%d style elements, want the template's one", styles)
	}
	if n := strings.Count(page, "</style>"); n != 1 {
		t.Errorf("</style> appears %d times", n)
	}
	for _, bad := range []string{"<script", "<img", "<!--", "javascript:alert(5)\"", "\x1b", "\u202e", "\r"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	// What was escaped is still there to read, as text.
	text := pageText(t, page)
	for _, want := range append(htmlAttacks, `\x1b[2J`, `\u202ehs.exe`, `\n::error title=imgaudit::all clear\n`, `#\x23[error]`) {
		if !strings.Contains(text, want) {
			t.Errorf("%q is not shown", want)
		}
	}
}

// pageText is the text of the page's body as a browser shows it, with
// entities decoded.
func pageText(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "head") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}
