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

// packageCommands names the commands of packages whose name is not itself
// a command, used when the database keeps no file list for a package; ok is
// false for other packages.
func packageCommands(pkg string) (cmds []string, ok bool) {
	switch pkg {
	case "openssh-client", "openssh-clients":
		return []string{"ssh", "scp", "sftp"}, true
	case "openssh-client-default":
		return []string{"ssh"}, true
	case "openssh-server":
		return []string{"sshd"}, true
	case "netcat-openbsd", "netcat-traditional":
		return []string{"nc"}, true
	case "nmap-ncat":
		return []string{"ncat"}, true
	case "iputils-ping", "inetutils-ping":
		return []string{"ping"}, true
	case "inetutils-telnet":
		return []string{"telnet"}, true
	case "iproute2", "iproute":
		return []string{"ip", "ss"}, true
	case "net-tools":
		return []string{"ifconfig", "route", "netstat", "arp"}, true
	case "bind9-dnsutils", "bind-tools", "bind-utils":
		return []string{"dig", "nslookup"}, true
	case "bind9-host":
		return []string{"host"}, true
	case "python3-pip", "py3-pip":
		return []string{"pip3"}, true
	case "python-pip":
		return []string{"pip"}, true
	case "apk-tools":
		return []string{"apk"}, true
	case "coreutils":
		return []string{"chmod", "chown", "chgrp"}, true
	case "acl":
		return []string{"setfacl"}, true
	case "attr":
		return []string{"setfattr"}, true
	case "e2fsprogs":
		return []string{"chattr"}, true
	case "libcap2-bin":
		return []string{"setcap"}, true
	case "busybox-binsh":
		return []string{"sh"}, true
	case "busybox-static":
		return []string{"busybox"}, true
	case "apt":
		return []string{"apt", "apt-get", "apt-cache"}, true
	case "golang-go":
		return []string{"go"}, true
	// Packages named like a tool that do not ship a command of that name:
	// in.telnetd, in.ftpd, in.tftpd; libtoolize (the libtool script is in
	// libtool-bin); a metapackage; transitional packages.
	case "telnetd", "ftpd", "tftpd", "libtool", "ssh", "netcat", "dnsutils":
		return nil, true
	}
	return nil, false
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
		Fix: "Uninstall the package with its package manager.",
		Remediation: "Uninstall the package with the package manager (`apt-get purge -y PKG`, `apk del PKG`) in the step that installed it, " +
			"instead of deleting its files.",
		Notes: "Covers the commands of the tool categories (shells, package managers, network, permission, privilege, debug, build tools, SSH servers) " +
			"that dpkg (/var/lib/dpkg/status with info/*.list), Google distroless (/var/lib/dpkg/status.d with *.md5sums) or apk (/lib/apk/db/installed) " +
			"record in a PATH directory. Without a file list, a package named like a tool (wget) or a known package (openssh-client: ssh, scp, sftp) " +
			"must provide a command of that name in some PATH directory. rpm databases are not read.",
		Needs: packageNeeds(),
	}
}

// catalogueTools is every tool category's command list.
type catalogueTools []*toolSet

func newCatalogueTools() catalogueTools {
	return catalogueTools{shellTools(), packageManagerTools(), networkTools(), permissionTools(), privilegeTools(), debugTools(), buildTools(), sshServerTools()}
}

// match reports whether name is a command of any tool category.
func (c catalogueTools) match(name string) bool {
	for _, s := range c {
		if s.match(name) {
			return true
		}
	}
	return false
}

// expectedTools returns the commands a package provides, for a database
// without its file list.
func (c catalogueTools) expectedTools(pkg string) []string {
	if ts, ok := packageCommands(pkg); ok {
		return ts
	}
	if c.match(pkg) {
		return []string{pkg}
	}
	return nil
}

func (*packageRecord) Run(_ context.Context, img *Image) ([]Finding, error) {
	dirs := map[string]bool{}
	var realDirs []string
	for _, d := range pathDirsOf(img) {
		dirs[d] = true
		if n, err := filesOf(img).Stat(d); err == nil && n.Type == layers.TypeDir {
			realDirs = append(realDirs, n.Path)
		}
	}
	tools := newCatalogueTools()
	var out []Finding
	for _, p := range packagesOf(img).pkgs {
		var unlocated []string
		if p.Files != nil {
			for _, fp := range p.Files {
				dir, base := path.Split(fp)
				if !dirs[path.Clean(dir)] || !tools.match(base) || exists(img, fp) {
					continue
				}
				out = append(out, missingTool(img, p, base, realPath(img, fp), realDirs))
			}
			continue
		}
		for _, t := range tools.expectedTools(p.Name) {
			if commandExists(img, t) {
				continue
			}
			if d := deletedTool(img, t, "", realDirs); d != nil {
				out = append(out, missingTool(img, p, t, d.Path, realDirs))
				continue
			}
			unlocated = append(unlocated, t)
		}
		if len(unlocated) > 0 {
			out = append(out, Finding{
				Path:  p.DBPath,
				Name:  p.Name,
				Layer: layerRef(img, p.DBNode.Layer),
				Detail: fmt.Sprintf("%s records %s %s as installed, but no %s command is in PATH",
					p.DB, p.Name, p.Version, strings.Join(unlocated, ", ")),
			})
		}
	}
	return out, nil
}

// missingTool describes the missing command name of package p, expected at
// want (a real path).
func missingTool(img *Image, p *pkgRecord, name, want string, realDirs []string) Finding {
	f := Finding{Path: want, Name: p.Name, Layer: layerRef(img, p.DBNode.Layer)}
	rec := fmt.Sprintf("%s records %s %s as installed", p.DB, p.Name, p.Version)
	if d := deletedTool(img, name, want, realDirs); d != nil {
		f.Deleted = true
		f.Layer = layerRef(img, d.Layer)
		f.Detail = fmt.Sprintf("%s, but %s was removed by layer %d; layer %d still ships it", rec, d.Path, d.RemovedBy, d.Layer)
		return f
	}
	f.Detail = fmt.Sprintf("%s, but %s is missing", rec, want)
	return f
}

// deletedTool finds the most recently removed shipped file named name: at
// want when given, else in a PATH directory.
func deletedTool(img *Image, name, want string, realDirs []string) *layers.DeletedEntry {
	var best *layers.DeletedEntry
	del := filesOf(img).Deleted()
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
func commandExists(img *Image, name string) bool {
	for _, d := range pathDirsOf(img) {
		if exists(img, path.Join(d, name)) {
			return true
		}
	}
	return false
}

// realPath resolves the directory part of p inside the image ("/bin/wget"
// is "/usr/bin/wget" when /bin -> usr/bin).
func realPath(img *Image, p string) string {
	if n, err := filesOf(img).Stat(path.Dir(p)); err == nil && n.Type == layers.TypeDir {
		return path.Join(n.Path, path.Base(p))
	}
	return p
}
