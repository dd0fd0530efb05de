// Package diff compares two audits of an image (report × report → diff):
// which findings a new version added, which it removed and which it kept,
// and which facts that are not findings changed. It is pure: it reads the
// two report.Image values it is handed and nothing else.
//
// # Identity
//
// A finding is the same on both sides when its check ID is the same and
//
//   - for a finding about a file: its path, or one of its aliases (the
//     other paths that reach the same file), is the other finding's path or
//     one of its aliases; so a file reached through a new symlink, or moved
//     while an old name still reaches it, is unchanged;
//   - for a finding about the config (no path): its Name (the ENV variable,
//     the tool) is the same.
//
// Digests, layer indexes and created_by never count: a rebuild with new
// digests and shifted layers adds nothing, and a file moved from one layer
// to another is unchanged. Severity, title and detail do not count either
// (a check whose wording changed still matches).
//
// # Suppressed findings
//
// Suppression is a policy's decision, not a fact about the image, so it
// does not take part in the identity: a finding is added, removed or
// unchanged whether or not an ignore matches it on either side. The added
// and removed findings keep their Suppressed field, and the policy applied
// to the run marks them as it marks the image's findings (policy.Apply), so
// a suppressed added finding is listed but never fails --fail-on-new.
package diff

import (
	"cmp"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// Compare classifies every finding of old and new and lists the facts
// that changed. The result names old by its reference and digest.
func Compare(old, new report.Image) report.Diff {
	d := report.Diff{Baseline: old.Reference, BaselineDigest: old.Digest}
	matchedOld := match(old.Findings, new.Findings)
	d.Added = []report.Finding{}
	d.Removed = []report.Finding{}
	for j, f := range new.Findings {
		if matchedOld[j] < 0 {
			d.Added = append(d.Added, f)
		} else {
			d.Unchanged++
		}
	}
	used := make([]bool, len(old.Findings))
	for _, i := range matchedOld {
		if i >= 0 {
			used[i] = true
		}
	}
	for i, f := range old.Findings {
		if !used[i] {
			d.Removed = append(d.Removed, f)
		}
	}
	facts(&d, old, new)
	return d
}

// match returns, for each new finding, the index of the old finding it is
// the same as, or -1. Each old finding matches at most one new one; exact
// keys (check ID + path, check ID + name) are matched first, aliases
// second.
func match(old, new []report.Finding) []int {
	byKey := map[string][]int{}
	for i, f := range old {
		byKey[key(f, f.Path)] = append(byKey[key(f, f.Path)], i)
	}
	out := make([]int, len(new))
	used := make([]bool, len(old))
	take := func(k string) int {
		for _, i := range byKey[k] {
			if !used[i] {
				used[i] = true
				return i
			}
		}
		return -1
	}
	for j, f := range new {
		out[j] = take(key(f, f.Path))
	}
	// Second pass: any name of the new finding against any name of an
	// unmatched old one.
	byAlias := map[string][]int{}
	for i, f := range old {
		if used[i] || f.Path == "" {
			continue
		}
		for _, p := range names(f) {
			byAlias[key(f, p)] = append(byAlias[key(f, p)], i)
		}
	}
	for j, f := range new {
		if out[j] >= 0 || f.Path == "" {
			continue
		}
		out[j] = -1
	search:
		for _, p := range names(f) {
			for _, i := range byAlias[key(f, p)] {
				if !used[i] {
					used[i] = true
					out[j] = i
					break search
				}
			}
		}
	}
	return out
}

// key is a finding's identity under one of its paths; a config finding's
// is its name.
func key(f report.Finding, path string) string {
	if f.Path == "" {
		return f.ID + "\x00name\x00" + f.Name
	}
	return f.ID + "\x00path\x00" + path
}

// names are a file finding's path and aliases.
func names(f report.Finding) []string {
	return append([]string{f.Path}, f.Aliases...)
}

// facts records the changes that are not findings.
func facts(d *report.Diff, old, new report.Image) {
	if u, v := userString(old.User), userString(new.User); u != v {
		d.User = &report.Change{Old: u, New: v}
	}
	if u, v := baseString(old.Base), baseString(new.Base); u != v {
		d.Base = &report.Change{Old: u, New: v}
	}
	if old.SBOM != nil && new.SBOM != nil && old.SBOM.Packages != new.SBOM.Packages {
		d.Packages = &report.CountChange{Old: int64(old.SBOM.Packages), New: int64(new.SBOM.Packages)}
	}
	if a, b := old.Stats.UncompressedBytes, new.Stats.UncompressedBytes; a != b {
		d.Size = &report.CountChange{Old: a, New: b}
	}
	d.LayersAdded = onlyIn(new.Layers, old.Layers)
	d.LayersRemoved = onlyIn(old.Layers, new.Layers)
}

// onlyIn returns the layers of a whose diffID b lacks, in a's order.
func onlyIn(a, b []report.Layer) []report.Layer {
	have := map[string]int{}
	for _, l := range b {
		have[l.DiffID]++
	}
	var out []report.Layer
	for _, l := range a {
		if have[l.DiffID] > 0 {
			have[l.DiffID]--
			continue
		}
		out = append(out, l)
	}
	return out
}

// userString describes the user a container runs as: the configured
// value, and root when it is, or may be, uid 0.
func userString(u report.User) string {
	s := u.Configured
	if s == "" {
		s = "(unset)"
	}
	if u.Root {
		s += " (root)"
	}
	return s
}

// baseString describes a base: its kind, distribution and, when the
// manifest names it, the base image with its digest (short), so that a
// base rebuilt under the same name (a new
// org.opencontainers.image.base.digest) reads as a changed base.
func baseString(b report.Base) string {
	s := b.Kind
	if b.OSRelease != nil {
		s += " " + cmp.Or(b.OSRelease.PrettyName, b.OSRelease.ID+" "+b.OSRelease.VersionID)
	}
	name := b.Name
	if b.Digest != "" && !strings.Contains(name, "@") {
		name += "@" + shortDigest(b.Digest)
	}
	if name != "" {
		s += " (" + name + ")"
	}
	return s
}

// shortDigest is "sha256:" and the first 12 hex digits of a digest: enough
// to tell two builds apart in a sentence (the full digests are in the
// images' base fields).
func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}
