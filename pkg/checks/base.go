package checks

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// osReleasePaths are where os-release(5) lives, in lookup order.
func osReleasePaths() []string { return []string{"/etc/os-release", "/usr/lib/os-release"} }

// baseNeeds are the files whose contents ClassifyBase reads: os-release. It
// looks at the package databases only for their presence.
func baseNeeds() []string { return osReleasePaths() }

// OSRelease holds the identifying fields of os-release(5).
type OSRelease struct {
	ID              string `json:"id,omitempty"`
	IDLike          string `json:"idLike,omitempty"`
	Name            string `json:"name,omitempty"`
	PrettyName      string `json:"prettyName,omitempty"`
	VersionID       string `json:"versionID,omitempty"`
	VersionCodename string `json:"versionCodename,omitempty"`
	// Path is the file the fields were read from, "" when there is none.
	Path string `json:"path,omitempty"`
}

// Base kinds reported by ClassifyBase besides os-release IDs.
const (
	BaseDistroless = "distroless" // Google distroless (gcr.io/distroless)
	BaseScratch    = "scratch"    // no OS at all: no os-release, package database or busybox
	BaseBusybox    = "busybox"    // the busybox image: busybox, no os-release
	BaseUnknown    = "unknown"
)

// Base describes what an image is built on.
type Base struct {
	// Kind is "distroless" (Google distroless), "wolfi", "chainguard",
	// "scratch", "busybox", "alpine", "debian", "ubuntu", "rhel", "centos",
	// "fedora", "rocky", "almalinux", "oraclelinux", "amazonlinux", another
	// os-release ID, or "unknown".
	Kind string `json:"kind"`
	// Distroless is true when the final filesystem has no shell and no
	// package manager, whatever the base.
	Distroless bool `json:"distroless"`
	// OSRelease is the image's os-release, empty when it has none.
	OSRelease OSRelease `json:"osRelease"`
}

// osReleaseFile is the parsed os-release and its node.
type osReleaseFile struct {
	rel  OSRelease
	node *layers.Node
}

// osReleaseOf returns the os-release view of img: the first os-release
// found, parsed.
func osReleaseOf(img *Image) *osReleaseFile {
	return view(img, viewOSRelease, func(img *Image) *osReleaseFile {
		osr := &osReleaseFile{}
		for _, p := range osReleasePaths() {
			n, err := filesOf(img).Stat(p)
			if err != nil || n.Type != layers.TypeRegular {
				continue
			}
			osr.node = n
			osr.rel.Path = n.Path
			if b, ok := readFile(img, p); ok {
				osr.rel = parseOSRelease(b)
				osr.rel.Path = n.Path
			}
			break
		}
		return osr
	})
}

// parseOSRelease parses os-release KEY=value lines (values optionally
// quoted).
func parseOSRelease(b []byte) OSRelease {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1) // a long line must not end the parse early
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = unquoteShell(strings.TrimSpace(v))
	}
	return OSRelease{
		ID: strings.ToLower(kv["ID"]), IDLike: kv["ID_LIKE"], Name: kv["NAME"], PrettyName: kv["PRETTY_NAME"],
		VersionID: kv["VERSION_ID"], VersionCodename: kv["VERSION_CODENAME"],
	}
}

// unquoteShell removes the quotes of an os-release value: '...' literally,
// "..." with backslash escapes of $, ", `, \.
func unquoteShell(v string) string {
	if len(v) < 2 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] {
		return v
	}
	q, body := v[0], v[1:len(v)-1]
	if q == '\'' {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) && strings.IndexByte("$\"`\\", body[i+1]) >= 0 {
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String()
}

// osKind maps os-release IDs to the base kind reported for them.
func osKind(id string) (string, bool) {
	switch id {
	case "ol":
		return "oraclelinux", true
	case "amzn":
		return "amazonlinux", true
	case "rhel", "centos", "fedora", "rocky", "almalinux", "sles":
		return id, true
	case "opensuse-leap", "opensuse-tumbleweed":
		return "opensuse", true
	case "mariner", "azurelinux":
		return "azurelinux", true
	}
	return "", false
}

