package checks

import (
	"context"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// toolSet is the list of command names of one tool category.
//
// A name matches when it is listed, or when it is a listed name followed by a
// version ("pip3.11", "gcc-12", "ping6", "dnf-3"), or when it starts with a
// listed prefix ("dpkg-query"). With triplets, a GNU target triplet may come
// first ("x86_64-linux-gnu-gcc-12").
type toolSet struct {
	names    map[string]bool
	list     []string // documented form, sorted
	prefixes []string
	triplets bool
}

func newToolSet(names []string, prefixes []string, triplets bool) *toolSet {
	s := &toolSet{names: map[string]bool{}, prefixes: prefixes, triplets: triplets}
	for _, n := range names {
		s.names[n] = true
		s.list = append(s.list, n)
	}
	for _, p := range prefixes {
		s.list = append(s.list, p+"*")
	}
	slices.Sort(s.list)
	return s
}

var tripletPart = regexp.MustCompile(`^[a-z0-9_]+(-[a-z0-9_]+)*$`)

// stripVersion removes a trailing version, digits separated by single dots
// and optionally introduced by "-", that follows a letter or "+":
// "pip3.11" -> "pip", "g++-12" -> "g++", "python3-config" unchanged.
func stripVersion(name string) string {
	j := len(name)
	for j > 0 && (isDigit(name[j-1]) || name[j-1] == '.') {
		j--
	}
	v := name[j:]
	if v == "" || !isDigit(v[0]) || !isDigit(v[len(v)-1]) || strings.Contains(v, "..") {
		return name
	}
	if j > 0 && name[j-1] == '-' {
		j--
	}
	if j == 0 {
		return name
	}
	if c := name[j-1]; c == '+' || (c|0x20 >= 'a' && c|0x20 <= 'z') {
		return name[:j]
	}
	return name
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// match reports whether the command name belongs to the set.
func (s *toolSet) match(name string) bool {
	if s.matchPlain(name) {
		return true
	}
	if s.triplets {
		// A GNU triplet has three or four parts: x86_64-linux-gnu, x86_64-pc-linux-gnu.
		parts := strings.Split(name, "-")
		for n := 3; n <= 4 && n < len(parts); n++ {
			if tripletPart.MatchString(strings.Join(parts[:n], "-")) && s.matchPlain(strings.Join(parts[n:], "-")) {
				return true
			}
		}
	}
	return false
}

func (s *toolSet) matchPlain(name string) bool {
	if s.names[name] || s.names[stripVersion(name)] {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// toolCheck finds the executables of one category reachable from PATH: one
// finding per real file.
type toolCheck struct {
	meta  Meta
	tools *toolSet
	// busybox counts a busybox multi-call binary as part of the category
	// whatever name reaches it (it runs any applet named by argv[0]).
	busybox bool
}

var _ Check = (*toolCheck)(nil)

func (c *toolCheck) Meta() Meta {
	m := c.meta
	m.Names = c.tools.list
	m.Needs = packageNeeds() // the remediation names the package owning the tool
	return m
}

func (c *toolCheck) Run(ctx context.Context, img *Image) ([]Finding, error) {
	return toolFindings(img, c.tools, c.busybox, c.meta.Remediation), nil
}

// toolGroup is one real file reached from PATH by names of a category.
type toolGroup struct {
	file    *layers.Node // canonical node
	names   []string     // matched command names, sorted, unique
	aliases []string     // PATH entries with those names, other than file
}

// toolGroups groups the PATH entries whose names are in tools by the real
// file they reach, in PATH order. With busybox, a busybox binary belongs to
// the set whatever name reaches it.
func toolGroups(img *Image, tools *toolSet, busybox bool) []toolGroup {
	var order []*toolGroup
	byFile := map[*layers.Node]*toolGroup{}
	for _, t := range toolsOf(img).refs {
		if isStub(img, t) {
			continue
		}
		named := tools.match(t.name)
		if !named && !(busybox && isBusybox(img, t.file)) {
			continue
		}
		g := byFile[t.file]
		if g == nil {
			g = &toolGroup{file: t.file}
			byFile[t.file] = g
			order = append(order, g)
		}
		if named {
			g.names = append(g.names, t.name)
			g.aliases = append(g.aliases, t.paths()...)
		}
	}
	out := make([]toolGroup, len(order))
	for i, g := range order {
		if len(g.names) == 0 {
			g.names = []string{"busybox"}
		}
		slices.Sort(g.names)
		g.names = slices.Compact(g.names)
		g.aliases = cleanAliases(g.aliases, g.file.Path)
		out[i] = *g
	}
	return out
}

// toolFindings reports each real file of toolGroups once.
func toolFindings(img *Image, tools *toolSet, busybox bool, remediation string) []Finding {
	var out []Finding
	for _, g := range toolGroups(img, tools, busybox) {
		out = append(out, Finding{
			Path:        g.file.Path,
			Aliases:     g.aliases,
			Name:        strings.Join(g.names, ","),
			Layer:       layerRef(img, g.file.Layer),
			Remediation: toolRemediation(img, g.file, g.names, remediation),
		})
	}
	return out
}

// maxStubSize bounds the size of a stub program: nologin, true and false
// are 15-40 KB on amd64 and under 80 KB on arm64 (64 KiB page alignment),
// while the smallest common shell, dash, is about 125 KB. A shell renamed
// nologin is therefore still a shell.
const maxStubSize = 96 << 10

// isStubName reports whether name is a program that does nothing but exit
// with a fixed status.
func isStubName(name string) bool {
	switch name {
	case "nologin", "false", "true":
		return true
	}
	return false
}

// isStub reports whether the PATH entry t runs a stub instead of the tool
// its name says: it resolves, through symlinks, to an ELF executable named
// nologin, false or true (or is a hardlink written as one to such a file),
// not larger than maxStubSize, and not a busybox binary. `ln -sf
// /usr/sbin/nologin /bin/sh`, a common last hardening step, gives an
// attacker nothing. A busybox applet link is never a stub: busybox runs the
// applet argv[0] names, so /bin/sh -> /bin/true -> busybox is a shell.
func isStub(img *Image, t toolRef) bool {
	n := t.target
	if n == nil || n.Type != layers.TypeRegular || n.Content.Kind != layers.ContentELF || n.Size > maxStubSize {
		return false
	}
	if !isStubName(path.Base(n.Path)) && (n.HardlinkOf() == "" || !isStubName(path.Base(n.HardlinkOf()))) {
		return false
	}
	return !isBusybox(img, t.file)
}

// toolRemediation prefixes the check's remediation with the command removing
// the package that owns the file, when the package database says which.
func toolRemediation(img *Image, file *layers.Node, names []string, generic string) string {
	if isBusybox(img, file) {
		return "Remove busybox and its applet links (" + strings.Join(names, ", ") + ") from the final image; an applet link cannot be removed alone, since the busybox binary runs whichever applet argv[0] names. " + generic
	}
	if p := ownerOf(img, file); p != nil {
		if p.Essential {
			return "Package " + p.Name + " ships it and the distribution marks it essential: removing it breaks the package system, " +
				"so build the final stage on a distroless or minimal base instead. " + generic
		}
		if cmd := p.removeCommand(); cmd != "" {
			return "Remove package " + p.Name + " (`" + cmd + "`) in the step that installed it, or copy the application into a smaller final stage. " + generic
		}
	}
	return generic
}
