package report_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestNoSeverityStrings keeps severities compared as report.Severity values
// everywhere in the module (tests included): it fails on a comparison, a
// switch case or a strings.EqualFold against a severity name ("high"), and
// on a comparison of something named severity with a string (a literal or
// a String() call). Ranking names again is how the five copies this type
// replaced came about.
func TestNoSeverityStrings(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	scanned := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		scanned++
		for _, p := range severityStrings(f) {
			t.Errorf("%s: severity compared as a string: %s (compare report.Severity values)", fset.Position(p.pos), p.what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("only %d Go files scanned from %s", scanned, root)
	}
}

type finding struct {
	pos  token.Pos
	what string
}

// severityStrings finds the string comparisons of severities in f.
func severityStrings(f *ast.File) []finding {
	var out []finding
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if !comparison(n.Op) {
				return true
			}
			if isSeverityName(n.X) || isSeverityName(n.Y) ||
				(namedSeverity(n.X) && stringish(n.Y)) || (namedSeverity(n.Y) && stringish(n.X)) {
				out = append(out, finding{n.Pos(), n.Op.String() + " on a severity string"})
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				if isSeverityName(e) {
					out = append(out, finding{e.Pos(), "switch case on a severity name"})
				}
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "EqualFold" && slices.ContainsFunc(n.Args, isSeverityName) {
				out = append(out, finding{n.Pos(), "EqualFold with a severity name"})
			}
		}
		return true
	})
	return out
}

func comparison(op token.Token) bool {
	switch op {
	case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
		return true
	}
	return false
}

// isSeverityName reports whether e is a string literal naming a severity.
func isSeverityName(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return false
	}
	s, err := strconv.Unquote(lit.Value)
	return err == nil && slices.Contains(report.SeverityNames(), strings.ToLower(s))
}

// namedSeverity reports whether e is a variable or field named like a
// severity (severity, Severity, sev).
func namedSeverity(e ast.Expr) bool {
	var name string
	switch e := e.(type) {
	case *ast.Ident:
		name = e.Name
	case *ast.SelectorExpr:
		name = e.Sel.Name
	default:
		return false
	}
	name = strings.ToLower(name)
	return name == "sev" || strings.HasSuffix(name, "severity")
}

// stringish reports whether e is a string literal or a String() call.
func stringish(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.CallExpr:
		sel, ok := e.Fun.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == "String" && len(e.Args) == 0
	}
	return false
}

// TestSeverityStringsDetector: the scan above finds what it is meant to.
func TestSeverityStringsDetector(t *testing.T) {
	src := `package x
func f(s string, f struct{ Severity string }, v interface{ String() string }) {
	_ = s == "high"
	_ = "Critical" != s
	_ = f.Severity == v.String()
	switch s {
	case "medium", "other":
	}
	_ = strings.EqualFold(s, "low")
	_ = s == "table"
	_ = f.Severity >= 3
}`
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(severityStrings(f)); got != 5 {
		t.Errorf("%d comparisons found, want 5", got)
	}
}
