//go:build !nosbom

package sbom

import (
	"bytes"
	"cmp"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/binary"
)

// syft's binary classifiers find a package by running regular expressions
// over the whole content of executables whose names match their globs
// ("**/python*", "**/node", "**/libQt*Core.so*"): on real images most of
// that CPU goes into files no pattern matches, scanned to their end by
// Go's regexp engine. This file puts a pre-filter in front of each
// classifier's evidence matcher: the strings any match of its patterns must
// contain, derived with regexp/syntax from the patterns themselves, are
// searched first (bytes.Index, many GB/s), and a file that lacks them is
// answered "no package" without running a regular expression. In a file
// that has them, syft's matcher is spared the leading chunks that end
// before the first place a match could end (see prefilter.skip). The
// classifiers, their order and whatever they find are syft's own.
//
// syft builds its matchers as closures, so the patterns are read from
// syft's source into classifiers_gen.go (TestClassifiersGenerated -update);
// a table from another syft version is not used.

// specKind is the kind of a matcherSpec.
type specKind int

const (
	// specOpaque: a matcher whose content requirement is not known (shared
	// library lookups, supporting evidence from other files, path tests):
	// every file may match.
	specOpaque specKind = iota
	// specContents: syft's FileContentsVersionMatcher, which needs every
	// one of its patterns to match the file's contents.
	specContents
	// specNameTemplate: syft's FileNameTemplateVersionMatcher, whose
	// content pattern is a template filled from the file's name.
	specNameTemplate
	specAny // the first of the subs that matches
	specAll // every sub matches
)

// matcherSpec describes a classifier's evidence matcher.
type matcherSpec struct {
	kind     specKind
	patterns []string // specContents: the patterns; specNameTemplate: name pattern, content template
	subs     []matcherSpec
}

// classifierSpec describes one of syft's default classifiers.
type classifierSpec struct {
	class, glob string
	matcher     matcherSpec
}

func opaque() matcherSpec                   { return matcherSpec{kind: specOpaque} }
func contents(p ...string) matcherSpec      { return matcherSpec{kind: specContents, patterns: p} }
func anyOf(subs ...matcherSpec) matcherSpec { return matcherSpec{kind: specAny, subs: subs} }
func allOf(subs ...matcherSpec) matcherSpec { return matcherSpec{kind: specAll, subs: subs} }
func nameTemplate(name, content string) matcherSpec {
	return matcherSpec{kind: specNameTemplate, patterns: []string{name, content}}
}

// prefilter is a compiled matcherSpec: mayMatch is false only when syft's
// matcher cannot find anything in the file.
type prefilter struct {
	kind     specKind
	need     [][]string   // specContents: clauses; each needs one of its strings in the contents
	patterns [][][]string // specContents: each pattern's clauses
	name     *regexp.Regexp
	tmpl     *template.Template
	subs     []*prefilter
	// sequential: the matcher reads the file only through its context's
	// reader, pattern by pattern (see skip).
	sequential bool
}

func compileSpec(s matcherSpec) *prefilter {
	p := &prefilter{kind: s.kind}
	switch s.kind {
	case specContents:
		for _, pat := range s.patterns {
			need := requiredStrings(pat)
			p.patterns = append(p.patterns, need)
			p.need = append(p.need, need...)
		}
		p.sequential = true
		slices.SortStableFunc(p.need, func(a, b []string) int { return -cmp.Compare(shortest(a), shortest(b)) })
	case specNameTemplate:
		name, err1 := regexp.Compile(s.patterns[0])
		tmpl, err2 := template.New("").Parse(s.patterns[1])
		if err1 != nil || err2 != nil {
			p.kind = specOpaque // syft's matcher reports the error itself
			break
		}
		p.name, p.tmpl = name, tmpl
		p.sequential = true
	case specAny, specAll:
		p.sequential = true
		for _, sub := range s.subs {
			c := compileSpec(sub)
			p.subs = append(p.subs, c)
			p.sequential = p.sequential && c.sequential
		}
	default:
		p.kind = specOpaque
	}
	return p
}

// mayMatch reports whether the matcher could find a package in the file
// at path (as syft names it: the location's access path) with contents b.
func (p *prefilter) mayMatch(path string, b []byte) bool {
	switch p.kind {
	case specContents:
		return hasAll(b, p.need)
	case specNameTemplate:
		// What syft's FileNameTemplateVersionMatcher does before it reads
		// the file: the name must match, and its named groups, dots
		// escaped, fill the content pattern's template.
		if !p.name.MatchString(path) {
			return false
		}
		need, ok := p.rendered(path)
		return !ok || hasAll(b, need)
	case specAny:
		for _, s := range p.subs {
			if s.mayMatch(path, b) {
				return true
			}
		}
		return false
	case specAll:
		for _, s := range p.subs {
			if !s.mayMatch(path, b) {
				return false
			}
		}
		return true
	}
	return true
}

