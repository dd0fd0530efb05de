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
	for name, r := range map[string]func() *report.Report{"report.html": fleetFixture, "report.nofleet.html": fixture,
		"workload.html": workloads, "workload.show-suppressed.html": workloads} {
		t.Run(name, func(t *testing.T) {
			o := output.Options{Rules: append(rules(), workloadRules()...), ShowSuppressed: strings.Contains(name, "show-suppressed")}
			got := render(t, output.FormatHTML, r(), o)
			golden(t, name, got)
			if again := render(t, output.FormatHTML, r(), o); !bytes.Equal(got, again) {
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
	page := string(render(t, output.FormatHTML, fleetFixture(), output.Options{Rules: rules(), ShowSuppressed: true}))
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
	// Without --show-suppressed the suppressed finding is counted, not
	// listed, as in the table and the Markdown.
	hidden := pageText(t, string(render(t, output.FormatHTML, fleetFixture(), output.Options{Rules: rules()})))
	if strings.Contains(hidden, "health probe") || !strings.Contains(hidden, "1 finding suppressed by policy (--show-suppressed lists them).") {
		t.Errorf("suppressed finding without --show-suppressed:\n%s", hidden)
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

// TestHTMLWorkloadContainers: each workload lists its containers with
// their image, Pod Security level and IW findings (ID, severity, message,
// remediation), open ones first, then mitigated; suppressed ones are
// listed only with ShowSuppressed, as the table and the Markdown do.
func TestHTMLWorkloadContainers(t *testing.T) {
	o := output.Options{Rules: workloadRules()}
	text := pageText(t, string(render(t, output.FormatHTML, evaluatedWorkloads(t), o)))
	order := []string{
		"Deployment shop/web", "k8s/web.yaml:3",
		"container app", "Image app:1", "Pod Security: baseline (1 violation)",
		"restricted: allowPrivilegeEscalation != false",
		"IW-SETUID-ESCALATION", "/usr/bin/su is setuid and allowPrivilegeEscalation is not false",
		"set allowPrivilegeEscalation: false, or remove the setuid/setgid bits in the image",
		"IW-START-NONNUMERIC-USER", "never starts: non-numeric user (app)",
		"set runAsUser to the image user's uid, or make the image's USER numeric (USER 10001)",
		"IW-SA-TOKEN", "the service account token is mounted",
		"IW-ROOT-IMAGE", "root image", "mitigated by the pod spec",
		"init container init", "Image not audited: gone:1: not found",
		"CronJob report", "container job", "Pod Security: restricted (0 violations)",
		"IW-SETUID-ESCALATION", "mitigated by the pod spec",
		"1 finding suppressed by policy (--show-suppressed lists them).",
		"The images below",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(text[at:], want)
		if i < 0 {
			t.Fatalf("%q missing after offset %d of the page text:\n%s", want, at, text)
		}
		at += i + len(want)
	}
	if strings.Contains(text, "the job reads its own ConfigMap") {
		t.Error("a suppressed finding is listed without ShowSuppressed")
	}
	o.ShowSuppressed = true
	text = pageText(t, string(render(t, output.FormatHTML, evaluatedWorkloads(t), o)))
	_, job, _ := strings.Cut(text, "container job")
	if !strings.Contains(job, "IW-SA-TOKENthe service account token is mountedsuppressed: the job reads its own ConfigMap (.imgaudit.yaml:2, until 2030-01-31)") ||
		strings.Contains(job, "--show-suppressed lists them") {
		t.Errorf("ShowSuppressed: the CronJob's container reads:\n%s", job)
	}
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
	checkHostilePage(t, string(render(t, output.FormatHTML, r, output.Options{Rules: rules()})))

	// A workload run: what the manifests and the images say of the
	// workloads and their containers.
	w := evaluatedWorkloads(t)
	wl := &w.Workloads[0]
	wl.Name += a
	wl.File += a
	c := &wl.Containers[0]
	c.Name += a
	c.Image.Reference += a
	c.PodSecurity.Violations[0].Detail += a
	c.Findings[0].Detail += a
	c.Findings[2].Path += a
	c.Findings[3].Remediation = a
	wl.Containers[1].Image.Error += a
	w.Workloads[1].Containers[0].Findings[1].Suppressed.Reason += a
	checkHostilePage(t, string(render(t, output.FormatHTML, w, output.Options{Rules: workloadRules(), ShowSuppressed: true})))
}

// checkHostilePage asserts that the page of a report full of attacks has
// only the template's elements and attributes, and shows every attack as
// text.
func checkHostilePage(t *testing.T, page string) {
	t.Helper()
	// The page's only elements and attributes are the template's.
	tags := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
		"header": true, "h1": true, "h2": true, "h3": true, "h4": true, "p": true, "span": true, "section": true, "table": true,
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
					ok = regexp.MustCompile(`^#?(image-[0-9]+|workload-[0-9]+|workloads|heatmap|fleet)$`).MatchString(at.Val)
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
