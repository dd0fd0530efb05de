package cli_test

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/pkg/shard"
)

// pushShardFleet pushes a fleet over one shared base: 8 repositories of 3
// tags (a shell in every third image), one image also pushed under a
// repository that sorts first and that no shard of 3 or 7 shares with it,
// and a two-platform index. It returns the references, one per pushed tag.
func pushShardFleet(t *testing.T, host string, opts ...remote.Option) []string {
	t.Helper()
	base, err := it.Layer(it.Dir("usr", 0o755), it.Dir("usr/lib", 0o755), it.Text("usr/lib/os-release", "ID=fleet\n"), it.Text("etc/passwd", "root:x:0:0::/root:/bin/false\n"))
	if err != nil {
		t.Fatal(err)
	}
	shell, err := it.Layer(it.Dir("bin", 0o755), it.File("bin/sh", 0o755, it.ELF("", 16)))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	push := func(repo, tag string, img v1.Image) {
		ref, err := name.ParseReference(host+"/"+repo+":"+tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, opts...); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref.String())
	}
	var first v1.Image
	for r := 0; r < 8; r++ {
		for tag := 0; tag < 3; tag++ {
			top, err := it.Layer(it.Text(fmt.Sprintf("app/svc-%d/v%d", r, tag), "x"))
			if err != nil {
				t.Fatal(err)
			}
			ls := []v1.Layer{base, top}
			if (r+tag)%3 == 0 {
				ls = append(ls, shell)
			}
			img, err := mutate.AppendLayers(empty.Image, ls...)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = img
			}
			push(fmt.Sprintf("fleet/svc-%d", r), fmt.Sprintf("v1.%d.0", tag), img)
		}
	}
	owner := shard.Repository(host + "/fleet/svc-0")
	for k := 0; ; k++ {
		mirror := fmt.Sprintf("fleet/a-mirror-%d", k)
		if o := host + "/" + mirror; shard.Owner(o, 3) != shard.Owner(owner, 3) && shard.Owner(o, 7) != shard.Owner(owner, 7) {
			push(mirror, "v1.0.0", first)
			break
		}
	}
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		top, _ := it.Layer(it.Text("multi-"+arch, arch))
		img, _ := mutate.AppendLayers(empty.Image, base, shell, top)
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, _ = mutate.ConfigFile(img, cf)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	ref, _ := name.ParseReference(host+"/fleet/multi:1", name.Insecure)
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		t.Fatal(err)
	}
	return append(refs, ref.String())
}

