package layers

import (
	"path"
	"strings"
)

// matcher is a compiled set of capture patterns (see [Match]): most
// patterns become map lookups, so asking about every entry of a layer costs
// a few hash lookups rather than a glob match per pattern.
type matcher struct {
	exact     map[string]bool     // "/etc/passwd"
	prefixes  []string            // "/dir/" from "/dir/**"
	baseExact map[string]bool     // ".npmrc" from "**/.npmrc"
	baseGlobs []string            // "id_*" from "**/id_*"
	dirGlobs  map[string][]string // "/var/lib/dpkg/info" -> ["*.list"]
	byBase    map[string][]string // globs with a literal last element, by it
	globs     []string            // anything else
}

const globMeta = `*?[\`

func newMatcher(patterns []string) *matcher {
	m := &matcher{exact: map[string]bool{}, baseExact: map[string]bool{}, dirGlobs: map[string][]string{}, byBase: map[string][]string{}}
	for _, p := range patterns {
		switch {
		case strings.HasSuffix(p, "/**") && !strings.ContainsAny(strings.TrimSuffix(p, "/**"), globMeta):
			m.prefixes = append(m.prefixes, strings.TrimSuffix(p, "**"))
		case strings.HasPrefix(p, "**/"):
			base := p[3:]
			if strings.ContainsAny(base, globMeta) {
				m.baseGlobs = append(m.baseGlobs, base)
			} else {
				m.baseExact[base] = true
			}
		case !strings.ContainsAny(p, globMeta):
			m.exact[p] = true
		default:
			dir, base := path.Split(p)
			dir = path.Clean(dir)
			switch {
			case !strings.ContainsAny(dir, globMeta) && !strings.Contains(p, "**"):
				m.dirGlobs[dir] = append(m.dirGlobs[dir], base)
			case !strings.ContainsAny(base, globMeta):
				m.byBase[base] = append(m.byBase[base], p)
			default:
				m.globs = append(m.globs, p)
			}
		}
	}
	return m
}

func (m *matcher) match(p string) bool {
	if m.exact[p] {
		return true
	}
	dir, base := path.Split(p)
	if m.baseExact[base] {
		return true
	}
	for _, g := range m.baseGlobs {
		if ok, _ := path.Match(g, base); ok {
			return true
		}
	}
	if gs := m.dirGlobs[path.Clean(dir)]; gs != nil {
		for _, g := range gs {
			if ok, _ := path.Match(g, base); ok {
				return true
			}
		}
	}
	for _, pre := range m.prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	for _, g := range m.byBase[base] {
		if Match(g, p) {
			return true
		}
	}
	for _, g := range m.globs {
		if Match(g, p) {
			return true
		}
	}
	return false
}
