// Package boundaries holds the tests that keep docs/architecture.md true:
// every package of the module is listed there, reaches and imports exactly
// what its row of the "Allowed imports" table says (transitively, loaded once
// with golang.org/x/tools/go/packages), and pkg/ holds no package-level
// mutable state.
package boundaries
