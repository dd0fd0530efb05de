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
	"sync"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/binary"
)

//go:generate go run ./internal/classgen -out classifiers_gen.go

// syft's binary classifiers find a package by running regular expressions
// over the whole content of executables whose names match their globs
// ("**/python*", "**/node", "**/libQt*Core.so*"): on real images most of
// that CPU goes into files no pattern matches, scanned to their end by
// Go's regexp engine. This file puts a pre-filter in front of each
// classifier's evidence matcher: the strings any match of its patterns must
// contain, derived with regexp/syntax from the patterns themselves, are
// searched first (bytes.Index, many GB/s), and a file that lacks them is
// answered "no package" without running a regular expression. The
// classifiers, their order and whatever they find are syft's own.
//
// syft builds its matchers as closures, so the patterns are read from
// syft's source when classifiers_gen.go is generated (internal/classgen);
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
	kind specKind
	need [][]string // specContents: clauses; each needs one of its strings in the contents
	name *regexp.Regexp
	tmpl *template.Template
	subs []*prefilter
}

func compileSpec(s matcherSpec) *prefilter {
	p := &prefilter{kind: s.kind}
	switch s.kind {
	case specContents:
		for _, pat := range s.patterns {
			p.need = append(p.need, requiredStrings(pat)...)
		}
		slices.SortStableFunc(p.need, func(a, b []string) int { return -cmp.Compare(shortest(a), shortest(b)) })
	case specNameTemplate:
		name, err1 := regexp.Compile(s.patterns[0])
		tmpl, err2 := template.New("").Parse(s.patterns[1])
		if err1 != nil || err2 != nil {
			p.kind = specOpaque // syft's matcher reports the error itself
			break
		}
		p.name, p.tmpl = name, tmpl
	case specAny, specAll:
		for _, sub := range s.subs {
			p.subs = append(p.subs, compileSpec(sub))
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
		groups := namedGroups(p.name, path)
		for k, v := range groups {
			groups[k] = strings.ReplaceAll(v, ".", `\.`)
		}
		var buf bytes.Buffer
		if err := p.tmpl.Execute(&buf, groups); err != nil {
			return true
		}
		return hasAll(b, requiredStrings(buf.String()))
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
// its pre-filter when the generated table describes it, and computed on
// up to parallelism goroutines (see classifyRun); r is the resolver the
// cataloguer reads.
func classifierConfig(r *resolver, parallelism int) binary.ClassifierCatalogerConfig {
	cfg := binary.DefaultClassifierCatalogerConfig()
	if len(cfg.Classifiers) == 0 {
		return cfg
	}
	specs := classifierSpecs()
	usable := len(specs) == len(cfg.Classifiers)
	if v := SyftVersion(); v != "unknown" && v != classifierSpecsVersion {
		usable = false
	}
	run := newClassifyRun(cfg.Classifiers, cfg.Classifiers[0].EvidenceMatcher, r, parallelism)
	for i := range cfg.Classifiers {
		c := &cfg.Classifiers[i]
		var f *prefilter
		if usable && specs[i].class == c.Class && specs[i].glob == c.FileGlob {
			if f = compileSpec(specs[i].matcher); f.kind == specOpaque {
				f = nil
			}
		}
		if c.EvidenceMatcher != nil {
			c.EvidenceMatcher = run.wrap(i, c.FileGlob, c.EvidenceMatcher, f)
		}
	}
	run.classifiers = slices.Clone(cfg.Classifiers)
	return cfg
}

// classifyRun runs syft's classifiers for one cataloguer. syft's
// cataloguer calls them one file at a time, classifier by classifier (its
// order decides which classifier a package is merged into); at its first
// call, classifyRun lists the same files (the same FilesByGlob calls) and
// computes every classifier's answer for each on parallelism goroutines,
// in the cataloguer's order, and each call of the cataloguer takes its
// answer when ready. The answers are the matchers' own (they depend only
// on the file and the resolver, which serves concurrent catalogers
// anyway), so the cataloguer merges the same packages in the same order.
//
// C and X are syft's binutils.Classifier and binutils.MatcherContext,
// inferred: that package is internal to syft.
type classifyRun[C, X any] struct {
	r           *resolver
	parallelism int
	classifiers []C
	globs       []string
	matchers    []func(C, X) ([]pkg.Package, error) // each behind its pre-filter

	once sync.Once
	mu   sync.Mutex
	memo map[classifyKey]*classifyAnswer
}

type classifyKey struct {
	classifier   int
	real, access string
	fileSystemID string
}

type classifyAnswer struct {
	done chan struct{}
	pkgs []pkg.Package
	err  error
	// panicked is what the matcher panicked with, if it did: the panic
	// goes on in the cataloguer's goroutine, where syft recovers it, as
	// if the matcher had run there.
	panicked any
}

func newClassifyRun[C, X any](_ []C, _ func(C, X) ([]pkg.Package, error), r *resolver, parallelism int) *classifyRun[C, X] {
	return &classifyRun[C, X]{r: r, parallelism: parallelism, memo: map[classifyKey]*classifyAnswer{}}
}

// wrap returns classifier i's matcher m behind its pre-filter f (nil:
// none) and served from the run's answers.
func (run *classifyRun[C, X]) wrap(i int, glob string, m func(C, X) ([]pkg.Package, error), f *prefilter) func(C, X) ([]pkg.Package, error) {
	if f != nil {
		m = filtered(m, f, run.r)
	}
	run.globs = append(run.globs, glob)
	run.matchers = append(run.matchers, m)
	if run.parallelism < 2 {
		return m
	}
	return func(c C, x X) ([]pkg.Package, error) {
		loc, ok := cataloguedLocation(x)
		if !ok {
			return m(c, x)
		}
		if res, ok := contextResolver(x); ok {
			run.once.Do(func() { run.start(res) })
		}
		run.mu.Lock()
		key := keyOf(i, loc)
		a := run.memo[key]
		delete(run.memo, key)
		run.mu.Unlock()
		if a == nil {
			return m(c, x)
		}
		<-a.done
		if a.panicked != nil {
			panic(a.panicked)
		}
		return a.pkgs, a.err
	}
}

func keyOf(i int, l file.Location) classifyKey {
	return classifyKey{classifier: i, real: l.RealPath, access: l.AccessPath, fileSystemID: l.FileSystemID}
}

// start lists each classifier's files as syft's cataloguer does and
// computes the answers on run.parallelism goroutines, in that order. A
// classifier whose files cannot be listed is left to the cataloguer.
func (run *classifyRun[C, X]) start(res file.Resolver) {
	type job struct {
		i   int
		loc file.Location
		a   *classifyAnswer
	}
	if _, ok := matcherContext[X](res, file.Location{}); !ok {
		return // syft's context changed shape: the cataloguer calls each matcher itself
	}
	var jobs []job
	run.mu.Lock()
	for i, glob := range run.globs {
		if i >= len(run.classifiers) {
			break
		}
		locs, err := res.FilesByGlob(glob)
		if err != nil {
			continue
		}
		for _, loc := range locs {
			key := keyOf(i, loc)
			if run.memo[key] != nil {
				continue
			}
			a := &classifyAnswer{done: make(chan struct{})}
			run.memo[key] = a
			jobs = append(jobs, job{i, loc, a})
		}
	}
	run.mu.Unlock()
	next := make(chan job)
	go func() {
		defer close(next)
		for _, j := range jobs {
			next <- j
		}
	}()
	for range min(run.parallelism, len(jobs)) {
		go func() {
			for j := range next {
				run.answer(res, j.i, j.loc, j.a)
			}
		}()
	}
}

// answer computes classifier i's answer for the file at loc into a.
func (run *classifyRun[C, X]) answer(res file.Resolver, i int, loc file.Location, a *classifyAnswer) {
	defer close(a.done)
	defer func() {
		if p := recover(); p != nil {
			a.panicked = p
		}
	}()
	x, _ := matcherContext[X](res, loc) // start checked that it builds
	a.pkgs, a.err = run.matchers[i](run.classifiers[i], x)
}

// filtered puts f in front of syft's matcher m. Only the cataloguer's own
// calls are filtered: a context that carries a reader (a matcher calling
// another) goes straight to m, and so does a file whose whole contents the
// scan did not capture.
func filtered[C, X any](m func(C, X) ([]pkg.Package, error), f *prefilter, r *resolver) func(C, X) ([]pkg.Package, error) {
	return func(c C, x X) ([]pkg.Package, error) {
		if loc, ok := cataloguedLocation(x); ok {
			if n, err := r.fsys.Stat(loc.RealPath); err == nil {
				if b, err := r.fsys.ReadFile(n.Path); err == nil && !f.mayMatch(loc.LocalPath(), b) {
					return nil, nil
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

// contextResolver returns a matcher context's resolver.
func contextResolver(x any) (file.Resolver, bool) {
	v := reflect.ValueOf(x)
	if v.Kind() != reflect.Struct {
		return nil, false
	}
	f := v.FieldByName("Resolver")
	if !f.IsValid() || !f.CanInterface() {
		return nil, false
	}
	r, ok := f.Interface().(file.Resolver)
	return r, ok && r != nil
}

// matcherContext builds a matcher context as syft's cataloguer does: the
// resolver and the file's location.
func matcherContext[X any](r file.Resolver, loc file.Location) (X, bool) {
	var x X
	v := reflect.ValueOf(&x).Elem()
	if v.Kind() != reflect.Struct {
		return x, false
	}
	rf, lf := v.FieldByName("Resolver"), v.FieldByName("Location")
	if !rf.IsValid() || !lf.IsValid() || !rf.CanSet() || !lf.CanSet() ||
		!reflect.TypeOf(&r).Elem().AssignableTo(rf.Type()) || !reflect.TypeOf(loc).AssignableTo(lf.Type()) {
		return x, false
	}
	rf.Set(reflect.ValueOf(&r).Elem())
	lf.Set(reflect.ValueOf(loc))
	return x, true
}

// packagesConfig is syft's default package configuration with the
// pre-filtered, parallel classifiers.
func packagesConfig(base pkgcataloging.Config, r *resolver, parallelism int) pkgcataloging.Config {
	return base.WithBinaryConfig(classifierConfig(r, parallelism))
}
