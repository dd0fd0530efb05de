package shard_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/pkg/shard"
)

func TestParse(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == shard.IndexEnv {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		spec, env string
		want      shard.Spec
	}{
		{"0/1", "", shard.Spec{Index: 0, Count: 1}},
		{"2/3", "", shard.Spec{Index: 2, Count: 3}},
		{"/7", "6", shard.Spec{Index: 6, Count: 7}},
		{"1/4", "3", shard.Spec{Index: 1, Count: 4}}, // an explicit index wins
	} {
		got, err := shard.Parse(tc.spec, env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q, %s=%q) = %v, %v; want %v", tc.spec, shard.IndexEnv, tc.env, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ spec, env, want string }{
		{"3/3", "", "from 0 to 2"},
		{"-1/3", "", "from 0 to 2"},
		{"1/0", "", "from 1 to"},
		{"1", "", "want I/N"},
		{"/3", "", shard.IndexEnv + " is not set"},
		{"/3", "3", "(from " + shard.IndexEnv + ") must be"},
		{"/3", "x", "index \"x\""},
		{"a/b", "", "N must be"},
		{"0/100000", "", "N must be"},
	} {
		if _, err := shard.Parse(tc.spec, env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q, %q) error %v, want one containing %q", tc.spec, tc.env, err, tc.want)
		}
	}
}

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		"reg:5000/team/app:1.2":                  "reg:5000/team/app",
		"reg:5000/team/app":                      "reg:5000/team/app",
		"reg:5000/team/app@sha256:abcd":          "reg:5000/team/app",
		"reg:5000/team/app:1@sha256:abcd":        "reg:5000/team/app",
		"reg:5000/team/app:1.2 (linux/arm64/v8)": "reg:5000/team/app",
		"docker://reg/app:1":                     "reg/app",
		"alpine":                                 "alpine",
		"oci:./layouts/app:v1":                   "oci:./layouts/app",
		"oci:layout":                             "oci:layout",
		"oci-archive:/tmp/app.tar:v2":            "oci-archive:/tmp/app.tar",
		"docker-archive:/tmp/a.tar:team/app:1":   "docker-archive:/tmp/a.tar",
		"oci:/srv/app@sha256:abcd":               "oci:/srv/app",
	} {
		if got := shard.Repository(in); got != want {
			t.Errorf("Repository(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOwner: the partition is a pure function of the repository and N
// (pinned values: changing the hash moves repositories between the shards
// of audits already running), balanced, and growing N moves only what the
// new shard takes.
func TestOwner(t *testing.T) {
	if got := shard.Owner("reg.example/team/app", 1); got != 0 {
		t.Errorf("Owner(_, 1) = %d", got)
	}
	pinned := map[string][2]int{} // key -> {Owner(key, 4), Owner(key, 7)}
	for _, k := range []string{"a", "reg:5000/team/app", "registry.example.com/library/debian"} {
		pinned[k] = [2]int{shard.Owner(k, 4), shard.Owner(k, 7)}
	}
	// The documented function, computed independently (Python's hashlib):
	// max over i of int.from_bytes(sha256(key + "\0" + str(i))[:8], "big").
	want := map[string][2]int{"a": {3, 3}, "reg:5000/team/app": {3, 4}, "registry.example.com/library/debian": {2, 6}}
	for k, w := range want {
		if pinned[k] != w {
			t.Errorf("Owner(%q, 4 and 7) = %v, want %v: the partition function changed", k, pinned[k], w)
		}
	}

	const keys = 7000
	for _, n := range []int{2, 3, 7} {
		count := make([]int, n)
		for i := 0; i < keys; i++ {
			count[shard.Owner(fmt.Sprintf("reg.example/team-%d/app", i), n)]++
		}
		for s, c := range count {
			if exp := keys / n; c < exp*9/10 || c > exp*11/10 {
				t.Errorf("N=%d: shard %d owns %d of %d repositories, want %d ± 10%%", n, s, c, keys, exp)
			}
		}
	}
	moved := 0
	for i := 0; i < keys; i++ {
		k := fmt.Sprintf("reg.example/team-%d/app", i)
		a, b := shard.Owner(k, 7), shard.Owner(k, 8)
		if a != b {
			moved++
			if b != 7 {
				t.Fatalf("%s moved from shard %d to %d when N grew from 7 to 8", k, a, b)
			}
		}
	}
	if moved < keys/8*8/10 || moved > keys/8*12/10 {
		t.Errorf("%d of %d repositories moved from 7 to 8 shards, want about %d", moved, keys, keys/8)
	}
}

// TestRefs: the shards of a list are disjoint, cover it, keep its order,
// and keep a repository's references together.
func TestRefs(t *testing.T) {
	var refs []string
	for i := 0; i < 40; i++ {
		for _, tag := range []string{"1", "2", "latest"} {
			refs = append(refs, fmt.Sprintf("reg.example/r%d:%s", i, tag))
		}
	}
	for _, n := range []int{1, 3, 7} {
		seen := map[string]int{}
		var total int
		for i := 0; i < n; i++ {
			part := shard.Spec{Index: i, Count: n}.Refs(refs)
			total += len(part)
			for _, r := range part {
				if prev, ok := seen[shard.Repository(r)]; ok && prev != i {
					t.Errorf("N=%d: %s in shards %d and %d", n, shard.Repository(r), prev, i)
				}
				seen[shard.Repository(r)] = i
			}
		}
		if total != len(refs) {
			t.Errorf("N=%d: shards hold %d references, want %d", n, total, len(refs))
		}
	}
	if got := (shard.Spec{}).Refs(refs); len(got) != len(refs) {
		t.Errorf("the zero Spec keeps %d of %d", len(got), len(refs))
	}
}