// shardPolicy ignores the shell of one repository only (so all but one
// shard have the ignore unused), has an expired ignore and an unused one.
func shardPolicy(t *testing.T, host string) string {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	err := os.WriteFile(p, []byte(`version: 1
ignore:
  - check: IA-SHELL
    image: `+host+`/fleet/svc-1
    reason: only in svc-1
  - category: secret
    reason: old
    expires: 2001-01-01
  - check: IA-SETUID
    image: `+host+`/nowhere/*
    reason: matches nothing
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mergeFormats are the reports compared: the format on standard output,
// then one -o file each.
var mergeFormats = []string{"table", "json", "sarif", "markdown", "html", "jsonl"}

// reports runs args with -o FORMAT=DIR/report.FORMAT for every format and
// returns the exit code, standard error and each file's bytes.
func reports(t *testing.T, env map[string]string, dir string, args ...string) (int, string, map[string]string) {
	t.Helper()
	for _, f := range mergeFormats {
		args = append(args, "-o", f+"="+filepath.Join(dir, "report."+f))
	}
	r := run(t, env, "", args...)
	out := map[string]string{"stdout": r.stdout}
	for _, f := range mergeFormats {
		b, _ := os.ReadFile(filepath.Join(dir, "report."+f))
		out[f] = string(b)
	}
	return r.code, r.stderr, out
}

// runShards runs the n shards of audit (the command line before its
// target, --shard and output flags), each writing dir/shard-I.jsonl: even
// shards stream jsonl on standard output, odd ones write -o jsonl=FILE;
// shards of 7 take their index from JOB_COMPLETION_INDEX.
func runShards(t *testing.T, env map[string]string, dir string, n int, audit []string) {
	t.Helper()
	for i := 0; i < n; i++ {
		file := filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", i))
		e := map[string]string{shard.IndexEnv: fmt.Sprint(i)}
		for k, v := range env {
			e[k] = v
		}
		spec := fmt.Sprintf("%d/%d", i, n)
		if n == 7 {
			spec = fmt.Sprintf("/%d", n)
		}
		args := append(append([]string(nil), audit...), "--shard", spec)
		if i%2 == 0 {
			r := run(t, e, "", append(args, "-f", "jsonl")...)
			if r.code == 2 {
				t.Fatalf("shard %s: exit 2: %s", spec, r.stderr)
			}
			if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if r := run(t, e, "", append(args, "-q", "-o", "jsonl="+file)...); r.code == 2 {
			t.Fatalf("shard %s: exit 2: %s", spec, r.stderr)
		}
	}
}

// checkShardMerge audits with audit+target once, then as N = 1, 3 and 7
// shards merged: every report format, the warnings and the exit code are
// the same. It returns the directory of the 3 shards.
func checkShardMerge(t *testing.T, env map[string]string, audit []string, target string, ns ...int) string {
	t.Helper()
	if target != "" {
		audit = append(append([]string(nil), audit...), target)
	}
	wantCode, wantErr, want := reports(t, env, t.TempDir(), audit...)
	if wantCode == 2 {
		t.Fatalf("unsharded audit: exit 2: %s", wantErr)
	}
	if !strings.Contains(want["json"], "expired-ignore") || !strings.Contains(want["json"], "unused-ignore") || !strings.Contains(want["json"], `"suppressed": {`) {
		t.Fatalf("the fleet lacks what the test is about:\n%s", want["json"])
	}
	var three string
	for _, n := range ns {
		dir := t.TempDir()
		runShards(t, env, dir, n, audit)
		if n == 3 {
			three = dir
		}
		code, stderr, got := reports(t, env, t.TempDir(), "merge", dir)
		if code != wantCode || stderr != wantErr {
			t.Errorf("N=%d: merge exit %d, stderr %q; one run: exit %d, stderr %q", n, code, stderr, wantCode, wantErr)
		}
		for _, f := range append([]string{"stdout"}, mergeFormats...) {
			if got[f] != want[f] {
				t.Errorf("N=%d: merged %s differs from one run's: %s", n, f, firstDiff(want[f], got[f]))
			}
		}
	}
	return three
}

// TestShardMerge: a registry audited as N = 1, 3 and 7 shards, merged,
// gives the report of one audit, in every format (in-process registry);
// so does a --from-file list; and a merge missing a shard, with a
// truncated shard or a shard twice fails with one line and no report.
func TestShardMerge(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	refs := pushShardFleet(t, host)
	env := map[string]string{"IMGAUDIT_CACHE_DIR": t.TempDir()}
	common := []string{"--insecure", "--retries", "0", "--policy", shardPolicy(t, host)}
	three := checkShardMerge(t, env, append([]string{"registry"}, common...), host, 1, 3, 7)

	// In repository order: an image named from two repositories of
	// different shards is merged under the first repository's name, which
	// one process keeps when the list names it first.
	slices.Sort(refs)
	list := filepath.Join(t.TempDir(), "images.txt")
	if err := os.WriteFile(list, []byte(strings.Join(refs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkShardMerge(t, env, append([]string{"scan", "--from-file", list}, common...), "", 3)

	checkMergeIncomplete(t, three)
}

// TestShardMergeRealRegistry: the same against the real distribution
// registry, with N = 3.
func TestShardMergeRealRegistry(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	pushShardFleet(t, reg.Host, reg.RemoteOptions()...)
	env := map[string]string{"IMGAUDIT_CACHE_DIR": t.TempDir()}
	// The shards share a registry cache in the same registry, as the
	// Indexed Job example does: the audit skips its repository, and the
	// merged report is still the one process's.
	audit := []string{"registry", "--insecure", "--retries", "0", "--policy", shardPolicy(t, reg.Host), "--cache-repo", reg.Host + "/imgaudit-cache"}
	checkShardMerge(t, env, audit, reg.Host, 1, 3, 7)
}

// checkMergeIncomplete breaks the 3 shards in dir one way at a time: the
// merge exits 2 with one line naming the shard, and writes no report.
func checkMergeIncomplete(t *testing.T, dir string) {
	t.Helper()
	read := func(i int) []byte {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", i)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"missing", map[string][]byte{"shard-0.jsonl": read(0), "shard-2.jsonl": read(2)}, "merge incomplete: shard 1/3 missing"},
		{"truncated", map[string][]byte{"shard-0.jsonl": read(0), "shard-1.jsonl": read(1)[:len(read(1))/2], "shard-2.jsonl": read(2)},
			"shard 1/3 (" + "%DIR%/shard-1.jsonl): "},
		{"duplicate", map[string][]byte{"shard-0.jsonl": read(0), "shard-1.jsonl": read(1), "shard-2.jsonl": read(2), "x.jsonl": read(2)},
			"shard 2/3 is given twice: %DIR%/shard-2.jsonl and %DIR%/x.jsonl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			for f, b := range tc.files {
				if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "fleet.json")
			r := run(t, nil, "", "merge", d, "-o", "json="+out)
			want := strings.ReplaceAll(tc.want, "%DIR%", d)
			if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || r.stdout != "" {
				t.Errorf("merge: exit %d, stdout %d bytes, stderr %q; want exit 2 and one line containing %q", r.code, len(r.stdout), r.stderr, want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an incomplete merge wrote a report")
			}
		})
	}
	if r := run(t, nil, "", "merge", filepath.Join(dir, "shard-0.jsonl")); r.code != 2 || !strings.Contains(r.stderr, "shards 1/3, 2/3 missing") {
		t.Errorf("one shard of 3: exit %d, %q", r.code, r.stderr)
	}
}

// firstDiff shows the first line where two reports differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  one run: %.300s\n  merged:  %.300s", i+1, a, b)
		}
	}
	return "same lines"
}
