package checks

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

type packageRecord struct{}

var _ Check = (*packageRecord)(nil)

// PackageRecord reports tools that the package database records as
// installed but that are missing from the filesystem.
func PackageRecord() Check { return &packageRecord{} }

// packageTools names the commands of packages whose name is not itself a
// command, used when the database keeps no file list for a package.
var packageTools = map[string][]string{
	"openssh-client":         {"ssh", "scp", "sftp"},
	"openssh-clients":        {"ssh", "scp", "sftp"},
	"openssh-client-default": {"ssh"},
	"openssh-server":         {"sshd"},
	"netcat-openbsd":         {"nc"},
	"netcat-traditional":     {"nc"},
	"nmap-ncat":              {"ncat"},
	"iputils-ping":           {"ping"},
	"inetutils-ping":         {"ping"},
	"inetutils-telnet":       {"telnet"},
	"iproute2":               {"ip", "ss"},
	"iproute":                {"ip", "ss"},
	"net-tools":              {"ifconfig", "route", "netstat", "arp"},
	"bind9-dnsutils":         {"dig", "nslookup"},
	"bind-tools":             {"dig", "nslookup"},
	"bind-utils":             {"dig", "nslookup"},
	"bind9-host":             {"host"},
	"python3-pip":            {"pip3"},
	"python-pip":             {"pip"},
	"py3-pip":                {"pip3"},
	"apk-tools":              {"apk"},
	"coreutils":              {"chmod", "chown", "chgrp"},
	"acl":                    {"setfacl"},
	"attr":                   {"setfattr"},
	"e2fsprogs":              {"chattr"},
	"libcap2-bin":            {"setcap"},
	"busybox-binsh":          {"sh"},
	"busybox-static":         {"busybox"},
	"apt":                    {"apt", "apt-get", "apt-cache"},
	"golang-go":              {"go"},
	// Packages named like a tool that do not ship a command of that name.
	"telnetd":  nil, // in.telnetd
	"ftpd":     nil, // in.ftpd
	"tftpd":    nil, // in.tftpd
	"libtool":  nil, // libtoolize; the libtool script is in libtool-bin
	"ssh":      nil, // metapackage
	"netcat":   nil, // transitional
	"dnsutils": nil, // transitional
}

func (*packageRecord) Meta() Meta {
	return Meta{
		ID:       "IA-PACKAGE-RECORD",
		Title:    "Package recorded but its tool is gone",
		Category: CategoryPackageRecord,
		Severity: Low,
		Rationale: "A tool deleted with `rm` instead of the package manager leaves the package database saying it is installed: " +
			"SBOMs and vulnerability scanners keep reporting it, the files may still ship in a lower layer, " +
			"and the image's real contents can no longer be trusted from its inventory.",
		Remediation: "Uninstall the package with the package manager (`apt-get purge -y PKG`, `apk del PKG`) in the step that installed it, " +
			"instead of deleting its files.",
		Notes: "Covers the commands of the tool categories (shells, package managers, network, permission, privilege, debug, build tools, SSH servers) " +
			"that dpkg (/var/lib/dpkg/status with info/*.list), Google distroless (/var/lib/dpkg/status.d with *.md5sums) or apk (/lib/apk/db/installed) " +
			"record in a PATH directory. Without a file list, a package named like a tool (wget) or a known package (openssh-client: ssh, scp, sftp) " +
			"must provide a command of that name in some PATH directory. rpm databases are not read.",
		Needs: packageNeeds,
	}
}

// isCatalogueTool reports whether name is a command of any tool category.
func isCatalogueTool(name string) bool {
	for _, s := range []*toolSet{shellTools, packageManagerTools, networkTools, permissionTools, privilegeTools, debugTools, buildTools, sshServerTools} {
		if s.match(name) {
			return true
		}
	}
	return false
}

// expectedTools returns the commands a package provides, for a database
// without its file list.
func expectedTools(pkg string) []string {
	if ts, ok := packageTools[pkg]; ok {
		return ts
	}
	if isCatalogueTool(pkg) {
		return []string{pkg}
	}
	return nil
}

func (*packageRecord) Run(_ context.Context, img *Image) ([]Finding, error) {
	dirs := map[string]bool{}
	var realDirs []string
	for _, d := range img.PathDirs() {
		dirs[d] = true
		if n, err := img.fsys().Stat(d); err == nil && n.Type == layers.TypeDir {
			realDirs = append(realDirs, n.Path)
		}
	}
	var out []Finding
	for _, p := range img.packages().pkgs {
		var unlocated []string
		if p.Files != nil {
			for _, fp := range p.Files {
				dir, base := path.Split(fp)
				if !dirs[path.Clean(dir)] || !isCatalogueTool(base) || img.exists(fp) {
					continue
				}
				out = append(out, img.missingTool(p, base, img.realPath(fp), realDirs))
			}
			continue
		}
		for _, t := range expectedTools(p.Name) {
			if img.commandExists(t) {
				continue
			}
			if d := img.deletedTool(t, "", realDirs); d != nil {
				out = append(out, img.missingTool(p, t, d.Path, realDirs))
				continue
			}
			unlocated = append(unlocated, t)
		}
		if len(unlocated) > 0 {
			out = append(out, Finding{
				Path:  p.DBPath,
				Name:  p.Name,
				Layer: img.layerRef(p.DBNode.Layer),
				Detail: fmt.Sprintf("%s records %s %s as installed, but no %s command is in PATH",
					p.DB, p.Name, p.Version, strings.Join(unlocated, ", ")),
			})
		}
	}
	return out, nil
}

// missingTool describes the missing command name of package p, expected at
// want (a real path).
func (img *Image) missingTool(p *pkgRecord, name, want string, realDirs []string) Finding {
	f := Finding{Path: want, Name: p.Name, Layer: img.layerRef(p.DBNode.Layer)}
	rec := fmt.Sprintf("%s records %s %s as installed", p.DB, p.Name, p.Version)
	if d := img.deletedTool(name, want, realDirs); d != nil {
		f.Deleted = true
		f.Layer = img.layerRef(d.Layer)
		f.Detail = fmt.Sprintf("%s, but %s was removed by layer %d; layer %d still ships it", rec, d.Path, d.RemovedBy, d.Layer)
		return f
	}
	f.Detail = fmt.Sprintf("%s, but %s is missing", rec, want)
	return f
}

// deletedTool finds the most recently removed shipped file named name: at
// want when given, else in a PATH directory.
func (img *Image) deletedTool(name, want string, realDirs []string) *layers.DeletedEntry {
	var best *layers.DeletedEntry
	del := img.fsys().Deleted()
	for i := range del {
		d := &del[i]
		if path.Base(d.Path) != name {
			continue
		}
		if want != "" && d.Path != want {
			continue
		}
		if want == "" && !slices.Contains(realDirs, path.Dir(d.Path)) {
			continue
		}
		if best == nil || d.RemovedBy > best.RemovedBy || (d.RemovedBy == best.RemovedBy && d.Layer > best.Layer) {
			best = d
		}
	}
	return best
}

// commandExists reports whether some PATH directory has an entry named name.
func (img *Image) commandExists(name string) bool {
	for _, d := range img.PathDirs() {
		if img.exists(path.Join(d, name)) {
			return true
		}
	}
	return false
}

// realPath resolves the directory part of p inside the image ("/bin/wget"
// is "/usr/bin/wget" when /bin -> usr/bin).
func (img *Image) realPath(p string) string {
	if n, err := img.fsys().Stat(path.Dir(p)); err == nil && n.Type == layers.TypeDir {
		return path.Join(n.Path, path.Base(p))
	}
	return p
}