// rendered returns the clauses of a name template's content pattern for
// the file at path, as syft's FileNameTemplateVersionMatcher builds it: the
// name's named groups, dots escaped, fill the template. false when the
// template fails (syft's matcher reports that).
func (p *prefilter) rendered(path string) ([][]string, bool) {
	groups := namedGroups(p.name, path)
	for k, v := range groups {
		groups[k] = strings.ReplaceAll(v, ".", `\.`)
	}
	var buf bytes.Buffer
	if err := p.tmpl.Execute(&buf, groups); err != nil {
		return nil, false
	}
	return requiredStrings(buf.String()), true
}

// skip returns how many leading bytes of b syft's matcher can be spared
// without changing what it finds, 0 when none.
//
// syft's content matchers (internal.MatchNamedCaptureGroupsFromReader) run
// a pattern over windows of the file: the first chunk of size c, then for
// each next chunk of c bytes, that chunk with the half chunk before it;
// the first window with a match gives the answer. A match contains an
// occurrence of one string of each of the pattern's clauses, so no window
// ending before the earliest such end, e, can match. Let k be the first
// window that ends at e or later. Read from the chunk before k's, the
// windows are that chunk (ending before e: no match) and then exactly
// syft's windows from k on; so the answer is the same, for every pattern
// whose e is at least the one used. The matcher must read the file
// through its context's reader only, pattern by pattern (sequential).
func (p *prefilter) skip(path string, b []byte, c int) int {
	if !p.sequential || c <= 0 {
		return 0
	}
	e := -1 // the least e over the patterns that may match
	ok := p.earliestEnd(path, b, func(pe int) {
		if e < 0 || pe < e {
			e = pe
		}
	})
	if !ok || e <= 0 {
		return 0
	}
	k := (e+c-1)/c - 1
	if k < 1 {
		return 0
	}
	return (k - 1) * c
}

// earliestEnd calls found with each pattern's e (see skip), 0 for a pattern
// with no clause, nothing for a pattern that cannot match in b; false when
// a pattern is not known.
func (p *prefilter) earliestEnd(path string, b []byte, found func(int)) bool {
	switch p.kind {
	case specContents:
		for _, need := range p.patterns {
			if e, ok := patternEnd(b, need); ok {
				found(e)
			}
		}
		return true
	case specNameTemplate:
		if !p.name.MatchString(path) {
			return true // syft's matcher reads nothing
		}
		need, ok := p.rendered(path)
		if !ok {
			return false
		}
		if e, ok := patternEnd(b, need); ok {
			found(e)
		}
		return true
	case specAny, specAll:
		for _, s := range p.subs {
			if !s.earliestEnd(path, b, found) {
				return false
			}
		}
		return true
	}
	return false
}

// patternEnd returns the least offset in b at which a match of a pattern
// with clauses need can end (see skip); false when it cannot match.
func patternEnd(b []byte, need [][]string) (int, bool) {
	e := 0
	for _, clause := range need {
		first := -1
		for _, s := range clause {
			if i := bytes.Index(b, []byte(s)); i >= 0 && (first < 0 || i+len(s) < first) {
				first = i + len(s)
			}
		}
		if first < 0 {
			return 0, false
		}
		e = max(e, first)
	}
	return e, true
}

// namedGroups is syft's internal.MatchNamedCaptureGroups: the named
// groups of the first match with a non-empty value.
func namedGroups(re *regexp.Regexp, s string) map[string]string {
	var out map[string]string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		for i, name := range re.SubexpNames() {
			if i > len(m) || name == "" {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[name] = m[i]
		}
		for _, v := range out {
			if v != "" {
				return out
			}
		}
	}
	return out
}

