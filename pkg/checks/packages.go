package checks

import (
	"bufio"
	"bytes"
	"path"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Package database locations.
const (
	dpkgStatus     = "/var/lib/dpkg/status"
	dpkgStatusD    = "/var/lib/dpkg/status.d"
	dpkgInfo       = "/var/lib/dpkg/info"
	apkInstalled   = "/lib/apk/db/installed"
	apkInstalledUs = "/usr/lib/apk/db/installed"
)

// rpmDBs are the files whose presence shows an rpm database.
func rpmDBs() []string {
	return []string{
		"/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/var/lib/rpm/rpmdb.sqlite",
		"/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
	}
}

// packageNeeds are the capture patterns of the package databases.
func packageNeeds() []string {
	return []string{dpkgStatus, dpkgStatusD + "/*", dpkgInfo + "/*.list", apkInstalled, apkInstalledUs}
}

// Package database kinds.
const (
	dbDpkg       = "dpkg"          // /var/lib/dpkg/status
	dbDistroless = "dpkg-status.d" // Google distroless /var/lib/dpkg/status.d/*
	dbApk        = "apk"
)

// pkgRecord is one installed package as its database records it.
type pkgRecord struct {
	Name    string
	Version string
	DB      string       // dbDpkg, dbDistroless or dbApk
	DBPath  string       // the database file holding the record
	DBNode  *layers.Node // that file's node (for its layer)
	// Files lists the package's paths as the database records them, nil when
	// it records none for this package (dpkg without its info/*.list).
	Files []string
	// Essential is true for a dpkg package marked Essential: yes or
	// Priority: required: removing it is unsafe advice.
	Essential bool
}

// removeCommand returns the shell command that uninstalls the package, ""
// when the image has no way to (distroless).
func (p *pkgRecord) removeCommand() string {
	switch p.DB {
	case dbDpkg:
		if p.Essential {
			return ""
		}
		return "apt-get purge -y " + p.Name
	case dbApk:
		return "apk del " + p.Name
	}
	return ""
}

// packageDB is what the image's package databases record.
type packageDB struct {
	pkgs []*pkgRecord
	kind []string // database kinds present, including "rpm"
}

func (db *packageDB) has(kind string) bool { return slices.Contains(db.kind, kind) }

// packagesOf returns the package databases view of img: what dpkg,
// distroless status.d and apk record, and which databases (rpm included)
// are present.
func packagesOf(img *Image) *packageDB {
	return view(img, viewPackages, buildPackages)
}

func buildPackages(img *Image) *packageDB {
	db := &packageDB{}
	f := filesOf(img)
	if n, err := f.Stat(dpkgStatus); err == nil && n.Type == layers.TypeRegular {
		db.kind = append(db.kind, dbDpkg)
		if b, ok := readFile(img, dpkgStatus); ok {
			for _, st := range parseStanzas(b) {
				if p := dpkgRecord(img, st, dbDpkg, dpkgStatus, n); p != nil {
					db.pkgs = append(db.pkgs, p)
				}
			}
		}
	}
	if entries, err := f.ReadDir(dpkgStatusD); err == nil {
		db.kind = append(db.kind, dbDistroless)
		for _, e := range entries {
			if e.Type != layers.TypeRegular || strings.HasSuffix(e.Path, ".md5sums") {
				continue
			}
			b, ok := readFile(img, e.Path)
			if !ok {
				continue
			}
			for _, st := range parseStanzas(b) {
				if p := dpkgRecord(img, st, dbDistroless, e.Path, e); p != nil {
					db.pkgs = append(db.pkgs, p)
				}
			}
		}
	}
	for _, p := range []string{apkInstalled, apkInstalledUs} {
		n, err := f.Stat(p)
		if err != nil || n.Type != layers.TypeRegular {
			continue
		}
		db.kind = append(db.kind, dbApk)
		if b, ok := readFile(img, p); ok {
			db.pkgs = append(db.pkgs, parseApk(b, p, n)...)
		}
		break
	}
	for _, p := range rpmDBs() {
		if exists(img, p) {
			db.kind = append(db.kind, "rpm")
			break
		}
	}
	return db
}

// dpkgRecord turns a dpkg status stanza into a record, nil unless the
// package is installed. Distroless status.d stanzas may carry no Status.
func dpkgRecord(img *Image, st map[string]string, db, dbPath string, n *layers.Node) *pkgRecord {
	name := st["Package"]
	if name == "" {
		return nil
	}
	if status, ok := st["Status"]; ok || db == dbDpkg {
		fields := strings.Fields(status)
		if len(fields) != 3 || fields[2] != "installed" {
			return nil
		}
	}
	p := &pkgRecord{Name: name, Version: st["Version"], DB: db, DBPath: dbPath, DBNode: n}
	switch db {
	case dbDpkg:
		p.Essential = strings.EqualFold(st["Essential"], "yes") || strings.EqualFold(st["Protected"], "yes") ||
			strings.EqualFold(st["Priority"], "required")
		for _, list := range []string{name + ".list", name + ":" + st["Architecture"] + ".list"} {
			if b, ok := readFile(img, dpkgInfo+"/"+list); ok {
				p.Files = parseLines(b, func(l string) string { return l })
				break
			}
		}
	case dbDistroless:
		for _, sums := range []string{strings.TrimSuffix(dbPath, path.Ext(dbPath)) + ".md5sums", dbPath + ".md5sums", dpkgStatusD + "/" + name + ".md5sums"} {
			if b, ok := readFile(img, sums); ok {
				p.Files = parseLines(b, func(l string) string {
					if f := strings.Fields(l); len(f) == 2 {
						return f[1]
					}
					return ""
				})
				break
			}
		}
	}
	return p
}

// parseLines maps each non-empty line through field and keeps the cleaned
// absolute paths it returns.
func parseLines(b []byte, field func(string) string) []string {
	out := []string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1) // a long line must not end the parse early
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			continue
		}
		p := field(l)
		if p == "" || p == "/." {
			continue
		}
		out = append(out, path.Clean("/"+p))
	}
	return out
}

