//go:build !nosbom

package sbom

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/binary"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// realExecutables are executables of this machine that syft's classifiers
// know (by name), at their paths here; a missing one is skipped.
var realExecutables = []string{
	"/usr/bin/busybox", "/bin/busybox", "/usr/bin/bash", "/usr/bin/python3", "/usr/bin/perl", "/usr/bin/openssl",
	"/usr/bin/curl", "/usr/bin/getopt", "/usr/bin/gzip", "/usr/bin/xz", "/usr/bin/zstd", "/usr/bin/jq",
	"/usr/bin/ruby", "/usr/bin/node", "/usr/bin/redis-server", "/usr/sbin/nginx", "/usr/bin/gcc",
	"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "/usr/lib/x86_64-linux-gnu/libkrb5.so.3.3",
	"/usr/lib/postgresql/15/bin/postgres",
}

// maxReal is the largest executable read: the scan's default capture cap.
const maxReal = 16 << 20

// readReal reads the real executables at most maxReal bytes each, keyed
// by their resolved paths (python3 -> /usr/bin/python3.11).
func readReal(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	for _, p := range realExecutables {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			tb.Logf("skipping %s: %v", p, err)
			continue
		}
		fi, err := os.Stat(real)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxReal {
			tb.Logf("skipping %s: not a regular file under %d bytes", p, maxReal)
			continue
		}
		b, err := os.ReadFile(real)
		if err != nil {
			tb.Logf("skipping %s: %v", p, err)
			continue
		}
		out[real] = b
	}
	return out
}