func hasAll(b []byte, need [][]string) bool {
	for _, clause := range need {
		found := false
		for _, s := range clause {
			if bytes.Contains(b, []byte(s)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func shortest(ss []string) int {
	n := -1
	for _, s := range ss {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

// Bounds of the literal analysis: an exact set holds at most maxExact
// strings, a character class is spelled out when it has at most
// maxClassRunes runes. Beyond them the analysis knows less, never wrong.
const (
	maxExact      = 16
	maxClassRunes = 8
)

// requiredStrings returns what any match of the Go regular expression
// pattern contains, as clauses: for each clause, one of its strings. An
// empty result requires nothing (every file passes); so does a pattern
// that does not compile (syft would fail on it, not the pre-filter).
//
// Matches are against bytes: Go's regexp reads an invalid UTF-8 byte as
// U+FFFD, so a pattern's U+FFFD is never taken as a literal.
func requiredStrings(pattern string) [][]string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	return analyze(re.Simplify()).asClauses()
}

// litInfo is what the analysis knows about a subexpression: either the
// exact set of strings it matches, or clauses every match satisfies.
type litInfo struct {
	exact   []string
	clauses [][]string
}

func (l litInfo) asClauses() [][]string {
	if l.exact == nil {
		return l.clauses
	}
	if c := clause(l.exact); c != nil {
		return [][]string{c}
	}
	return nil
}

// clause returns set as a clause, nil (no requirement) when it holds the
// empty string.
// A string that contains another of the set adds nothing and is left out.
func clause(set []string) []string {
	if len(set) == 0 || slices.Contains(set, "") {
		return nil
	}
	var out []string
	for _, s := range set {
		implied := false
		for _, o := range set {
			if o != s && strings.Contains(s, o) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, s)
		}
	}
	return out
}

func analyze(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: []string{""}}
	case syntax.OpLiteral:
		return litInfo{exact: literalStrings(re.Rune, re.Flags&syntax.FoldCase != 0)}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo+1 > maxClassRunes || len(set)+int(hi-lo+1) > maxClassRunes {
				return litInfo{}
			}
			for r := lo; r <= hi; r++ {
				if !exactRune(r) {
					return litInfo{}
				}
				set = append(set, string(r))
			}
		}
		if len(set) == 0 {
			return litInfo{}
		}
		return litInfo{exact: set}
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpQuest:
		if s := analyze(re.Sub[0]); s.exact != nil && len(s.exact) < maxExact {
			return litInfo{exact: dedupe(append(slices.Clone(s.exact), ""))}
		}
		return litInfo{}
	case syntax.OpPlus:
		return litInfo{clauses: analyze(re.Sub[0]).asClauses()}
	case syntax.OpRepeat: // Simplify leaves only x{n} forms here, if any
		if re.Min == 0 {
			return litInfo{}
		}
		return litInfo{clauses: analyze(re.Sub[0]).asClauses()}
	case syntax.OpConcat:
		return concat(re.Sub)
	case syntax.OpAlternate:
		return alternate(re.Sub)
	}
	// Any character, no match, anything new: nothing known.
	return litInfo{}
}

func concat(subs []*syntax.Regexp) litInfo {
	subs = flatten(subs)
	cur := []string{""}
	var clauses [][]string
	exact := true
	flush := func() {
		if c := clause(cur); c != nil {
			clauses = append(clauses, c)
		}
		cur = []string{""}
	}
	for _, sub := range subs {
		s := analyze(sub)
		if s.exact != nil {
			if len(cur)*len(s.exact) <= maxExact {
				cur = cross(cur, s.exact)
				continue
			}
			exact = false
			flush()
			cur = s.exact
			continue
		}
		exact = false
		flush()
		clauses = append(clauses, s.clauses...)
	}
	if exact {
		return litInfo{exact: cur}
	}
	flush()
	return litInfo{clauses: clauses}
}

// flatten splices the concatenations inside captures into subs, so that
// the literal text around a capture group joins the text inside it.
func flatten(subs []*syntax.Regexp) []*syntax.Regexp {
	var out []*syntax.Regexp
	for _, s := range subs {
		for s.Op == syntax.OpCapture {
			s = s.Sub[0]
		}
		if s.Op == syntax.OpConcat {
			out = append(out, flatten(s.Sub)...)
		} else {
			out = append(out, s)
		}
	}
	return out
}

func alternate(subs []*syntax.Regexp) litInfo {
	infos := make([]litInfo, len(subs))
	var union []string
	exact := true
	for i, sub := range subs {
		infos[i] = analyze(sub)
		if infos[i].exact == nil {
			exact = false
		}
		union = append(union, infos[i].exact...)
	}
	if union = dedupe(union); exact && len(union) <= maxExact {
		return litInfo{exact: union}
	}
	// Each alternative's most selective clause; one of them holds.
	var c []string
	for _, in := range infos {
		cs := in.asClauses()
		if len(cs) == 0 {
			return litInfo{}
		}
		best := slices.MaxFunc(cs, func(a, b []string) int {
			return cmp.Or(cmp.Compare(shortest(a), shortest(b)), cmp.Compare(len(b), len(a)))
		})
		c = append(c, best...)
	}
	if c = dedupe(c); len(c) > maxExact {
		return litInfo{}
	}
	return litInfo{clauses: [][]string{c}}
}

// literalStrings spells out a literal, every case variant when it folds
// case; nil (nothing known) when that makes too many.
func literalStrings(runes []rune, fold bool) []string {
	out := []string{""}
	for _, r := range runes {
		if !exactRune(r) {
			return nil
		}
		variants := []string{string(r)}
		if fold {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				if !exactRune(f) {
					return nil
				}
				variants = append(variants, string(f))
			}
		}
		if len(out)*len(variants) > maxExact {
			return nil
		}
		out = cross(out, variants)
	}
	return out
}