var safeKind = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ClassifyBase says what img is built on, from os-release, the package
// databases and the filesystem:
//   - Google distroless when os-release's PRETTY_NAME is "Distroless…" or the
//     image has /var/lib/dpkg/status.d/ but no /var/lib/dpkg/status;
//   - otherwise the os-release ID ("wolfi", "chainguard", "alpine",
//     "debian", "ubuntu", the RHEL family, ...);
//   - without os-release: "alpine" for an apk database, "debian" for a dpkg
//     one, "rhel" for an rpm one, "busybox" when busybox is the only system,
//     and "scratch" when there is none of these.
//
// Base.Distroless is independent of the kind: true only when no shell and no
// package manager is reachable from PATH.
func ClassifyBase(img *Image) Base {
	osr := osReleaseOf(img)
	db := packagesOf(img)
	b := Base{OSRelease: osr.rel}
	b.Distroless = len(toolGroups(img, shellTools(), true)) == 0 && len(toolGroups(img, packageManagerTools(), false)) == 0
	statusD := db.has(dbDistroless) && !db.has(dbDpkg)
	switch {
	case strings.HasPrefix(osr.rel.PrettyName, "Distroless") || statusD:
		b.Kind = BaseDistroless
	case osr.rel.ID != "":
		b.Kind = osr.rel.ID
		if k, ok := osKind(b.Kind); ok {
			b.Kind = k
		}
		if !safeKind.MatchString(b.Kind) {
			b.Kind = BaseUnknown
		}
	case db.has(dbApk):
		b.Kind = "alpine"
	case db.has(dbDpkg):
		b.Kind = "debian"
	case db.has("rpm"):
		b.Kind = "rhel"
	case hasBusybox(img):
		b.Kind = BaseBusybox
	default:
		b.Kind = BaseScratch
	}
	return b
}

// runtimeKind is what the application needs from a base image.
type runtimeKind int

const (
	rtUnknown runtimeKind = iota
	rtStatic              // a statically linked executable
	rtGlibc               // a dynamically linked executable (glibc)
	rtMusl                // a dynamically linked executable (musl)
	rtJava
	rtNode
	rtPython
	rtRuby
	rtPHP
	rtDotnet
	rtPerl
)

// appRuntime guesses the application's runtime from the entrypoint and
// command, then from the interpreters on PATH.
func appRuntime(img *Image) (runtimeKind, string) {
	cfg := configOf(img)
	argv := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	// Skip init wrappers and shells running a command line.
	shells := shellTools()
	for len(argv) > 0 {
		base := path.Base(argv[0])
		switch base {
		case "tini", "tini-static", "dumb-init", "catatonit", "gosu", "su-exec", "env":
			argv = argv[1:]
			for len(argv) > 0 && strings.HasPrefix(argv[0], "-") {
				argv = argv[1:]
			}
			if base == "gosu" || base == "su-exec" {
				if len(argv) > 0 {
					argv = argv[1:] // the user
				}
			}
			continue
		}
		if shells.match(base) && len(argv) >= 3 && argv[1] == "-c" {
			argv = strings.Fields(argv[2])
			continue
		}
		break
	}
	if len(argv) > 0 {
		if rt, what := runtimeOf(img, argv[0], 0); rt != rtUnknown {
			return rt, what
		}
	}
	for _, c := range []struct {
		rt    runtimeKind
		names []string
	}{
		{rtJava, []string{"java"}},
		{rtNode, []string{"node", "nodejs"}},
		{rtPython, []string{"python3", "python"}},
		{rtRuby, []string{"ruby"}},
		{rtPHP, []string{"php", "php-fpm"}},
		{rtDotnet, []string{"dotnet"}},
	} {
		for _, n := range c.names {
			if toolsOf(img).lookPath(n) != nil {
				return c.rt, n
			}
		}
	}
	return rtUnknown, ""
}

