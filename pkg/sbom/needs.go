//go:build !nosbom

package sbom

import (
	"path"
	"slices"
	"strings"

	"github.com/anchore/syft/syft/pkg/cataloger/binary"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// fileNeeds are the capture patterns of the files syft's image catalogers read,
// narrowed from syft's doublestar globs to the syntax of layers.Match: a
// glob anchored anywhere ("**/lib/dpkg/status") becomes the standard
// location ("/var/lib/dpkg/status"), a glob on a file name keeps it
// ("**/package.json"). Each entry says which cataloger reads it. The
// binary classifier's globs are added from syft's own table (see
// classifierNeeds).
func fileNeeds() []string {
	return []string{
		// Distribution release (syft's environment task) and busybox's version.
		"/etc/os-release", "/usr/lib/os-release", "/etc/redhat-release", "/etc/system-release-cpe", "/etc/debian_version", "/bin/busybox",

		// dpkg: the status database (or distroless status.d with its md5sums),
		// the md5sums and conffiles that list each package's files, the .list
		// files imgaudit reads for ownership, and the copyright files that
		// carry licenses.
		"/var/lib/dpkg/status", "/var/lib/dpkg/status.d/*",
		"/var/lib/dpkg/info/*.md5sums", "/var/lib/dpkg/info/*.conffiles", "/var/lib/dpkg/info/*.list",
		"/usr/share/doc/*/copyright",
		// opkg (OpenWrt-style images).
		"/var/lib/opkg/status", "/usr/lib/opkg/status", "/var/lib/opkg/info/*.control", "/usr/lib/opkg/info/*.control",
		// apk.
		"/lib/apk/db/installed", "/usr/lib/apk/db/installed",
		// rpm: Berkeley DB, NDB and SQLite databases, and CBL-Mariner's
		// distroless manifest.
		"/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/var/lib/rpm/rpmdb.sqlite",
		"/usr/share/rpm/Packages", "/usr/share/rpm/Packages.db", "/usr/share/rpm/rpmdb.sqlite",
		"/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
		"/var/lib/rpmmanifest/container-manifest-2",
		// pacman, portage, nix.
		"/var/lib/pacman/local/**", "/var/db/pkg/**", "/nix/var/nix/db/db.sqlite", "/nix/store/*.drv",
		// Homebrew (Linuxbrew) formulae.
		"/home/linuxbrew/.linuxbrew/Cellar/*/*/.brew/*.rb", "/usr/local/Cellar/*/*/.brew/*.rb", "/opt/homebrew/Cellar/*/*/.brew/*.rb",
		"/home/linuxbrew/.linuxbrew/Library/Taps/*/*/Formula/*.rb",
		// Bitnami's SBOMs and component list.
		"**/.spdx-*.spdx", "/opt/bitnami/.bitnami_components.json",
		// Snaps.
		"**/snapcraft.yaml", "**/dpkg.yaml", "/snap/manifest.yaml", "**/snap/manifest.yaml",

		// Python: installed distributions (dist-info and egg-info) and virtual
		// environments.
		"**/METADATA", "**/PKG-INFO", "**/*.egg-info", "**/RECORD", "**/top_level.txt", "**/direct_url.json",
		"**/INSTALLER", "**/pyvenv.cfg",
		// Node.js, PHP (Composer, PEAR, the interpreter's extensions), Ruby,
		// R, Lua, Perl, C/C++ (Conan), Elixir and Erlang.
		"**/package.json", "**/installed.json", "**/*.reg", "/usr/local/lib/php/extensions/**",
		"**/*.gemspec", "**/DESCRIPTION", "**/*.rockspec", "**/.packlist", "**/conaninfo.txt",
		"**/elixir.app", "**/install.json",
		// .NET: dependency manifests, lock files and assemblies.
		"**/*.deps.json", "**/packages.lock.json", "**/*.dll", "**/*.exe", "**/*.DLL", "**/*.EXE", "**/*.bpl", "**/*.BPL",
		// Java: archives (their contents are read from the captured bytes), JVM
		// installations' release files.
		"**/*.jar", "**/*.war", "**/*.ear", "**/*.par", "**/*.sar", "**/*.nar", "**/*.jpi", "**/*.hpi",
		"**/*.kar", "**/*.lpkg", "**/*.far", "**/*.rar", "**/*.zap", "**/*.zip", "**/release",
		// Apple bundles, WordPress plugins (official image layout).
		"**/Info.plist", "/var/www/html/wp-content/plugins/*/*.php",

		// Executables where images put the binaries they add (Go, Rust, ELF
		// package notes, GraalVM native images): /usr/local, the root, /app,
		// /ko-app and /opt/*/bin. Other executables of the distribution
		// (/usr/bin, /usr/lib) are not captured by name: their packages are
		// in the package database.
		"/usr/local/bin/*", "/usr/local/sbin/*", "/*", "/app/*", "/ko-app/*", "/opt/*/bin/*",
		"**/libstd-????????????????.so",
		// Go executables anywhere, recognised from their first bytes, kept
		// as much as syft's Go cataloger reads of them (it reads every
		// executable and lists the modules of those with Go build
		// information: a distribution's Go toolchain under /usr/lib/go-1.19
		// has 19 of them).
		layers.CaptureGoExecutables,
	}
}

// Needs returns the capture patterns (layers.Match syntax) of the files
// whose contents syft's catalogers read, sorted: add them to
// layers.Options.Capture for a scan whose packages Catalog will list.
//
// What is deliberately not captured: AI model files (GGUF, safetensors) and
// kernel images and modules, which are large and rare in containers; the
// executables of the distribution's own directories; and any file above the
// capture caps (layers.Limits). Summary.Skipped lists the files syft asked
// for and did not get.
func Needs() []string {
	out := append(fileNeeds(), classifierNeeds()...)
	slices.Sort(out)
	return slices.Compact(out)
}

// classifierNeeds turns the file globs of syft's binary classifiers
// ("**/python*", "**/{go,go.exe}") into file-name patterns.
func classifierNeeds() []string {
	var out []string
	for _, c := range binary.DefaultClassifiers() {
		for _, g := range expandBraces(c.FileGlob) {
			base := path.Base(g)
			if base == "" || base == "**" || strings.Trim(base, "*?") == "" {
				continue
			}
			out = append(out, "**/"+base)
		}
	}
	return out
}
