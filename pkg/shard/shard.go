// Package shard splits an audit into N independent parts and merges their
// jsonl reports back into the one report a single process would have
// written.
//
// The partition is by repository, so that the tags of a repository (which
// share most of their layers) are audited by one process, and it is
// rendezvous hashing (highest random weight): a repository belongs to the
// shard i in [0, N) whose weight, the first 8 bytes (big-endian) of
// SHA-256(repository + "\x00" + decimal i), is the highest. Each repository
// is placed on its own, whatever else the registry holds, so N processes
// that list the registry at slightly different times still never audit a
// repository twice; and growing N from N to N+1 moves only the
// repositories the new shard wins (about 1/(N+1) of them), so a shard's
// local layer cache stays useful.
package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// IndexEnv is the environment variable a Kubernetes Indexed Job sets to
// the index of the pod's completion; Parse reads it for "/N".
const IndexEnv = "JOB_COMPLETION_INDEX"

// MaxCount bounds N.
const MaxCount = 10000

// Spec is one shard of N: the repositories whose Owner is Index.
type Spec struct {
	Index int
	Count int
}

// String writes the spec as I/N.
func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Parse reads "I/N" (0 ≤ I < N), or "/N", whose index is the value of
// JOB_COMPLETION_INDEX, which getenv returns (an Indexed Job sets it in
// every pod). An explicit I wins over the variable.
func Parse(spec string, getenv func(string) string) (Spec, error) {
	is, ns, ok := strings.Cut(spec, "/")
	if !ok {
		return Spec{}, fmt.Errorf("--shard %q: want I/N (e.g. 0/4), or /N with %s set", spec, IndexEnv)
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 1 || n > MaxCount {
		return Spec{}, fmt.Errorf("--shard %q: N must be a whole number from 1 to %d", spec, MaxCount)
	}
	from := ""
	if is == "" {
		if getenv != nil {
			is = getenv(IndexEnv)
		}
		if is == "" {
			return Spec{}, fmt.Errorf("--shard %q: no index before / and %s is not set", spec, IndexEnv)
		}
		from = " (from " + IndexEnv + ")"
	}
	i, err := strconv.Atoi(is)
	if err != nil || i < 0 || i >= n {
		return Spec{}, fmt.Errorf("--shard %q: index %q%s must be a whole number from 0 to %d", spec, is, from, n-1)
	}
	return Spec{Index: i, Count: n}, nil
}

// Owner returns the shard, in [0, n), that key (a repository) belongs to.
func Owner(key string, n int) int {
	best, owner := uint64(0), 0
	for i := 0; i < n; i++ {
		h := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(i)))
		if w := binary.BigEndian.Uint64(h[:8]); i == 0 || w > best {
			best, owner = w, i
		}
	}
	return owner
}

// Owns reports whether the repository key belongs to this shard. The zero
// Spec (no sharding) owns everything.
func (s Spec) Owns(key string) bool {
	if s.Count <= 1 {
		return true
	}
	return Owner(key, s.Count) == s.Index
}

// Enabled reports whether s names a shard (N was given).
func (s Spec) Enabled() bool { return s.Count > 0 }

// Validate checks a Spec built in code.
func (s Spec) Validate() error {
	if s.Count == 0 && s.Index == 0 {
		return nil
	}
	if s.Count < 1 || s.Count > MaxCount || s.Index < 0 || s.Index >= s.Count {
		return errors.New("shard " + s.String() + ": want 0 ≤ I < N ≤ " + strconv.Itoa(MaxCount))
	}
	return nil
}

// Repository is the partition key of an image reference, as written: the
// reference without its tag, digest and platform ("reg:5000/team/app:1.2"
// and "reg:5000/team/app@sha256:… (linux/arm64)" give "reg:5000/team/app"). A local image (oci:DIR[:TAG],
// oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG]) is keyed by its
// transport and path. Names are not normalised: "alpine" and
// "docker.io/library/alpine" are two keys.
func Repository(ref string) string {
	for _, t := range []string{"oci:", "oci-archive:", "docker-archive:"} {
		if rest, ok := strings.CutPrefix(ref, t); ok {
			path, _, _ := strings.Cut(rest, ":")
			path, _, _ = strings.Cut(path, "@")
			return t + path
		}
	}
	if i := strings.LastIndex(ref, " ("); i > 0 && strings.HasSuffix(ref, ")") {
		ref = ref[:i] // "REF (os/arch)": a platform picked from an index
	}
	ref = strings.TrimPrefix(ref, "docker://")
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}

// Refs keeps the references whose repository this shard owns, in order.
func (s Spec) Refs(refs []string) []string {
	var out []string
	for _, r := range refs {
		if s.Owns(Repository(r)) {
			out = append(out, r)
		}
	}
	return out
}

// ListTarget names a reference list for report.Shard.Target: the SHA-256
// of the references, one per line, as every shard reads them.
func ListTarget(refs []string) string {
	h := sha256.New()
	for _, r := range refs {
		h.Write([]byte(r + "\n"))
	}
	return "list sha256:" + hex.EncodeToString(h.Sum(nil))
}
