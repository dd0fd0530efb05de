package diff_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/diff"
	"github.com/imgaudit/imgaudit/pkg/report"
)

func layer(i int, diffID, createdBy string) *report.LayerRef {
	return &report.LayerRef{Index: i, Digest: "sha256:blob-" + diffID, DiffID: diffID, CreatedBy: createdBy}
}

func file(id, path string, l *report.LayerRef, aliases ...string) report.Finding {
	return report.Finding{ID: id, Severity: report.Medium, Path: path, Aliases: aliases, Layer: l}
}

func config(id, name string) report.Finding {
	return report.Finding{ID: id, Severity: report.High, Name: name}
}

// ids lists findings as "ID path|name" for comparison.
func ids(fs []report.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.ID+" "+f.Path+f.Name)
	}
	return out
}

func TestCompareIdentity(t *testing.T) {
	base := layer(0, "sha256:base", "ADD rootfs.tar /")
	app := layer(1, "sha256:app", "RUN apt-get install curl")
	// A rebuild: new digests and diffIDs everywhere, one more layer in
	// front, so every finding's layer index shifted.
	rebuiltBase := layer(1, "sha256:base2", "ADD rootfs.tar / # rebuilt")
	rebuiltApp := layer(2, "sha256:app2", "RUN apt-get install -y curl")
	for _, tc := range []struct {
		name           string
		old, new       []report.Finding
		added, removed []string
		unchanged      int
	}{
		{
			name:      "rebuild with new digests and shifted layers adds nothing",
			old:       []report.Finding{file("IA-SHELL", "/bin/sh", base), file("IA-NETWORK-TOOL", "/usr/bin/curl", app), config("IA-ROOT-USER", "")},
			new:       []report.Finding{config("IA-ROOT-USER", ""), file("IA-NETWORK-TOOL", "/usr/bin/curl", rebuiltApp), file("IA-SHELL", "/bin/sh", rebuiltBase)},
			unchanged: 3,
		},
		{
			name:      "file moved between layers is unchanged",
			old:       []report.Finding{file("IA-SETUID", "/usr/bin/su", app)},
			new:       []report.Finding{file("IA-SETUID", "/usr/bin/su", base)},
			unchanged: 1,
		},
		{
			name:      "path moved, old path now an alias: same file",
			old:       []report.Finding{file("IA-SHELL", "/bin/sh", base)},
			new:       []report.Finding{file("IA-SHELL", "/usr/bin/sh", base, "/bin/sh")},
			unchanged: 1,
		},
		{
			name:      "aliases intersect though both paths changed",
			old:       []report.Finding{file("IA-SHELL", "/bin/bash", base, "/usr/bin/bash", "/bin/sh")},
			new:       []report.Finding{file("IA-SHELL", "/usr/bin/bash", base, "/usr/bin/sh")},
			unchanged: 1,
		},
		{
			name:    "aliases disjoint: a different file",
			old:     []report.Finding{file("IA-SHELL", "/bin/sh", base, "/usr/bin/sh")},
			new:     []report.Finding{file("IA-SHELL", "/bin/ash", base, "/usr/bin/ash")},
			added:   []string{"IA-SHELL /bin/ash"},
			removed: []string{"IA-SHELL /bin/sh"},
		},
		{
			name:      "an alias matches one finding only",
			old:       []report.Finding{file("IA-SHELL", "/bin/sh", base)},
			new:       []report.Finding{file("IA-SHELL", "/bin/dash", base, "/bin/sh"), file("IA-SHELL", "/bin/bash", base, "/bin/sh")},
			added:     []string{"IA-SHELL /bin/bash"},
			unchanged: 1,
		},
		{
			name:    "same path, other check: different findings",
			old:     []report.Finding{file("IA-SHELL", "/bin/busybox", base)},
			new:     []report.Finding{file("IA-SETUID", "/bin/busybox", base)},
			added:   []string{"IA-SETUID /bin/busybox"},
			removed: []string{"IA-SHELL /bin/busybox"},
		},
		{
			name:      "config findings match by name",
			old:       []report.Finding{config("IA-SECRET-ENV", "AWS_SECRET_ACCESS_KEY"), config("IA-SECRET-ENV", "DB_PASSWORD")},
			new:       []report.Finding{config("IA-SECRET-ENV", "DB_PASSWORD"), config("IA-SECRET-ENV", "GITHUB_TOKEN")},
			added:     []string{"IA-SECRET-ENV GITHUB_TOKEN"},
			removed:   []string{"IA-SECRET-ENV AWS_SECRET_ACCESS_KEY"},
			unchanged: 1,
		},
		{
			name:  "curl and a setuid file added",
			old:   []report.Finding{file("IA-SHELL", "/bin/sh", base)},
			new:   []report.Finding{file("IA-SHELL", "/bin/sh", base), file("IA-NETWORK-TOOL", "/usr/bin/curl", app), file("IA-SETUID", "/usr/local/bin/helper", app)},
			added: []string{"IA-NETWORK-TOOL /usr/bin/curl", "IA-SETUID /usr/local/bin/helper"}, unchanged: 1,
		},
		{
			name:      "suppressed on one side: classified by identity all the same",
			old:       []report.Finding{suppressed(file("IA-SHELL", "/bin/sh", base))},
			new:       []report.Finding{file("IA-SHELL", "/bin/sh", base), suppressed(file("IA-NETWORK-TOOL", "/usr/bin/wget", app))},
			added:     []string{"IA-NETWORK-TOOL /usr/bin/wget"},
			unchanged: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := diff.Compare(report.Image{Findings: tc.old}, report.Image{Findings: tc.new})
			if tc.added == nil {
				tc.added = []string{}
			}
			if tc.removed == nil {
				tc.removed = []string{}
			}
			if diff := cmp.Diff(tc.added, ids(d.Added)); diff != "" {
				t.Errorf("added (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.removed, ids(d.Removed)); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if d.Unchanged != tc.unchanged {
				t.Errorf("unchanged = %d, want %d", d.Unchanged, tc.unchanged)
			}
		})
	}
}

