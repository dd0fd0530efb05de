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
	baseExt   map[string][]string // ".json" -> [".deps.json"] from "**/*.deps.json": a suffix with a dot, by its extension
	baseSuf   []string            // "release" from "**/*release": a suffix without a dot
	basePre   []string            // "python" from "**/python*"
	baseGlobs []glob              // "libpython*.so*" from "**/libpython*.so*"
	dirGlobs  map[string][]string // "/var/lib/dpkg/info" -> ["*.list"]
	byBase    map[string][]string // globs with a literal last element, by it
	globs     []glob              // anything else
	// goExec is set by CaptureGoExecutables: Go executables are kept
	// wherever they are, as their heads show (see goExecutable).
	goExec bool
}

// glob is a pattern with the literal text every match starts and ends
// with: two cheap tests rule out nearly every path before a glob match.
type glob struct {
	pat, pre, suf string
}

func newGlob(pat string) glob {
	pre, suf := GlobAffixes(pat)
	return glob{pat: pat, pre: pre, suf: suf}
}

// GlobAffixes returns the literal text before the first and after the last
// glob syntax of pat (path.Match or doublestar syntax: "*", "?", "[...]",
// "{...}", escapes): every string pat matches starts with prefix and ends
// with suffix, so two cheap tests rule out most candidates before a match.
func GlobAffixes(pat string) (prefix, suffix string) {
	if i := strings.IndexAny(pat, `*?[{\`); i >= 0 {
		prefix = pat[:i]
	} else {
		return pat, ""
	}
	if i := strings.LastIndexAny(pat, `*?[]{}\`); i >= 0 {
		suffix = pat[i+1:]
	}
	return prefix, suffix
}

// may reports whether s starts and ends as every match of g does.
func (g glob) may(s string) bool {
	return len(s) >= len(g.pre)+len(g.suf) && strings.HasPrefix(s, g.pre) && strings.HasSuffix(s, g.suf)
}

const globMeta = `*?[\`

func newMatcher(patterns []string) *matcher {
	m := &matcher{exact: map[string]bool{}, baseExact: map[string]bool{}, baseExt: map[string][]string{}, dirGlobs: map[string][]string{}, byBase: map[string][]string{}}
	for _, p := range patterns {
		switch {
		case p == CaptureGoExecutables:
			m.goExec = true
		case strings.HasSuffix(p, "/**") && !strings.ContainsAny(strings.TrimSuffix(p, "/**"), globMeta):
			m.prefixes = append(m.prefixes, strings.TrimSuffix(p, "**"))
		case strings.HasPrefix(p, "**/"):
			base := p[3:]
			switch {
			case !strings.ContainsAny(base, globMeta):
				m.baseExact[base] = true
			case base[0] == '*' && !strings.ContainsAny(base[1:], globMeta):
				// "*" matches any run of a name's characters: a suffix.
				if suf := base[1:]; strings.Contains(suf, ".") {
					m.baseExt[path.Ext(suf)] = append(m.baseExt[path.Ext(suf)], suf)
				} else {
					m.baseSuf = append(m.baseSuf, suf)
				}
			case base[len(base)-1] == '*' && !strings.ContainsAny(base[:len(base)-1], globMeta):
				m.basePre = append(m.basePre, base[:len(base)-1])
			default:
				m.baseGlobs = append(m.baseGlobs, newGlob(base))
			}
		case !strings.ContainsAny(p, globMeta):
			m.exact[p] = true
		default:
			dir, base := path.Split(p)
			if dir != "/" {
				dir = strings.TrimSuffix(dir, "/") // not Clean: "/../*" must stay unmatched, as for Match
			}
			switch {
			case !strings.ContainsAny(dir, globMeta) && !strings.Contains(p, "**"):
				m.dirGlobs[dir] = append(m.dirGlobs[dir], base)
			case !strings.ContainsAny(base, globMeta):
				m.byBase[base] = append(m.byBase[base], p)
			default:
				m.globs = append(m.globs, newGlob(p))
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
	// A name ending with a suffix that holds a dot has that suffix's
	// extension.
	for _, suf := range m.baseExt[path.Ext(base)] {
		if strings.HasSuffix(base, suf) {
			return true
		}
	}
	for _, suf := range m.baseSuf {
		if strings.HasSuffix(base, suf) {
			return true
		}
	}
	for _, pre := range m.basePre {
		if strings.HasPrefix(base, pre) {
			return true
		}
	}
	for _, g := range m.baseGlobs {
		if !g.may(base) {
			continue
		}
		if ok, _ := path.Match(g.pat, base); ok {
			return true
		}
	}
	if dir != "/" {
		dir = dir[:len(dir)-1] // p is clean: dir is its parent and a slash
	}
	if gs := m.dirGlobs[dir]; gs != nil {
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
		if g.may(p) && Match(g.pat, p) {
			return true
		}
	}
	return false
}
