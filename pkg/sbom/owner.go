//go:build !nosbom

package sbom

import (
	"bufio"
	"bytes"
	"path"
	"slices"
	"strings"

	"github.com/anchore/syft/syft/pkg"
	syftsbom "github.com/anchore/syft/syft/sbom"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// dpkgInfo holds dpkg's per-package file lists (NAME.list, NAME:ARCH.list),
// which syft does not read: unlike md5sums they list symlinks too, such as
// /bin/sh.
const dpkgInfo = "/var/lib/dpkg/info"

// osType reports the package types of distribution package managers, whose
// file lists are authoritative: they win over a language package listing the
// same file.
func osType(t pkg.Type) bool {
	switch t {
	case pkg.DebPkg, pkg.ApkPkg, pkg.RpmPkg, pkg.AlpmPkg, pkg.PortagePkg, pkg.NixPkg:
		return true
	}
	return false
}

// owners maps files to the packages whose databases list them.
type owners struct {
	fsys   *layers.FS
	byPath map[string]*Package
}

type claim struct {
	path string
	p    *Package
	os   bool
}

func newOwners(fsys *layers.FS, doc *syftsbom.SBOM) *owners {
	o := &owners{fsys: fsys, byPath: map[string]*Package{}}
	tools := newTools(fsys)
	var claims []claim
	debs := map[string]*Package{} // dpkg status packages by name, for the .list files
	for _, p := range doc.Artifacts.Packages.Sorted() {
		files := ownedFiles(p)
		isDeb := p.Type == pkg.DebPkg
		if len(files) == 0 && !isDeb {
			continue
		}
		ref := &Package{Name: p.Name, Version: p.Version, Type: string(p.Type), Remove: tools.remove(p),
			Essential: isDeb && !fromStatusD(p) && tools.essential[p.Name]}
		if isDeb && !fromStatusD(p) {
			if _, dup := debs[p.Name]; !dup {
				debs[p.Name] = ref
			}
		}
		osType := osType(p.Type)
		for _, f := range files {
			claims = append(claims, claim{f, ref, osType})
		}
	}
	if len(debs) > 0 {
		if dir, err := fsys.ReadDir(dpkgInfo); err == nil {
			for _, n := range dir {
				name, ok := strings.CutSuffix(path.Base(n.Path), ".list")
				if !ok || n.Type != layers.TypeRegular {
					continue
				}
				name, _, _ = strings.Cut(name, ":") // NAME:ARCH.list
				ref := debs[name]
				if ref == nil {
					continue
				}
				b, err := fsys.ReadFile(n.Path)
				if err != nil {
					continue
				}
				for _, f := range listLines(b) {
					claims = append(claims, claim{f, ref, true})
				}
			}
		}
	}
	// Distribution packages first, then by name: the first claim on a path
	// wins.
	slices.SortStableFunc(claims, func(a, b claim) int {
		if a.os != b.os {
			if a.os {
				return -1
			}
			return 1
		}
		return comparePackages(*a.p, *b.p)
	})
	for _, c := range claims {
		p := cleanAbs(c.path)
		if p == "/" {
			continue
		}
		for _, k := range []string{p, o.canonical(p)} {
			if _, taken := o.byPath[k]; !taken {
				o.byPath[k] = c.p
			}
		}
	}
	return o
}

// canonical resolves the symlinks in p's parents: a database listing
// /bin/bash owns /usr/bin/bash when /bin links to usr/bin.
func (o *owners) canonical(p string) string {
	if n, err := o.fsys.Lstat(p); err == nil {
		return n.Path
	}
	return p
}

func (o *owners) owner(p string, aliases []string) *Package {
	for _, q := range append([]string{p}, aliases...) {
		if q == "" {
			continue
		}
		q = cleanAbs(q)
		if r := o.byPath[q]; r != nil {
			return r
		}
		if r := o.byPath[o.canonical(q)]; r != nil {
			return r
		}
	}
	return nil
}

// fromStatusD reports whether a deb package was recorded in a distroless
// status.d directory, where no dpkg can remove it.
func fromStatusD(p pkg.Package) bool {
	for _, l := range p.Locations.ToSlice() {
		if strings.Contains(l.RealPath, "/status.d/") {
			return true
		}
	}
	return false
}

// listLines parses a dpkg .list file: one path a line.
func listLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && l != "/." {
			out = append(out, l)
		}
	}
	return out
}

// tools records which package managers the image ships, to say how to
// remove a package, and which packages the distribution protects.
type tools struct {
	has map[string]bool
	// essential are the dpkg packages marked Essential: yes, Protected:
	// yes or Priority: required: dpkg refuses to remove the first without
	// --force-remove-essential, apt refuses the second without
	// --allow-remove-essential, and removing any of them breaks the
	// package system or the base the image's scripts assume.
	essential map[string]bool
}

// dpkgStatus is dpkg's database of installed packages.
const dpkgStatus = "/var/lib/dpkg/status"

// protectedDebs returns the packages that dpkg's status file marks
// Essential: yes, Protected: yes or Priority: required.
func protectedDebs(b []byte) map[string]bool {
	out := map[string]bool{}
	var name string
	var protected bool
	flush := func() {
		if name != "" && protected {
			out[name] = true
		}
		name, protected = "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(key) {
		case "package":
			name = value
		case "essential":
			protected = protected || strings.EqualFold(value, "yes")
		case "priority":
			protected = protected || strings.EqualFold(value, "required")
		case "protected":
			protected = protected || strings.EqualFold(value, "yes")
		}
	}
	flush()
	return out
}

// managerNames are the package managers whose presence newTools records.
func managerNames() []string {
	return []string{"apt-get", "dpkg", "apk", "microdnf", "dnf", "yum", "rpm"}
}

func newTools(fsys *layers.FS) tools {
	t := tools{has: map[string]bool{}, essential: map[string]bool{}}
	if b, err := fsys.ReadFile(dpkgStatus); err == nil {
		t.essential = protectedDebs(b)
	}
	for _, name := range managerNames() {
		for _, dir := range []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"} {
			if n, err := fsys.Stat(dir + "/" + name); err == nil && n.Type != layers.TypeDir {
				t.has[name] = true
				break
			}
		}
	}
	return t
}

// remove returns the command that removes p from the image, "" when the
// image has no package manager for it.
func (t tools) remove(p pkg.Package) string {
	switch p.Type {
	case pkg.DebPkg:
		switch {
		case fromStatusD(p), t.essential[p.Name]:
		case t.has["apt-get"]:
			return "apt-get purge -y " + p.Name
		case t.has["dpkg"]:
			return "dpkg --purge " + p.Name
		}
	case pkg.ApkPkg:
		if t.has["apk"] {
			return "apk del " + p.Name
		}
	case pkg.RpmPkg:
		for _, m := range []string{"microdnf", "dnf", "yum"} {
			if t.has[m] {
				return m + " remove -y " + p.Name
			}
		}
		if t.has["rpm"] {
			return "rpm -e " + p.Name
		}
	}
	return ""
}
