package runtimediff

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgaudit/imgaudit/internal/e2e"
)

// Required reports whether the harness must run (fail rather than skip when
// it cannot): in CI (CI=true, as CI services set it) or when IMGAUDIT_E2E=1.
func Required() bool { return e2e.Required() }

// Require skips t, in one line, when the harness cannot run here (not root,
// or no overlay mount), and fails it instead when [Required].
func Require(t testing.TB) {
	t.Helper()
	if err := Probe(t.TempDir()); err != nil {
		msg := fmt.Sprintf("runtimediff needs root and overlayfs: %v (CI=true or IMGAUDIT_E2E=1 make this a failure)", err)
		if Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Outcome is what one runtime made of a stack.
type Outcome struct {
	Tree Tree  // nil when the runtime refused the stack
	Err  error // why it refused
}

// Result holds every side of one stack.
type Result struct {
	Runtimes map[Runtime]Outcome
	Audit    Tree
	AuditErr error
}

// Applied returns the trees of the runtimes that applied the stack.
func (r *Result) Applied() map[Runtime]Tree {
	m := map[Runtime]Tree{}
	for rt, o := range r.Runtimes {
		if o.Err == nil {
			m[rt] = o.Tree
		}
	}
	return m
}

// Compare compares the audit with the runtimes that applied the stack (see
// the package function [Compare]).
func (r *Result) Compare(strict bool) []Diff {
	return Compare(r.Applied(), r.Audit, strict)
}

// Run applies the layer tars (uncompressed, base first) with every runtime
// and with the audit, everything under t.TempDir(); the overlay is unmounted
// before Run returns (and, should walking it fail, in t.Cleanup). Call
// [Require] first. Errors of the harness itself (not of a runtime applying
// the stack) fail t.
func Run(t testing.TB, tars [][]byte) *Result {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	r := &Result{Runtimes: map[Runtime]Outcome{}}

	nat := filepath.Join(dir, "native")
	if err := os.Mkdir(nat, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ApplyNative(ctx, nat, tars); err != nil {
		r.Runtimes[Native] = Outcome{Err: err}
	} else {
		tree, err := Walk(nat)
		if err != nil {
			t.Fatalf("walking the native tree: %v", err)
		}
		r.Runtimes[Native] = Outcome{Tree: tree}
	}

	ov := filepath.Join(dir, "overlay")
	if err := os.Mkdir(ov, 0o755); err != nil {
		t.Fatal(err)
	}
	if lowers, err := ApplyOverlay(ctx, ov, tars); err != nil {
		r.Runtimes[Overlay] = Outcome{Err: err}
	} else {
		merged, unmount, err := MountOverlay(ov, lowers)
		if err != nil {
			t.Fatalf("overlay: %v", err)
		}
		t.Cleanup(func() {
			if err := unmount(); err != nil {
				t.Error(err)
			}
		})
		tree, err := Walk(merged)
		if err != nil {
			t.Fatalf("walking the overlay: %v", err)
		}
		if err := unmount(); err != nil {
			t.Fatal(err)
		}
		r.Runtimes[Overlay] = Outcome{Tree: tree}
	}

	r.Audit, r.AuditErr = Audit(ctx, tars)
	return r
}

// Check runs the stack and fails t on every path where the audit departs
// from the runtimes (see [Compare]); an audit that refuses a stack some
// runtime applies fails too. describe, when not nil, renders the stack for
// the failure message. It returns the result for further assertions.
func Check(t testing.TB, tars [][]byte, strict bool, describe func() string) *Result {
	t.Helper()
	r := Run(t, tars)
	applied := r.Applied()
	if len(applied) == 0 {
		t.Logf("no runtime applies this stack (native: %v; overlay: %v)", r.Runtimes[Native].Err, r.Runtimes[Overlay].Err)
		return r
	}
	var stack string
	if describe != nil {
		stack = "\nstack:\n" + describe()
	}
	if r.AuditErr != nil {
		t.Errorf("the audit refuses a stack a runtime applies: %v%s", r.AuditErr, stack)
		return r
	}
	if diffs := r.Compare(strict); len(diffs) > 0 {
		t.Errorf("audit departs from %s:\n%s%s", names(applied), Report(diffs, 12), stack)
	}
	return r
}

func names(m map[Runtime]Tree) string {
	s := ""
	for _, r := range All() {
		if _, ok := m[r]; ok {
			if s != "" {
				s += "+"
			}
			s += string(r)
		}
	}
	return s
}
