package fetch

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// SelectTags returns the tags (as listed by [Tags]) that match glob
// (path.Match syntax; "" matches all; a malformed glob matches none), newest
// first: semantic versions ("1.2", "v1.2.3", "1.2.3-rc1", a pre-release
// below its release) before other tags, higher versions first, then by
// name. newest > 0 keeps only the first newest.
func SelectTags(tags []string, glob string, newest int) []string {
	var out []string
	for _, t := range tags {
		if glob != "" {
			if ok, _ := path.Match(glob, t); !ok {
				continue
			}
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return newer(out[i], out[j]) })
	if newest > 0 && len(out) > newest {
		out = out[:newest]
	}
	return out
}

// newer orders tags newest first: semantic versions (a leading "v"
// optional) before other tags, higher versions first, then by name.
func newer(a, b string) bool {
	va, oka := semver(a)
	vb, okb := semver(b)
	switch {
	case oka && okb:
		for i := range va {
			if va[i] != vb[i] {
				return va[i] > vb[i]
			}
		}
		return a < b
	case oka != okb:
		return oka
	}
	return a < b
}

// semver parses "v1.2.3", "1.2", "1.2.3-rc1" (pre-releases sort below the
// release) into comparable numbers.
func semver(s string) ([4]int, bool) {
	var v [4]int
	s = strings.TrimPrefix(s, "v")
	core, pre, hasPre := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) < 1 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	v[3] = 1
	if hasPre && pre != "" {
		v[3] = 0
	}
	return v, true
}

// IsVersionTag reports whether SelectTags orders tag as a semantic
// version ("1.2", "v1.2.3", "1.2.3-rc1"), before the other tags.
func IsVersionTag(tag string) bool {
	_, ok := semver(tag)
	return ok
}
