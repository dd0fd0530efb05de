package cli_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra/doc"

	"github.com/imgaudit/imgaudit/internal/cli"
)

const manDir = "../../docs/man"

// manDate is the date in every man page's footer. It is fixed so that the
// pages only change when the commands do; bump it when a release changes
// them.
var manDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestGoldenManPages keeps docs/man, the man pages generated from the command
// tree (shipped in the release archives), in step with the code. Refresh
// with the same flag as every golden file of this package:
//
//	go test ./internal/cli -run Golden -update
func TestGoldenManPages(t *testing.T) {
	root := cli.NewRoot(cli.Env{Version: cli.VersionInfo{Version: "test"}})
	dir := t.TempDir()
	err := doc.GenManTree(root, &doc.GenManHeader{
		Section: "1",
		Date:    &manDate,
		Source:  "imgaudit",
		Manual:  "imgaudit manual",
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	syncGenerated(t, dir, manDir, "*.1")
}

// syncGenerated compares the files matching glob in generated with those in
// committed (or, with -update, replaces the committed ones): a file that
// differs, is missing or documents a command that no longer exists fails.
func syncGenerated(t *testing.T, generated, committed, glob string) {
	t.Helper()
	const refresh = "refresh with: go test ./internal/cli -run Golden -update"
	gen, err := filepath.Glob(filepath.Join(generated, glob))
	if err != nil {
		t.Fatal(err)
	}
	if len(gen) == 0 {
		t.Fatalf("nothing generated in %s", generated)
	}
	old, _ := filepath.Glob(filepath.Join(committed, glob))
	if *update {
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(committed, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, g := range gen {
		name := filepath.Base(g)
		names[name] = true
		got, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(committed, name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v: %s is stale; %s", err, committed, refresh)
			continue
		}
		if d := cmp.Diff(string(want), string(got)); d != "" {
			t.Errorf("%s is stale (-want +got); %s\n%s", path, refresh, d)
		}
	}
	if *update {
		return
	}
	for _, c := range old {
		if !names[filepath.Base(c)] {
			t.Errorf("%s documents a command that no longer exists; %s", c, refresh)
		}
	}
}