// parseStanzas parses RFC 822-style stanzas (dpkg status): "Key: value"
// lines, continuation lines starting with a space, stanzas separated by
// blank lines. Only the first line of a multi-line value is kept.
func parseStanzas(b []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1) // a long line must not end the parse early
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// parseApk parses an apk installed database: "P:" name, "V:" version, "F:"
// directory, "R:" file in the last directory; packages separated by blank
// lines.
func parseApk(b []byte, dbPath string, n *layers.Node) []*pkgRecord {
	var out []*pkgRecord
	var cur *pkgRecord
	dir := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1) // a long line must not end the parse early
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			cur, dir = nil, ""
			continue
		}
		if len(l) < 2 || l[1] != ':' {
			continue
		}
		if cur == nil {
			cur = &pkgRecord{DB: dbApk, DBPath: dbPath, DBNode: n, Files: []string{}}
			out = append(out, cur)
		}
		v := l[2:]
		switch l[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'F':
			dir = v
		case 'R':
			cur.Files = append(cur.Files, path.Clean("/"+dir+"/"+v))
		}
	}
	for _, p := range out {
		if len(p.Files) == 0 {
			p.Files = nil // a record without a file list says nothing about files
		}
	}
	return slices.DeleteFunc(out, func(p *pkgRecord) bool { return p.Name == "" })
}

// ownersOf returns the package owners view of img: the first package
// recording each path.
func ownersOf(img *Image) map[string]*pkgRecord {
	return view(img, viewOwners, func(img *Image) map[string]*pkgRecord {
		owners := map[string]*pkgRecord{}
		for _, p := range packagesOf(img).pkgs {
			for _, fp := range p.Files {
				if _, ok := owners[fp]; !ok {
					owners[fp] = p
				}
			}
		}
		return owners
	})
}

// ownerOf returns the package whose file list holds the file n (or a path
// that reaches it), nil when unknown.
func ownerOf(img *Image, n *layers.Node) *pkgRecord {
	owners := ownersOf(img)
	if n == nil || len(owners) == 0 {
		return nil
	}
	paths := []string{n.Path}
	if fi := hardlinksOf(img).file(n); fi != nil {
		paths = append(paths, fi.paths...)
	}
	for _, t := range toolsOf(img).byFile[n] {
		paths = append(paths, t.paths()...)
	}
	slices.Sort(paths)
	for _, p := range slices.Compact(paths) {
		if o := owners[p]; o != nil {
			return o
		}
	}
	return nil
}
