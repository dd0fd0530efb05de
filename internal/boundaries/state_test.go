package boundaries

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// pkgVar is one package-level variable of a package under pkg/.
type pkgVar struct {
	pkg, file, name string
	pos             token.Position
	spec            *ast.ValueSpec
	value           ast.Expr // nil when the spec has no value for it
}

func (v pkgVar) String() string { return fmt.Sprintf("%s:%d: var %s", v.file, v.pos.Line, v.name) }

// temporarilyAllowed names package-level variables that other work in
// flight removes; each entry must still match something, so that it is
// dropped when that work lands. A key is a package ("pkg/checks": all its
// variables) or "FILE:NAME".
var temporarilyAllowed = map[string]string{}

// TestNoPackageLevelMutableState lists every package-level var of pkg/
// (every build tag) and fails unless it is of a kind nothing can change:
//
//   - an interface assertion, var _ I = (*T)(nil), with its type written;
//   - a sentinel error made by errors.New;
//   - a compiled regular expression (regexp.MustCompile; its one mutating
//     method, Longest, is never called in pkg/) or a strings.Replacer (it has
//     no mutating method);
//   - a value computed once: a struct with a sync.Once field whose fields are
//     assigned only inside that Once's Do.
//
// Tables are funcs or consts, so no caller can append to or overwrite them.
func TestNoPackageLevelMutableState(t *testing.T) {
	fset := token.NewFileSet()
	files := map[string][]*ast.File{} // by package dir
	var vars []pkgVar
	paths, err := filepath.Glob(filepath.Join("..", "..", "pkg", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, filepath.Join("..", "..")+string(filepath.Separator)))
		pkg := filepath.ToSlash(filepath.Dir(rel))
		files[pkg] = append(files[pkg], f)
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					v := pkgVar{pkg: pkg, file: rel, name: n.Name, pos: fset.Position(n.Pos()), spec: vs}
					if i < len(vs.Values) {
						v.value = vs.Values[i]
					}
					vars = append(vars, v)
				}
			}
		}
	}
	if len(vars) == 0 {
		t.Fatal("no package-level variables found: wrong directory?")
	}

	longest := callsOf(fset, files, "Longest")
	used := map[string]bool{}
	for _, v := range vars {
		kind, why := kindOfVar(fset, v, files[v.pkg])
		if why == "" && kind == "compiled regexp" && len(longest) > 0 {
			why = "regexp.Regexp.Longest is called at " + strings.Join(longest, ", ")
		}
		if why == "" {
			t.Logf("%s: %s", v, kind)
			continue
		}
		if reason, ok := allowance(v, used); ok {
			t.Logf("%s: temporarily allowed (%s): %s", v, reason, why)
			continue
		}
		t.Errorf("%s is package-level mutable state: %s; make it a func or a const", v, why)
	}
	for key := range temporarilyAllowed {
		if !used[key] {
			t.Errorf("temporarilyAllowed[%q] matches nothing any more: remove it", key)
		}
	}
}

func allowance(v pkgVar, used map[string]bool) (string, bool) {
	for _, key := range []string{v.pkg, v.file + ":" + v.name} {
		if reason, ok := temporarilyAllowed[key]; ok {
			used[key] = true
			return reason, true
		}
	}
	return "", false
}

// kindOfVar returns the allowed kind of v, or why it is not allowed.
func kindOfVar(fset *token.FileSet, v pkgVar, pkgFiles []*ast.File) (kind, why string) {
	if v.name == "_" {
		if v.spec.Type == nil {
			return "", "a blank var without a type asserts nothing (it keeps an import alive)"
		}
		return "interface assertion", ""
	}
	if call, ok := v.value.(*ast.CallExpr); ok {
		switch calleeName(call) {
		case "errors.New":
			return "sentinel error", ""
		case "regexp.MustCompile":
			return "compiled regexp", ""
		case "strings.NewReplacer":
			return "strings.Replacer", ""
		}
	}
	if once := onceField(v.spec); once != "" && v.value == nil {
		if w := writesOutsideOnce(fset, v.name, once, pkgFiles); len(w) > 0 {
			return "", "written outside " + v.name + "." + once + ".Do at " + strings.Join(w, ", ")
		}
		return "value computed once", ""
	}
	return "", "a variable anyone in the package can write"
}

// calleeName is "pkg.Func" for a call of a package-qualified function.
func calleeName(call *ast.CallExpr) string {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return x.Name + "." + sel.Sel.Name
}

// onceField returns the name of the sync.Once field of an anonymous struct
// type, or "".
func onceField(vs *ast.ValueSpec) string {
	st, ok := vs.Type.(*ast.StructType)
	if !ok {
		return ""
	}
	for _, f := range st.Fields.List {
		sel, ok := f.Type.(*ast.SelectorExpr)
		if ok && len(f.Names) == 1 && sel.Sel.Name == "Once" {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "sync" {
				return f.Names[0].Name
			}
		}
	}
	return ""
}

// writesOutsideOnce lists the places in files that assign to name (or to
// a field or element of it), or take its address, other than inside the
// function literal given to name.once.Do. Shadowing is ignored, which can
// only make the test stricter.
func writesOutsideOnce(fset *token.FileSet, name, once string, files []*ast.File) []string {
	var out []string
	for _, f := range files {
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			var targets []ast.Expr
			switch n := n.(type) {
			case *ast.AssignStmt:
				targets = n.Lhs
			case *ast.IncDecStmt:
				targets = []ast.Expr{n.X}
			case *ast.UnaryExpr:
				if n.Op == token.AND {
					targets = []ast.Expr{n.X}
				}
			case *ast.RangeStmt:
				targets = []ast.Expr{n.Key, n.Value}
			}
			for _, e := range targets {
				if rootIdent(e) == name && !insideOnceDo(stack, name, once) {
					out = append(out, fset.Position(e.Pos()).String())
				}
			}
			return true
		})
	}
	return out
}

// rootIdent returns the variable an expression such as a.b[c].d writes.
func rootIdent(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return ""
		}
	}
}

// insideOnceDo reports whether the innermost node of stack lies in a
// function literal passed to name.once.Do.
func insideOnceDo(stack []ast.Node, name, once string) bool {
	for i := len(stack) - 1; i > 0; i-- {
		lit, ok := stack[i].(*ast.FuncLit)
		if !ok {
			continue
		}
		call, ok := stack[i-1].(*ast.CallExpr)
		if !ok {
			continue
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Do" {
			continue
		}
		inner, ok := sel.X.(*ast.SelectorExpr)
		if ok && inner.Sel.Name == once && rootIdent(inner.X) == name && len(call.Args) == 1 && call.Args[0] == lit {
			return true
		}
	}
	return false
}

// callsOf lists the places in files that call a method called method.
func callsOf(fset *token.FileSet, files map[string][]*ast.File, method string) []string {
	var out []string
	for _, fs := range files {
		for _, f := range fs {
			ast.Inspect(f, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == method {
						out = append(out, fset.Position(call.Pos()).String())
					}
				}
				return true
			})
		}
	}
	sort.Strings(out)
	return out
}
