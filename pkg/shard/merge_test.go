package shard_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/shard"
)

const testPolicy = `version: 1
ignore:
  - check: IA-SHELL
    image: reg.example/team-3/*
    reason: matches in one repository only
  - check: IA-SHELL
    image: reg.example/nowhere/*
    reason: matches nothing
  - category: secret
    reason: expired long ago
    expires: 2001-01-01
`

var testNow = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)

// image builds the audit of one image: a digest, and a shell and root
// finding in some.
func image(ref string, n int) report.Image {
	img := report.Image{Reference: ref, Source: "registry", Digest: fmt.Sprintf("sha256:%064x", n), Platform: "linux/amd64",
		Layers: []report.Layer{{Index: 0, Digest: "sha256:base", DiffID: "sha256:basediff", Size: 100}},
		Stats:  report.Stats{Files: 10 + n, Layers: 1}, Findings: []report.Finding{}}
	base := &report.LayerRef{Index: 0, Digest: "sha256:base", DiffID: "sha256:basediff"}
	if n%3 == 0 {
		img.Findings = append(img.Findings, report.Finding{ID: "IA-SHELL", Category: "shell", Severity: report.Medium, Title: "Shell", Path: "/bin/sh", Layer: base})
	}
	if n%4 == 0 {
		img.Findings = append(img.Findings, report.Finding{ID: "IA-ROOT-USER", Category: "root-user", Severity: report.High, Title: "Root"})
	}
	return img
}

// fleetImages returns the images of a registry of 12 repositories as one
// process reports them (AlsoKnownAs filled), and the references each
// image was found under.
func fleetImages(t *testing.T) []report.Image {
	var imgs []report.Image
	n := 1
	for r := 0; r < 12; r++ {
		for tag := 0; tag < 3; tag++ {
			imgs = append(imgs, image(fmt.Sprintf("reg.example/team-%d/app:%d", r, tag), n))
			n++
		}
	}
	imgs[5].Error = "reg.example/team-1/app:2: reading layer 0: unexpected EOF"
	imgs[5].Findings = []report.Finding{}
	return imgs
}

// evaluate applies the gate as imgaudit does, then the fleet summary.
func evaluate(t *testing.T, r *report.Report) {
	t.Helper()
	pol, err := policy.Parse(".imgaudit.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	policy.EvaluateGate(r, pol, policy.Gate{FailOn: policy.FailOnHigh, FailOnNew: policy.FailNever}, testNow)
	if len(r.Images) > 1 {
		r.ComputeFleet(report.FleetTop)
	}
}

// shardFiles writes the jsonl report of each of n shards of imgs (split
// by repository, dup listed under each of its references' shards).
func shardFiles(t *testing.T, imgs []report.Image, n int) map[int][]byte {
	files := map[int][]byte{}
	for i := 0; i < n; i++ {
		r := &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "imgaudit", Version: "test"}}
		for _, img := range imgs {
			for _, name := range append([]string{img.Reference}, img.AlsoKnownAs...) {
				if shard.Owner(shard.Repository(name), n) == i {
					one := img
					one.Reference, one.AlsoKnownAs = name, nil
					one.Findings = slices.Clone(img.Findings)
					r.Images = append(r.Images, one)
				}
			}
		}
		r.SortImages()
		evaluate(t, r)
		r.Shard = &report.Shard{Index: i, Count: n, Target: "registry reg.example"}
		var buf bytes.Buffer
		if err := output.Write(&buf, output.FormatJSONL, r, output.Options{}); err != nil {
			t.Fatal(err)
		}
		files[i] = buf.Bytes()
	}
	return files
}

func inputs(files map[int][]byte) []shard.Input {
	var in []shard.Input
	for i := 9; i >= 0; i-- { // any order
		if b, ok := files[i]; ok {
			in = append(in, shard.Input{Name: fmt.Sprintf("shard-%d.jsonl", i), R: bytes.NewReader(b)})
		}
	}
	return in
}

func jsonOf(t *testing.T, r *report.Report) string {
	var buf bytes.Buffer
	if err := output.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestMergeEqualsOneRun: for N = 1, 3 and 7 the merged report is the one
// report of a single process, byte for byte: images (an image under two
// repositories of different shards is listed once, with its other name),
// summary, gate, fleet summary, policy and warnings (the ignore used in one
// shard only is not reported unused).
func TestMergeEqualsOneRun(t *testing.T) {
	imgs := fleetImages(t)
	// team-0/app:0 is also pushed as a repository of another shard.
	other := ""
	for k := 0; other == ""; k++ {
		name := fmt.Sprintf("reg.example/zz-mirror-%d/app", k) // sorts after team-0: not the name kept
		if shard.Owner(name, 3) != shard.Owner("reg.example/team-0/app", 3) && shard.Owner(name, 7) != shard.Owner("reg.example/team-0/app", 7) {
			other = name
		}
	}
	imgs[0].AlsoKnownAs = []string{other + ":0"}
	one := &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "imgaudit", Version: "test"}, Images: slices.Clone(imgs)}
	one.SortImages()
	evaluate(t, one)
	want := jsonOf(t, one)
	if !strings.Contains(want, "unused-ignore") || !strings.Contains(want, "expired-ignore") || one.Gate.Verdict != report.Incomplete {
		t.Fatalf("the fixture lacks what the test is about:\n%s", want)
	}
	for _, n := range []int{1, 3, 7} {
		got, err := shard.Merge(inputs(shardFiles(t, imgs, n)))
		if err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		if d := cmp.Diff(want, jsonOf(t, got)); d != "" {
			t.Errorf("N=%d: merged report differs from one run (-want +got):\n%s", n, d)
		}
	}
}