// exactRune reports whether r matches only its own UTF-8 encoding.
func exactRune(r rune) bool {
	return r != utf8.RuneError && utf8.ValidRune(r)
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return dedupe(out)
}

func dedupe(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// classifierConfig returns syft's default binary classifiers, each behind
// its pre-filter when the generated table describes it; r is the resolver
// the cataloguer reads.
func classifierConfig(r *resolver) binary.ClassifierCatalogerConfig {
	cfg := binary.DefaultClassifierCatalogerConfig()
	specs := classifierSpecs()
	if v := SyftVersion(); (v != "unknown" && v != classifierSpecsVersion) || len(specs) != len(cfg.Classifiers) {
		return cfg
	}
	for i := range cfg.Classifiers {
		c := &cfg.Classifiers[i]
		if specs[i].class != c.Class || specs[i].glob != c.FileGlob || c.EvidenceMatcher == nil {
			continue
		}
		if f := compileSpec(specs[i].matcher); f.kind != specOpaque {
			c.EvidenceMatcher = filtered(c.EvidenceMatcher, f, r)
		}
	}
	return cfg
}

// filtered puts f in front of syft's matcher m, and hands m a reader that
// starts at f's skip. Its types are syft's binutils.Classifier and
// binutils.MatcherContext (an internal package), inferred. Only the
// cataloguer's own calls are filtered: a context that carries a reader (a
// matcher calling another) goes straight to m, and so does a file whose
// whole contents the scan did not capture.
func filtered[C, X any](m func(C, X) ([]pkg.Package, error), f *prefilter, r *resolver) func(C, X) ([]pkg.Package, error) {
	return func(c C, x X) ([]pkg.Package, error) {
		if loc, ok := cataloguedLocation(x); ok {
			if n, err := r.fsys.Stat(loc.RealPath); err == nil {
				if b, err := r.fsys.ReadFile(n.Path); err == nil {
					if !f.mayMatch(loc.LocalPath(), b) {
						return nil, nil
					}
					if from := f.skip(loc.LocalPath(), b, syftReaderChunkSize); from > 0 {
						if x, ok := withReader(x, b[from:]); ok {
							return m(c, x)
						}
					}
				}
			}
		}
		return m(c, x)
	}
}

// cataloguedLocation returns the location of a matcher context (syft's
// binutils.MatcherContext) that reads the file from the resolver: one
// without a GetReader of its own.
func cataloguedLocation(x any) (file.Location, bool) {
	v := reflect.ValueOf(x)
	if v.Kind() != reflect.Struct {
		return file.Location{}, false
	}
	get := v.FieldByName("GetReader")
	if !get.IsValid() || get.Kind() != reflect.Func || !get.IsNil() {
		return file.Location{}, false
	}
	loc := v.FieldByName("Location")
	if !loc.IsValid() || !loc.CanInterface() {
		return file.Location{}, false
	}
	l, ok := loc.Interface().(file.Location)
	return l, ok
}

// withReader returns the matcher context x reading data instead of the
// file (its GetReader set: a new reader over data at every call).
func withReader[X any](x X, data []byte) (X, bool) {
	v := reflect.ValueOf(&x).Elem()
	if v.Kind() != reflect.Struct {
		return x, false
	}
	f := v.FieldByName("GetReader")
	if !f.IsValid() || !f.CanSet() || f.Kind() != reflect.Func {
		return x, false
	}
	t := f.Type()
	errType := reflect.TypeFor[error]()
	if t.NumIn() != 1 || t.NumOut() != 2 || t.Out(0).Kind() != reflect.Interface ||
		!reflect.TypeFor[bytesReadCloser]().Implements(t.Out(0)) || t.Out(1) != errType {
		return x, false
	}
	f.Set(reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value {
		return []reflect.Value{reflect.ValueOf(bytesReadCloser{bytes.NewReader(data)}), reflect.Zero(errType)}
	}))
	return x, true
}
