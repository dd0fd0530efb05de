package checks

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type fakeCheck struct {
	meta Meta
	fs   []Finding
	err  error
}

func (f *fakeCheck) Meta() Meta { return f.meta }
func (f *fakeCheck) Run(context.Context, *Image) ([]Finding, error) {
	return f.fs, f.err
}

func TestRun(t *testing.T) {
	low := &fakeCheck{meta: Meta{ID: "T-LOW", Title: "low", Category: CategoryShell, Severity: Low, Remediation: "generic"},
		fs: []Finding{{Path: "/b", Name: "b"}, {Path: "/a", Name: "z", Remediation: "specific"}, {Path: "/a", Name: "a"}}}
	high := &fakeCheck{meta: Meta{ID: "T-HIGH", Title: "high", Category: CategorySecret, Severity: High},
		fs: []Finding{{Path: "/x", Deleted: true, Layer: &LayerRef{Index: 2}}, {Path: "/x", Layer: &LayerRef{Index: 3}}, {Path: "/x", Deleted: true, Layer: &LayerRef{Index: 1}}}}
	got, err := Run(context.Background(), NewImage("", nil, nil), []Check{low, high})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{ID: "T-HIGH", Category: CategorySecret, Severity: High, Title: "high", Path: "/x", Layer: &LayerRef{Index: 3}},
		{ID: "T-HIGH", Category: CategorySecret, Severity: High, Title: "high", Path: "/x", Deleted: true, Layer: &LayerRef{Index: 1}},
		{ID: "T-HIGH", Category: CategorySecret, Severity: High, Title: "high", Path: "/x", Deleted: true, Layer: &LayerRef{Index: 2}},
		{ID: "T-LOW", Category: CategoryShell, Severity: Low, Title: "low", Path: "/a", Name: "a", Remediation: "generic"},
		{ID: "T-LOW", Category: CategoryShell, Severity: Low, Title: "low", Path: "/a", Name: "z", Remediation: "specific"},
		{ID: "T-LOW", Category: CategoryShell, Severity: Low, Title: "low", Path: "/b", Name: "b", Remediation: "generic"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Run (-want +got):\n%s", d)
	}

	boom := errors.New("boom")
	_, err = Run(context.Background(), NewImage("", nil, nil), []Check{low, &fakeCheck{meta: Meta{ID: "T-ERR"}, err: boom}})
	if !errors.Is(err, boom) || err.Error() != "check T-ERR: boom" {
		t.Errorf("error = %v, want it to wrap boom and name the check", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, NewImage("", nil, nil), All()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err = %v", err)
	}
}

func TestFindingJSON(t *testing.T) {
	f := Finding{ID: "IA-SHELL", Category: CategoryShell, Severity: Medium, Title: "t", Path: "/bin/sh", Aliases: []string{"/usr/bin/sh"},
		Name: "sh", Layer: &LayerRef{Index: 0, Digest: "sha256:a", DiffID: "sha256:b", CreatedBy: "FROM x", HistoryIndex: 0}, Remediation: "r"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"IA-SHELL","category":"shell","severity":"medium","title":"t","path":"/bin/sh","aliases":["/usr/bin/sh"],"name":"sh",` +
		`"layer":{"index":0,"digest":"sha256:a","diffID":"sha256:b","createdBy":"FROM x","historyIndex":0},"remediation":"r"}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
}

func TestCaptures(t *testing.T) {
	got := Captures(All())
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Captures not sorted and unique: %v", got)
	}
	for _, p := range []string{"/etc/passwd", "/etc/os-release", "/usr/lib/os-release", "/var/lib/dpkg/status", "/var/lib/dpkg/status.d/*", "/lib/apk/db/installed", "**/.npmrc", "/etc/shadow"} {
		if !slices.Contains(got, p) {
			t.Errorf("Captures lacks %q", p)
		}
	}
	// A report needs the user and base whatever checks run.
	if none := Captures(nil); !slices.Contains(none, "/etc/passwd") || !slices.Contains(none, "/etc/os-release") {
		t.Errorf("Captures(nil) = %v, want the image needs", none)
	}
}