// TestMergeIncomplete: a missing, repeated, cut or foreign shard makes the
// merge fail with one line naming it, and no report.
func TestMergeIncomplete(t *testing.T) {
	files := shardFiles(t, fleetImages(t), 3)
	for _, tc := range []struct {
		name   string
		change func(map[int][]byte) map[int][]byte
		want   string
	}{
		{"missing", func(f map[int][]byte) map[int][]byte { delete(f, 1); return f }, "shard 1/3 missing"},
		{"all but one missing", func(f map[int][]byte) map[int][]byte { delete(f, 0); delete(f, 2); return f }, "shards 0/3, 2/3 missing"},
		{"no summary line", func(f map[int][]byte) map[int][]byte {
			lines := bytes.SplitAfter(f[2], []byte("\n"))
			f[2] = bytes.Join(lines[:len(lines)-2], nil)
			return f
		}, "shard 2/3 (shard-2.jsonl): truncated: no summary line"},
		{"cut line", func(f map[int][]byte) map[int][]byte { f[0] = f[0][:len(f[0])-7]; return f }, "shard 0/3 (shard-0.jsonl): line"},
		{"cut at a line end", func(f map[int][]byte) map[int][]byte {
			i := bytes.IndexByte(f[1], '\n')
			f[1] = f[1][:i+1]
			return f
		}, "shard 1/3 (shard-1.jsonl): truncated"},
		{"empty", func(f map[int][]byte) map[int][]byte { f[1] = nil; return f }, "shard-1.jsonl: empty file"},
		{"an image line lost", func(f map[int][]byte) map[int][]byte {
			lines := bytes.SplitAfter(f[0], []byte("\n"))
			f[0] = bytes.Join(append(lines[:1:1], lines[2:]...), nil)
			return f
		}, "image lines, but the summary counts"},
		{"not a shard", func(f map[int][]byte) map[int][]byte {
			f[1] = bytes.SplitAfterN(f[1], []byte("\n"), 2)[1]
			return f
		}, "shard-1.jsonl: the summary line names a shard the first line does not"},
		{"a whole audit among shards", func(f map[int][]byte) map[int][]byte {
			f[1] = unsharded(t, fleetImages(t))
			return f
		}, "shard-1.jsonl is the report of a whole audit (no shard line): it merges only on its own"},
		{"not jsonl", func(f map[int][]byte) map[int][]byte { f[1] = []byte("{\"schemaVersion\":1}\n"); return f }, "shard-1.jsonl: the first line is neither"},
		{"other N", func(f map[int][]byte) map[int][]byte { f[1] = shardFiles(t, fleetImages(t), 4)[1]; return f }, "is one of 4 shards, but"},
		{"other target", func(f map[int][]byte) map[int][]byte {
			f[1] = bytes.ReplaceAll(f[1], []byte(`"target":"registry reg.example"`), []byte(`"target":"registry other.example"`))
			return f
		}, `audited "registry other.example"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := map[int][]byte{}
			for i, b := range files {
				f[i] = slices.Clone(b)
			}
			r, err := shard.Merge(inputs(tc.change(f)))
			if r != nil || !errors.Is(err, shard.ErrIncomplete) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Merge = %v, %v; want no report and one line containing %q", r != nil, err, tc.want)
			}
		})
	}
	in := inputs(files)
	in = append(in, shard.Input{Name: "copy.jsonl", R: bytes.NewReader(files[2])})
	if r, err := shard.Merge(in); r != nil || err == nil || !strings.Contains(err.Error(), "shard 2/3 is given twice: shard-2.jsonl and copy.jsonl") {
		t.Errorf("duplicate: %v, %v", r != nil, err)
	}
}

// TestMergeShardErrors: a shard whose audit failed is merged, and its
// errors come back, one per line.
func TestMergeShardErrors(t *testing.T) {
	files := shardFiles(t, fleetImages(t), 2)
	end := []byte(`"target":"registry reg.example"}}` + "\n")
	i := bytes.LastIndex(files[1], end) // the summary line's shard
	files[1] = append(files[1][:i:i], `"target":"registry reg.example","errors":["reg.example/x: listing tags: unauthorized","reg.example/y: 502"]}}`+"\n"...)
	r, err := shard.Merge(inputs(files))
	if r == nil || err == nil || errors.Is(err, shard.ErrIncomplete) || err.Error() != "reg.example/x: listing tags: unauthorized\nreg.example/y: 502" {
		t.Errorf("Merge = %v, %v", r != nil, err)
	}
}

// unsharded writes the jsonl report of one process auditing imgs.
func unsharded(t *testing.T, imgs []report.Image) []byte {
	r := &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "imgaudit", Version: "test"}, Images: slices.Clone(imgs)}
	r.SortImages()
	evaluate(t, r)
	var buf bytes.Buffer
	if err := output.Write(&buf, output.FormatJSONL, r, output.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMergeWholeAudit: the jsonl report of an unsharded audit merges on
// its own into the same report; cut, it is refused.
func TestMergeWholeAudit(t *testing.T) {
	imgs := fleetImages(t)
	one := &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "imgaudit", Version: "test"}, Images: slices.Clone(imgs)}
	one.SortImages()
	evaluate(t, one)
	b := unsharded(t, imgs)
	got, err := shard.Merge([]shard.Input{{Name: "all.jsonl", R: bytes.NewReader(b)}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(jsonOf(t, one), jsonOf(t, got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	cut := bytes.Join(lines[:len(lines)-2], nil)
	if r, err := shard.Merge([]shard.Input{{Name: "all.jsonl", R: bytes.NewReader(cut)}}); r != nil || err == nil || !strings.Contains(err.Error(), "all.jsonl: truncated: no summary line") {
		t.Errorf("cut whole report: %v, %v", r != nil, err)
	}
}