func suppressed(f report.Finding) report.Finding {
	f.Suppressed = &report.Suppression{Reason: "accepted"}
	return f
}

// TestCompareSuppressedKeepsMarker: a suppressed added finding is listed
// with its suppression, for the gate to skip.
func TestCompareSuppressedKeepsMarker(t *testing.T) {
	d := diff.Compare(report.Image{}, report.Image{Findings: []report.Finding{suppressed(file("IA-SHELL", "/bin/sh", nil))}})
	if len(d.Added) != 1 || d.Added[0].Suppressed == nil {
		t.Fatalf("added = %+v, want the suppressed finding", d.Added)
	}
}

func TestCompareFacts(t *testing.T) {
	uid0, uid1000 := 0, 1000
	old := report.Image{
		Reference: "app:1", Digest: "sha256:old",
		User:   report.User{Configured: "", UID: &uid0, Root: true},
		Base:   report.Base{Kind: "debian", OSRelease: &report.OSRelease{PrettyName: "Debian GNU/Linux 12 (bookworm)"}},
		Layers: []report.Layer{{Index: 0, DiffID: "sha256:a"}, {Index: 1, DiffID: "sha256:b"}},
		Stats:  report.Stats{UncompressedBytes: 100},
		SBOM:   &report.SBOM{Packages: 90},
	}
	same := old
	same.Digest = "sha256:rebuilt"
	if d := diff.Compare(old, same); d.User != nil || d.Base != nil || d.Packages != nil || d.Size != nil || d.LayersAdded != nil || d.LayersRemoved != nil {
		t.Errorf("identical facts reported as changes: %+v", d)
	}
	// The new one moves layer b first, drops a, adds c.
	nw := report.Image{
		User:   report.User{Configured: "1000", UID: &uid1000, Verifiable: true},
		Base:   report.Base{Kind: "debian", OSRelease: &report.OSRelease{PrettyName: "Debian GNU/Linux 13 (trixie)"}},
		Layers: []report.Layer{{Index: 0, DiffID: "sha256:b"}, {Index: 1, DiffID: "sha256:c"}},
		Stats:  report.Stats{UncompressedBytes: 150},
		SBOM:   &report.SBOM{Packages: 95},
	}
	d := diff.Compare(old, nw)
	want := report.Diff{
		Baseline: "app:1", BaselineDigest: "sha256:old",
		Added: []report.Finding{}, Removed: []report.Finding{},
		User:          &report.Change{Old: "(unset) (root)", New: "1000"},
		Base:          &report.Change{Old: "debian Debian GNU/Linux 12 (bookworm)", New: "debian Debian GNU/Linux 13 (trixie)"},
		Packages:      &report.CountChange{Old: 90, New: 95},
		Size:          &report.CountChange{Old: 100, New: 150},
		LayersAdded:   []report.Layer{{Index: 1, DiffID: "sha256:c"}},
		LayersRemoved: []report.Layer{{Index: 0, DiffID: "sha256:a"}},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
}

// TestCompareBase: the base is the same when its kind, distribution, name
// and digest are; a base rebuilt under the same name (a new
// org.opencontainers.image.base.digest) is a changed base.
func TestCompareBase(t *testing.T) {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	deb := func(name, digest string) report.Base {
		return report.Base{Kind: "debian", OSRelease: &report.OSRelease{PrettyName: "Debian GNU/Linux 12 (bookworm)"}, Name: name, Digest: digest}
	}
	for _, tc := range []struct {
		name     string
		old, new report.Base
		want     *report.Change
	}{
		{name: "same name and digest", old: deb("debian:12", d1), new: deb("debian:12", d1)},
		{name: "same name, no digest on either side", old: deb("debian:12", ""), new: deb("debian:12", "")},
		{
			name: "base rebuilt under the same name",
			old:  deb("debian:12", d1), new: deb("debian:12", d2),
			want: &report.Change{Old: "debian Debian GNU/Linux 12 (bookworm) (debian:12@sha256:111111111111)", New: "debian Debian GNU/Linux 12 (bookworm) (debian:12@sha256:222222222222)"},
		},
		{
			name: "digest named only on the new side",
			old:  deb("debian:12", ""), new: deb("debian:12", d2),
			want: &report.Change{Old: "debian Debian GNU/Linux 12 (bookworm) (debian:12)", New: "debian Debian GNU/Linux 12 (bookworm) (debian:12@sha256:222222222222)"},
		},
		{
			name: "another base name, same digest",
			old:  deb("debian:12", d1), new: deb("debian:bookworm", d1),
			want: &report.Change{Old: "debian Debian GNU/Linux 12 (bookworm) (debian:12@sha256:111111111111)", New: "debian Debian GNU/Linux 12 (bookworm) (debian:bookworm@sha256:111111111111)"},
		},
		{
			name: "name pinned by digest: the digest is not repeated",
			old:  deb("debian@"+d1, d1), new: deb("debian@"+d2, d2),
			want: &report.Change{Old: "debian Debian GNU/Linux 12 (bookworm) (debian@" + d1 + ")", New: "debian Debian GNU/Linux 12 (bookworm) (debian@" + d2 + ")"},
		},
		{name: "no annotations", old: report.Base{Kind: "scratch"}, new: report.Base{Kind: "scratch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := diff.Compare(report.Image{Base: tc.old}, report.Image{Base: tc.new}).Base
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("base change (-want +got):\n%s", d)
			}
		})
	}
}