// scanFiles scans an image holding files, every one captured.
func scanFiles(tb testing.TB, files map[string][]byte) *layers.FS {
	tb.Helper()
	var items []it.Item
	for p, b := range files {
		items = append(items, it.File(strings.TrimPrefix(p, "/"), 0o755, b))
	}
	img, err := it.Image(v1.Config{}, it.Step("COPY . /", items...))
	if err != nil {
		tb.Fatal(err)
	}
	fsys, err := layers.Scan(context.Background(), img, layers.ImageOptions{Options: layers.Options{
		Capture: []string{"/**"},
		Limits:  layers.Limits{MaxCaptureBytes: maxReal, MaxCaptureTotal: 1 << 30},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return fsys
}

// callMatcher calls one of syft's evidence matchers (whose context type is
// internal to syft) on the file at loc.
func callMatcher[C, X any](m func(C, X) ([]pkg.Package, error), c C, r file.Resolver, loc file.Location) ([]pkg.Package, error) {
	var x X
	v := reflect.ValueOf(&x).Elem()
	v.FieldByName("Resolver").Set(reflect.ValueOf(&r).Elem())
	v.FieldByName("Location").Set(reflect.ValueOf(loc))
	return m(c, x)
}

// TestClassifierSpecs: the generated table is syft's classifier list, for
// the syft version linked, and most classifiers get a pre-filter.
func TestClassifierSpecs(t *testing.T) {
	// A test binary carries no module versions: go.mod says which syft
	// this module builds with.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if want := "github.com/anchore/syft " + classifierSpecsVersion + "\n"; !strings.Contains(string(mod), want) {
		t.Fatalf("classifiers_gen.go was generated from syft %s, go.mod requires another: run go generate ./pkg/sbom", classifierSpecsVersion)
	}
	specs := classifierSpecs()
	def := binary.DefaultClassifiers()
	if len(specs) != len(def) {
		t.Fatalf("%d classifier specs, syft has %d classifiers", len(specs), len(def))
	}
	filtered := 0
	for i, c := range def {
		if specs[i].class != c.Class || specs[i].glob != c.FileGlob {
			t.Errorf("spec %d is %s %s, syft's classifier is %s %s", i, specs[i].class, specs[i].glob, c.Class, c.FileGlob)
		}
		if compileSpec(specs[i].matcher).kind != specOpaque {
			filtered++
		}
	}
	if filtered < len(def)*3/4 {
		t.Errorf("only %d of %d classifiers have a pre-filter", filtered, len(def))
	}
	wrapped := classifierConfig(newResolver(scanFiles(t, nil)))
	changed := 0
	for i, c := range wrapped.Classifiers {
		if reflect.ValueOf(c.EvidenceMatcher).Pointer() != reflect.ValueOf(def[i].EvidenceMatcher).Pointer() {
			changed++
		}
	}
	if changed != filtered {
		t.Errorf("%d classifiers wrapped, want %d", changed, filtered)
	}
	t.Logf("%d of %d classifiers pre-filtered", filtered, len(def))
}

func TestRequiredStrings(t *testing.T) {
	tests := []struct {
		pattern string
		want    [][]string
	}{
		{`curl/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)`, [][]string{{"curl/"}, {"."}, {"."}}},
		{`(?m)\x00(node )?v(?P<version>(0|4|5|6)\.[0-9]+\.[0-9]+)\x00`, [][]string{
			{"\x00node v0.", "\x00node v4.", "\x00node v5.", "\x00node v6.", "\x00v0.", "\x00v4.", "\x00v5.", "\x00v6."}, {"."}, {"\x00"}}},
		// A string that contains another of its clause adds nothing.
		// U+FFFD matches any invalid byte: not a literal.
		{`(?m)(\x00v?|\x{FFFD}.?)(?P<version>[0-9]+)\x00`, [][]string{{"\x00"}}},
		{`(?i)ab`, [][]string{{"AB", "Ab", "aB", "ab"}}},
		{`[Bb]un v?(?P<version>[0-9]+)`, [][]string{{"Bun ", "bun "}}},
		{`(?:^|/)mariadb-(?P<v>[0-9]+)-`, [][]string{{"mariadb-"}, {"-"}}},
		{`a|[0-9]+x`, [][]string{{"a", "x"}}},
		{`.*`, nil},
		{`(`, nil},
	}
	for _, tt := range tests {
		got := requiredStrings(tt.pattern)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("requiredStrings(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

// TestPrefilterKeepsMatches: for every classifier, the pre-filter never
// turns away a file syft's matcher finds something in (or fails on): on
// this machine's real executables, named as each classifier looks for
// them, and on files built from each classifier's own patterns (a string
// each pattern matches, inside real executable bytes). Where the
// pre-filter lets a file through, syft's matcher runs as before; so only
// rejected files need syft's answer, which must be nothing.
func TestPrefilterKeepsMatches(t *testing.T) {
	real := readReal(t)
	var filler []byte
	for _, b := range real {
		filler = b[:min(len(b), 64<<10)]
		break
	}
	// Every input is stored once; a location names it as a classifier
	// expects (its access path) while pointing at the stored bytes.
	files := map[string][]byte{}
	type input struct {
		stored string
		name   func(glob string) string
	}
	var inputs []input
	for p, b := range real {
		// Each is read under its own name by the classifiers whose glob
		// matches it; the small ones by every classifier too, under the
		// name it looks for.
		files[p] = b
		base := path.Base(p)
		inputs = append(inputs, input{p, func(glob string) string {
			for _, g := range expandBraces(glob) {
				if ok, _ := doublestar.Match(g, "/usr/bin/"+base); ok {
					return "/usr/bin/" + base
				}
			}
			if len(b) > 1<<20 {
				return ""
			}
			return "/usr/bin/" + globName(glob)
		}})
	}
	specs := classifierSpecs()
	def := binary.DefaultClassifiers()
	perClass := map[int][]input{}
	for i, s := range specs {
		for j, sample := range specSamples(t, s.matcher) {
			p := fmt.Sprintf("/samples/%d/%d", i, j)
			files[p] = append(append(append(append([]byte{}, filler...), 10), sample.data...), append([]byte{10}, filler...)...)
			name := "/opt/x/bin/" + globName(s.glob)
			if sample.name != "" {
				name = "/opt/x/bin/" + sample.name
			}
			perClass[i] = append(perClass[i], input{p, func(string) string { return name }})
		}
	}
	fsys := scanFiles(t, files)
	r := newResolver(fsys)
	var rejected, passed, found int
	for i, c := range def {
		f := compileSpec(specs[i].matcher)
		for _, in := range append(perClass[i], inputs...) {
			name := in.name(c.FileGlob)
			if name == "" {
				continue
			}
			loc := file.NewVirtualLocation(in.stored, name)
			if f.mayMatch(loc.LocalPath(), files[in.stored]) {
				passed++
				if strings.HasPrefix(in.stored, "/samples/") {
					if pkgs, _ := callMatcher(c.EvidenceMatcher, c, r, loc); len(pkgs) > 0 {
						found++
					}
				}
				continue
			}
			rejected++
			pkgs, err := callMatcher(c.EvidenceMatcher, c, r, loc)
			if pkgs != nil || err != nil {
				t.Errorf("%s: the pre-filter rejects %s (as %s), where syft finds %v, %v", c.Class, in.stored, loc.LocalPath(), pkgs, err)
			}
		}
	}
	// The samples must exercise the matchers: most find a package.
	if found < len(def)/2 {
		t.Errorf("syft found packages in only %d sample files", found)
	}
	t.Logf("%d files rejected (syft agrees), %d let through, syft found packages in %d samples", rejected, passed, found)
}

// globName is a file name a classifier's glob matches.
func globName(glob string) string {
	base := path.Base(expandBraces(glob)[0])
	return strings.NewReplacer("*", "", "?", "x").Replace(base)
}

type sample struct {
	name string // the file name the sample needs, if any
	data []byte
}

func (s sample) String() string { return string(s.data) }

// specSamples builds files that syft's matcher described by m should find
// a package in: one per pattern (a string it matches), and one with all of
// them. Name-template matchers get a name their name pattern matches and
// the content its template then asks for.
func specSamples(t *testing.T, m matcherSpec) []sample {
	var out []sample
	var all []byte
	var walk func(m matcherSpec)
	walk = func(m matcherSpec) {
		switch m.kind {
		case specContents:
			var one []byte
			for _, p := range m.patterns {
				s, ok := matchingString(p)
				if !ok {
					t.Logf("no sample for %q", p)
					continue
				}
				one = append(append(one, s...), '\n', 0)
			}
			out = append(out, sample{data: one})
			all = append(all, one...)
		case specNameTemplate:
			name, ok := matchingString(m.patterns[0])
			if !ok {
				return
			}
			name = path.Base(name)
			f := compileSpec(m)
			groups := namedGroups(f.name, name)
			for k, v := range groups {
				groups[k] = strings.ReplaceAll(v, ".", `\.`)
			}
			var b strings.Builder
			if err := f.tmpl.Execute(&b, groups); err != nil {
				return
			}
			s, ok := matchingString(b.String())
			if !ok {
				return
			}
			out = append(out, sample{name: name, data: []byte(s)})
		case specAny, specAll:
			for _, sub := range m.subs {
				walk(sub)
			}
		}
	}
	walk(m)
	if len(out) > 1 {
		out = append(out, sample{data: all})
	}
	return out
}

// matchingString builds a string the pattern matches (choosing the first
// alternative, then the last, the fewest repetitions), checked with the
// pattern itself.
func matchingString(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	full := regexp.MustCompile(pattern)
	for _, last := range []bool{false, true} {
		var b strings.Builder
		build(&b, re, last)
		if s := b.String(); full.MatchString("\n" + s + "\n") {
			return s, true
		}
	}
	return "", false
}

func build(b *strings.Builder, re *syntax.Regexp, last bool) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		r := re.Rune[0]
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if lo, hi := max(re.Rune[i], '0'), re.Rune[i+1]; lo <= hi && lo < 0x7f {
				r = lo
				break
			}
		}
		b.WriteRune(r)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture:
		build(b, re.Sub[0], last)
	case syntax.OpPlus:
		build(b, re.Sub[0], last)
	case syntax.OpRepeat:
		for range re.Min {
			build(b, re.Sub[0], last)
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			build(b, s, last)
		}
	case syntax.OpAlternate:
		if last {
			build(b, re.Sub[len(re.Sub)-1], last)
		} else {
			build(b, re.Sub[0], last)
		}
	}
}

// benchExecutables reads the files of this machine's system directories
// that one of syft's classifiers reads by name (up to the capture cap):
// what the binary classifier cataloguer sees in an image of them.
func benchExecutables(tb testing.TB) (map[string][]byte, int64) {
	tb.Helper()
	var globs []string
	for _, c := range binary.DefaultClassifiers() {
		globs = append(globs, expandBraces(c.FileGlob)...)
	}
	files := map[string][]byte{}
	var total int64
	for _, dir := range []string{"/usr/bin/*", "/usr/sbin/*", "/usr/lib/x86_64-linux-gnu/*", "/usr/lib/postgresql/*/bin/*", "/usr/lib/jvm/*/bin/*", "/usr/local/go/bin/*"} {
		matches, _ := filepath.Glob(dir)
		for _, p := range matches {
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxReal {
				continue
			}
			for _, g := range globs {
				if ok, _ := doublestar.Match(g, p); ok {
					if b, err := os.ReadFile(p); err == nil {
						files[p] = b
						total += int64(len(b))
					}
					break
				}
			}
		}
	}
	if len(files) == 0 {
		tb.Skip("no executable here that a classifier reads")
	}
	return files, total
}

// BenchmarkClassifiers runs syft's binary classifier cataloguer over this
// machine's executables, as syft builds it and behind the pre-filter; both
// must find the same packages.
func BenchmarkClassifiers(b *testing.B) {
	files, total := benchExecutables(b)
	r := newResolver(scanFiles(b, files))
	b.Logf("%d files", len(files))
	benchClassifiers(b, r, total)
}

// BenchmarkClassifiersImage is BenchmarkClassifiers on the image of the OCI
// layout IMGAUDIT_BENCH_LAYOUT (its first image), scanned as Catalog's
// callers do: e.g. a Debian root filesystem with interpreters and servers
// (mmdebstrap), where most files the classifiers read by name hold no
// version they look for.
func BenchmarkClassifiersImage(b *testing.B) {
	dir := os.Getenv("IMGAUDIT_BENCH_LAYOUT")
	if dir == "" {
		b.Skip("IMGAUDIT_BENCH_LAYOUT names no OCI layout")
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		b.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		b.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		b.Fatalf("no image in %s: %v", dir, err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := layers.Scan(context.Background(), img, layers.ImageOptions{Options: layers.Options{Capture: Needs()}})
	if err != nil {
		b.Fatal(err)
	}
	r := newResolver(fsys)
	// The bytes: every captured file a classifier's glob names, once.
	seen := map[string]bool{}
	var total int64
	for _, c := range binary.DefaultClassifiers() {
		locs, _ := r.FilesByGlob(c.FileGlob)
		for _, l := range locs {
			if b, err := fsys.ReadFile(l.RealPath); err == nil && !seen[l.RealPath] {
				seen[l.RealPath] = true
				total += int64(len(b))
			}
		}
	}
	b.Logf("%d files named by a classifier, %d MB", len(seen), total>>20)
	benchClassifiers(b, r, total)
}

func benchClassifiers(b *testing.B, r *resolver, total int64) {
	ctx := context.Background()
	var want []pkg.Package
	var wantErr string
	for _, bc := range []struct {
		name string
		cfg  binary.ClassifierCatalogerConfig
		r    file.Resolver
	}{
		// syft's cataloguer as it was: contents as a plain reader, which
		// syft's binary readers copy for every pattern.
		{"syft", binary.DefaultClassifierCatalogerConfig(), copyingResolver{r}},
		{"syft-inplace", binary.DefaultClassifierCatalogerConfig(), r},
		{"prefiltered", classifierConfig(r), r},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := bc.r
			c := binary.NewClassifierCataloger(bc.cfg)
			b.SetBytes(total)
			var pkgs []pkg.Package
			var err error
			cpu0 := cpuTime()
			for b.Loop() {
				// Errors are the files syft could not read (not
				// captured): the same for every variant.
				pkgs, _, err = c.Catalog(ctx, r)
			}
			// CPU time, which other work on the machine disturbs less than
			// the wall time.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			if want == nil {
				want, wantErr = pkgs, fmt.Sprint(err)
				b.Logf("%d MB, %d packages", total>>20, len(pkgs))
			} else if !reflect.DeepEqual(want, pkgs) || fmt.Sprint(err) != wantErr {
				b.Errorf("packages differ from syft's:\n%v\n%v", want, pkgs)
			}
		})
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// copyingResolver serves contents as a plain reader, as pkg/sbom did
// before it served a ReaderAt.
type copyingResolver struct{ *resolver }

func (r copyingResolver) FileContentsByLocation(l file.Location) (io.ReadCloser, error) {
	rc, err := r.resolver.FileContentsByLocation(l)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(rc), nil
}

// TestClassifiersSameAsSyft runs syft's binary classifier cataloguer as
// syft builds it and as Catalog does (pre-filtered, leading chunks spared)
// over this machine's real executables at their paths and files built from
// every classifier's patterns: packages, relationships and errors must be
// the same.
func TestClassifiersSameAsSyft(t *testing.T) {
	files := map[string][]byte{}
	for p, b := range readReal(t) {
		files[p] = b
	}
	filler := []byte(strings.Repeat("\x00filler\x00", 1<<10))
	for i, s := range classifierSpecs() {
		for j, sample := range specSamples(t, s.matcher) {
			name := globName(s.glob)
			if sample.name != "" {
				name = sample.name
			}
			files[fmt.Sprintf("/opt/c%d-%d/bin/%s", i, j, name)] = append(append(append([]byte{}, filler...), sample.data...), filler...)
		}
	}
	// Samples deep in large files, across syft's chunk boundaries, so that
	// the pre-filter spares syft the chunks before them (see skip): real
	// executable bytes around, for one classifier in five.
	var big []byte
	real := readReal(t)
	for _, p := range slices.Sorted(maps.Keys(real)) {
		big = append(big, real[p]...)
		if len(big) > 4*syftReaderChunkSize {
			break
		}
	}
	const c = syftReaderChunkSize
	offsets := []int{2*c - 5, 2*c + c/2 - 3, 3*c - 2, 3*c + c/2 + 1, c/2 + 7}
	deep, spared := 0, 0
	for i, s := range classifierSpecs() {
		if i%5 != 0 || len(big) < 4*c || !compileSpec(s.matcher).sequential {
			continue
		}
		for j, sample := range specSamples(t, s.matcher) {
			name := globName(s.glob)
			if sample.name != "" {
				name = sample.name
			}
			off := offsets[(i+j)%len(offsets)]
			b := append(append(append([]byte{}, big[:off]...), sample.data...), big[off:off+64<<10]...)
			p := fmt.Sprintf("/opt/deep%d-%d/bin/%s", i, j, name)
			files[p] = b
			deep++
			if compileSpec(s.matcher).skip(p, b, c) > 0 {
				spared++
			}
		}
	}
	if len(big) >= 4*c && spared < deep/2 {
		t.Errorf("syft is spared leading chunks in only %d of %d large files", spared, deep)
	}
	r := newResolver(scanFiles(t, files))
	ctx := context.Background()
	want, wantRels, wantErr := binary.NewClassifierCataloger(binary.DefaultClassifierCatalogerConfig()).Catalog(ctx, r)
	if len(want) < len(classifierSpecs())/2 {
		t.Fatalf("syft finds only %d packages: the comparison proves little", len(want))
	}
	got, rels, err := binary.NewClassifierCataloger(classifierConfig(r)).Catalog(ctx, r)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("packages differ from syft's:\n%v\n%v", want, got)
	}
	if !reflect.DeepEqual(wantRels, rels) || fmt.Sprint(wantErr) != fmt.Sprint(err) {
		t.Errorf("relationships or errors differ: %v %v, want %v %v", rels, err, wantRels, wantErr)
	}
	t.Logf("%d files (%d large, %d read from a later chunk), %d packages", len(files), deep, spared, len(want))
}
