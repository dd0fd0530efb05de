package boundaries

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
)

const mod = "github.com/imgaudit/imgaudit"

// architecture is the page whose tables hold the rules.
var architecture = filepath.Join("..", "..", "docs", "architecture.md")

// set is a set of import paths, or any (nil with all set).
type set struct {
	all   bool
	items []string
}

func (s set) has(p string) bool { return s.all || slices.Contains(s.items, p) }

// rule is one row of the "Allowed imports" table of docs/architecture.md.
type rule struct {
	line         int
	reaches      set // module packages reached, module-relative, exact
	imports      set // other modules' packages imported directly, exact
	modules      set // other modules reached, exact
	neverImports set
	neverReaches set // full import paths, or module-relative
}

// graph is the module's packages with their transitive imports.
type graph struct {
	pkgs map[string]*packages.Package // by module-relative path
	err  error
}

// load loads ./... once for every test of this package.
var load = sync.OnceValue(func() graph {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps | packages.NeedModule,
		Dir:  filepath.Join("..", ".."),
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return graph{err: err}
	}
	g := graph{pkgs: map[string]*packages.Package{}}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			return graph{err: e}
		}
		g.pkgs[relative(p.PkgPath)] = p
	}
	return g
})

// relative returns a module package's path without the module prefix
// ("pkg/fetch"), or "" for other packages.
func relative(path string) string {
	if path == mod {
		return "."
	}
	if r, ok := strings.CutPrefix(path, mod+"/"); ok {
		return r
	}
	return ""
}

func standard(p *packages.Package) bool {
	return p.Module == nil && !strings.Contains(strings.Split(p.PkgPath, "/")[0], ".")
}

// closure returns every package p reaches, directly or not, by package
// path. Imports are keyed by the path the source wrote, which is not unique:
// the standard library's vendored golang.org/x/net/idna and the module's own
// share "golang.org/x/net/idna", so keying by it made the walk depend on map
// order (and golang.org/x/text reached or not, run to run).
func closure(p *packages.Package) map[string]*packages.Package {
	seen := map[string]*packages.Package{}
	var walk func(q *packages.Package)
	walk = func(q *packages.Package) {
		for _, d := range q.Imports {
			if _, ok := seen[d.PkgPath]; !ok {
				seen[d.PkgPath] = d
				walk(d)
			}
		}
	}
	walk(p)
	return seen
}

func TestImportBoundaries(t *testing.T) {
	g := load()
	if g.err != nil {
		t.Fatal(g.err)
	}
	rules := readRules(t)
	for name, r := range rules {
		t.Run(name, func(t *testing.T) {
			p, ok := g.pkgs[name]
			if !ok {
				t.Fatalf("%s:%d: no package %s in the module", architecture, r.line, name)
			}
			all := closure(p)
			var reached, modules, imported []string
			for path, d := range all {
				switch {
				case relative(path) != "":
					reached = append(reached, relative(path))
				case !standard(d) && d.Module != nil && !slices.Contains(modules, d.Module.Path):
					modules = append(modules, d.Module.Path)
				}
				if r.neverReaches.has(path) || r.neverReaches.has(relative(path)) {
					t.Errorf("%s reaches %s (never reaches, %s:%d)", name, path, architecture, r.line)
				}
			}
			for path, d := range p.Imports {
				if relative(path) == "" && !standard(d) {
					imported = append(imported, path)
				}
				if r.neverImports.has(path) {
					t.Errorf("%s imports %s (never imports, %s:%d)", name, path, architecture, r.line)
				}
			}
			same(t, name, "module packages reached", reached, r.reaches, r.line)
			same(t, name, "other modules' packages imported", imported, r.imports, r.line)
			same(t, name, "modules reached", modules, r.modules, r.line)
		})
	}
}

// same reports the differences between what a package does (got) and what
// its rule says (want), both ways.
func same(t *testing.T, pkg, column string, got []string, want set, line int) {
	t.Helper()
	if want.all {
		return
	}
	for _, g := range got {
		if !slices.Contains(want.items, g) {
			t.Errorf("%s: %s: %s is not in %s:%d", pkg, column, g, architecture, line)
		}
	}
	for _, w := range want.items {
		if !slices.Contains(got, w) {
			t.Errorf("%s: %s: %s:%d lists %s, which it does not", pkg, column, architecture, line, w)
		}
	}
}

// TestEveryPackageIsDocumented fails when a package of the module is missing
// from either table of docs/architecture.md, or a table lists one that does
// not exist.
func TestEveryPackageIsDocumented(t *testing.T) {
	g := load()
	if g.err != nil {
		t.Fatal(g.err)
	}
	var module []string
	for name := range g.pkgs {
		module = append(module, name)
	}
	sort.Strings(module)
	var ruled []string
	for name := range readRules(t) {
		ruled = append(ruled, name)
	}
	sort.Strings(ruled)
	described := firstColumn(t, "## Packages")
	sort.Strings(described)
	for _, table := range []struct {
		name string
		list []string
	}{{"Packages", described}, {"Allowed imports", ruled}} {
		for _, m := range module {
			if !slices.Contains(table.list, m) {
				t.Errorf("%s: the %q table has no row for %s", architecture, table.name, m)
			}
		}
		for _, d := range table.list {
			if !slices.Contains(module, d) {
				t.Errorf("%s: the %q table has a row for %s, which is not a package of the module", architecture, table.name, d)
			}
		}
	}
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// tableRows returns the cells of the table that follows heading, with the
// line number of each row.
func tableRows(t *testing.T, heading string) (rows [][]string, lines []int) {
	t.Helper()
	f, err := os.Open(architecture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	in, header := false, 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == heading:
			in = true
		case !in:
		case strings.HasPrefix(line, "## "):
			return rows, lines
		case strings.HasPrefix(line, "|"):
			if header++; header <= 2 {
				continue // column names and the separator
			}
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows, lines = append(rows, cells), append(lines, n)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no table under %q", architecture, heading)
	}
	return rows, lines
}

// firstColumn returns the package names of the table under heading.
func firstColumn(t *testing.T, heading string) []string {
	rows, _ := tableRows(t, heading)
	var out []string
	for _, r := range rows {
		out = append(out, strings.Trim(r[0], "`"))
	}
	return out
}

// readRules parses the "Allowed imports" table.
func readRules(t *testing.T) map[string]rule {
	t.Helper()
	rows, lines := tableRows(t, "## Allowed imports")
	rules := map[string]rule{}
	for i, r := range rows {
		if len(r) != 6 {
			t.Fatalf("%s:%d: %d cells, want 6", architecture, lines[i], len(r))
		}
		parse := func(cell string) set {
			switch cell {
			case "any":
				return set{all: true}
			case "—":
				return set{}
			}
			var s set
			for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
				s.items = append(s.items, m[1])
			}
			if len(s.items) == 0 {
				t.Fatalf("%s:%d: cell %q is neither any, — nor a list of `paths`", architecture, lines[i], cell)
			}
			return s
		}
		name := strings.Trim(r[0], "`")
		if _, dup := rules[name]; dup {
			t.Fatalf("%s:%d: a second row for %s", architecture, lines[i], name)
		}
		rules[name] = rule{line: lines[i], reaches: parse(r[1]), imports: parse(r[2]), modules: parse(r[3]),
			neverImports: parse(r[4]), neverReaches: parse(r[5])}
	}
	return rules
}
