package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeTB records how Missing ended a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = true
	f.msg = format
	panic(f) // SkipNow does not return
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = format
	panic(f)
}

func run(f *fakeTB, fn func()) {
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
	}()
	fn()
}

func TestMissingSkipsOutsideCIAndFailsInCI(t *testing.T) {
	for _, tc := range []struct {
		ci, e2e  string
		wantFail bool
	}{
		{"", "", false},
		{"true", "", true},
		{"", "1", true},
		{"false", "0", false},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv("IMGAUDIT_E2E", tc.e2e)
		f := &fakeTB{TB: t}
		run(f, func() { Missing(f, "docker-registry", "not installed", "apt-get install -y docker-registry") })
		if f.failed != tc.wantFail || f.skipped == tc.wantFail {
			t.Errorf("CI=%q IMGAUDIT_E2E=%q: failed %v skipped %v", tc.ci, tc.e2e, f.failed, f.skipped)
		}
	}
}

func TestTool(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("IMGAUDIT_E2E", "")
	dir := t.TempDir()
	exe := filepath.Join(dir, "mytool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExe := filepath.Join(dir, "data")
	if err := os.WriteFile(notExe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if got := Tool(t, "mytool", "", "x"); got != exe {
		t.Errorf("Tool from PATH = %q, want %q", got, exe)
	}
	t.Setenv("IMGAUDIT_TEST_TOOL", exe)
	if got := Tool(t, "other", "IMGAUDIT_TEST_TOOL", "x"); got != exe {
		t.Errorf("Tool from env = %q, want %q", got, exe)
	}
	for _, tc := range []struct{ name, env, value string }{
		{"nothere", "", ""},
		{"mytool", "IMGAUDIT_TEST_TOOL", notExe},
	} {
		t.Setenv("IMGAUDIT_TEST_TOOL", tc.value)
		f := &fakeTB{TB: t}
		run(f, func() { Tool(f, tc.name, tc.env, "x") })
		if !f.skipped {
			t.Errorf("Tool(%q, %q=%q) did not skip", tc.name, tc.env, tc.value)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("IMGAUDIT_TEST_TOOL", "")
	t.Setenv("CI", "")
	t.Setenv("IMGAUDIT_E2E", "")
	if got := Lookup(t, "nothere", "IMGAUDIT_TEST_TOOL", "x"); got != "" {
		t.Errorf("Lookup of a missing tool = %q, want \"\"", got)
	}
	t.Setenv("IMGAUDIT_E2E", "1")
	f := &fakeTB{TB: t}
	run(f, func() { Lookup(f, "nothere", "IMGAUDIT_TEST_TOOL", "x") })
	if !f.failed {
		t.Error("Lookup of a missing tool did not fail under IMGAUDIT_E2E=1")
	}
}