// runtimeOf classifies the program prog (a path or a command name).
func runtimeOf(img *Image, prog string, depth int) (runtimeKind, string) {
	if depth > 3 {
		return rtUnknown, ""
	}
	if rt := runtimeByName(path.Base(prog)); rt != rtUnknown {
		return rt, path.Base(prog)
	}
	var n *layers.Node
	if strings.Contains(prog, "/") {
		p := prog
		if !strings.HasPrefix(p, "/") {
			p = path.Join("/", configOf(img).WorkingDir, p)
		}
		if node, err := filesOf(img).Stat(p); err == nil {
			n = node
		}
	} else {
		n = toolsOf(img).lookPath(prog)
	}
	if n == nil || n.Type != layers.TypeRegular {
		return rtUnknown, ""
	}
	switch n.Content.Kind {
	case layers.ContentELF:
		switch {
		case n.Content.Interpreter == "":
			return rtStatic, n.Path
		case strings.Contains(n.Content.Interpreter, "musl"):
			return rtMusl, n.Path
		default:
			return rtGlibc, n.Path
		}
	case layers.ContentScript:
		interp := n.Content.Interpreter
		if path.Base(interp) == "env" {
			interp = n.Content.ScriptArg()
		}
		if rt := runtimeByName(path.Base(interp)); rt != rtUnknown {
			return rt, n.Path
		}
	}
	return rtUnknown, ""
}

func runtimeByName(name string) runtimeKind {
	switch stripVersion(name) {
	case "java":
		return rtJava
	case "node", "nodejs":
		return rtNode
	case "python":
		return rtPython
	case "ruby":
		return rtRuby
	case "php", "php-fpm":
		return rtPHP
	case "dotnet":
		return rtDotnet
	case "perl":
		return rtPerl
	}
	return rtUnknown
}

var majorVersion = regexp.MustCompile(`(?:^|[^0-9])([0-9]{1,2})(?:[.u+]|$)`)

// major returns the leading major version in s ("jdk-21.0.2+13" -> "21").
func major(s string) string {
	if m := majorVersion.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// recommendBase names a smaller base that fits what the image runs.
func recommendBase(img *Image, b Base) string {
	switch b.Kind {
	case BaseDistroless:
		return "Use the non-debug variant of the distroless image (drop the :debug tag), which has no busybox shell."
	case "wolfi", "chainguard":
		return "Use the variant of the Chainguard/Wolfi image without -dev (no shell, no apk)."
	}
	rt, what := appRuntime(img)
	env := envOf(img)
	switch rt {
	case rtStatic:
		return fmt.Sprintf("The application (%s) is statically linked: copy it into scratch or gcr.io/distroless/static-debian12 (or cgr.dev/chainguard/static) in a multi-stage build.", what)
	case rtGlibc:
		return fmt.Sprintf("The application (%s) is dynamically linked against glibc: use gcr.io/distroless/base-debian12 (gcr.io/distroless/cc-debian12 if it needs libstdc++), or link it statically and use gcr.io/distroless/static-debian12.", what)
	case rtMusl:
		return fmt.Sprintf("The application (%s) is dynamically linked against musl: link it statically (CGO_ENABLED=0, -static) and use scratch or gcr.io/distroless/static-debian12, or remove apk and busybox from the final stage.", what)
	case rtJava:
		v := major(env["JAVA_VERSION"])
		if v == "" {
			v = "21"
		}
		return fmt.Sprintf("The application runs on Java: use gcr.io/distroless/java%s-debian12 (or cgr.dev/chainguard/jre).", v)
	case rtNode:
		v := major(env["NODE_VERSION"])
		if v == "" {
			v = "22"
		}
		return fmt.Sprintf("The application runs on Node.js: use gcr.io/distroless/nodejs%s-debian12 (or cgr.dev/chainguard/node), copying node_modules from a build stage.", v)
	case rtPython:
		return "The application runs on Python: use gcr.io/distroless/python3-debian12 (or cgr.dev/chainguard/python), copying the installed dependencies from a build stage."
	case rtRuby:
		return "The application runs on Ruby: use cgr.dev/chainguard/ruby, copying the bundle from a build stage."
	case rtPHP:
		return "The application runs on PHP: use cgr.dev/chainguard/php, copying the vendor directory from a build stage."
	case rtDotnet:
		return "The application runs on .NET: use mcr.microsoft.com/dotnet/runtime-deps:8.0-noble-chiseled (self-contained) or mcr.microsoft.com/dotnet/aspnet:8.0-noble-chiseled."
	case rtPerl:
		return "The application runs on Perl: use cgr.dev/chainguard/perl, copying its modules from a build stage."
	}
	return "Copy the application into gcr.io/distroless/static-debian12 if it is statically linked, or gcr.io/distroless/base-debian12 if it is dynamically linked, in a multi-stage build."
}
