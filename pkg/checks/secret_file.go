package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

type secretFile struct{}

var _ Check = (*secretFile)(nil)

// SecretFile reports private keys and credential files, in the final
// filesystem and among the files a later layer deleted but a lower layer
// still ships.
func SecretFile() Check { return &secretFile{} }

// secretFileNeeds are the credential files whose contents decide whether
// they hold a credential.
func secretFileNeeds() []string {
	return []string{
		"**/.npmrc", "**/npmrc", "**/.yarnrc", "**/.yarnrc.yml", "**/.pypirc", "**/pip.conf",
		"**/.netrc", "**/_netrc", "**/.my.cnf", "**/.dockercfg",
		"/*/.docker/config.json", "/*/*/.docker/config.json", "/*/*/*/.docker/config.json", "/*/*/*/*/.docker/config.json",
	}
}

func (*secretFile) Meta() Meta {
	return Meta{
		ID:       "IA-SECRET-FILE",
		Title:    "Credential file",
		Category: CategorySecret,
		Severity: Critical,
		Rationale: "Anyone who can pull the image can read every file in it, including files a later layer deleted: " +
			"`rm` in a later step only hides a file, the lower layer's blob still ships it.",
		Fix: "Rotate it; keep it out of every layer (secret mount).",
		Remediation: "Remove the file from the build context (.dockerignore) or use a BuildKit secret mount, " +
			"delete it in the same RUN step that created it (or use a multi-stage build) so no layer ships it, and rotate the credential.",
		Notes: "Private keys are found by content (a PEM or OpenSSH private key block in the first 4 KiB; not in source code files such as .py, .js or .go, " +
			"where such markers are parser constants). Published test data of installed packages is reported at low severity, not critical: " +
			"files below a directory named testdata, test, tests, __tests__, test_data, fixtures, __fixtures__, example or examples inside a package tree " +
			"(a site-packages, dist-packages or node_modules directory, a Go module cache .../pkg/mod/..., the Go toolchain's source /usr/local/go/src, " +
			"/usr/lib/go*/src, /usr/share/go*/src), and every file below /usr/share/doc. Anywhere else such a directory (WORKDIR /app/test) exempts nothing. Files found by name: .env and .env.* (except .example, .sample, .template, .dist); " +
			".aws/credentials; .docker/config.json and .dockercfg with registry auths; .git-credentials; .npmrc, npmrc, .yarnrc, .yarnrc.yml with an auth token; " +
			".pypirc with a password; pip.conf with a URL password; .netrc/_netrc with a password; .my.cnf with a password; .pgpass; .htpasswd; " +
			".kube/config; .vault-token; .gem/credentials; .cargo/credentials(.toml); .config/gh/hosts.yml; credentials.tfrc.json; " +
			"gcloud and Azure CLI credential files; .s3cfg; .boto; SSH keys id_rsa, id_dsa, id_ecdsa, id_ed25519 (and _sk); *.ppk. " +
			"Empty files hold nothing and are skipped. When a file whose content decides was too large to capture it is reported (fail closed). " +
			"Docker config.json is read at depths up to 4 (/root/.docker, /home/USER/.docker, ...). Regular files only: a credential reached " +
			"through a symlink is reported at its target when the target's own name or contents qualify.",
		Needs: secretFileNeeds(),
	}
}

func (*secretFile) Run(ctx context.Context, img *Image) ([]Finding, error) {
	var out []Finding
	err := walkFiles(ctx, img, func(n *layers.Node) error {
		if n.Type != layers.TypeRegular {
			return nil
		}
		kind, why := secretFileKind(n.Path, &n.Entry, func() ([]byte, bool) { return readFile(img, n.Path) })
		if kind == "" {
			return nil
		}
		f := fileFinding(img, n)
		f.Name, f.Detail = kind, why
		out = append(out, lowerForTestData(f))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, d := range filesOf(img).Deleted() {
		if d.Type != layers.TypeRegular {
			continue
		}
		kind, why := secretFileKind(d.Path, &d.Entry, d.Data)
		if kind == "" {
			continue
		}
		out = append(out, lowerForTestData(Finding{
			Path:    d.Path,
			Name:    kind,
			Deleted: true,
			Layer:   layerRef(img, d.Layer),
			Detail:  fmt.Sprintf("%s; removed by layer %d, still shipped in layer %d", why, d.RemovedBy, d.Layer),
		}))
	}
	return out, nil
}

// lowerForTestData gives a finding in a package's published test data low
// severity, and says why.
func lowerForTestData(f Finding) Finding {
	if tree := testDataTree(f.Path); tree != "" {
		f.Severity = Low
		f.Detail += "; published test data of a package (" + tree + "), low severity"
	}
	return f
}

// isSourceExt reports whether s is the extension of source code files,
// where a PEM private key marker is far more often a parser constant than a
// key.
func isSourceExt(s string) bool {
	switch s {
	case ".go", ".py", ".pyc", ".js", ".mjs", ".cjs", ".ts", ".rb", ".java", ".kt", ".scala", ".c", ".h",
		".cc", ".cpp", ".hpp", ".rs", ".php", ".pl", ".pm", ".cs", ".swift", ".lua":
		return true
	}
	return false
}

// isFixtureDir reports whether a directory name is one that packages ship
// test fixtures and examples in.
func isFixtureDir(name string) bool {
	switch name {
	case "testdata", "test", "tests", "__tests__", "test_data", "fixtures", "__fixtures__", "example", "examples":
		return true
	}
	return false
}

// packageTree returns the package tree p lies in ("node_modules", "Go
// module cache", ...) and the part of p inside it; "" when none. These are
// the trees where installed packages keep their own files, test data
// included.
func packageTree(p string) (tree, inside string) {
	if i := strings.Index(p, "/pkg/mod/"); i >= 0 {
		return "Go module cache", p[i+len("/pkg/mod/"):]
	}
	// The Go toolchain's GOROOT: the official image's /usr/local/go,
	// Debian's /usr/lib/go-1.22 and /usr/share/go-1.22, Alpine's
	// /usr/lib/go, Fedora's /usr/lib/golang.
	for _, root := range []string{"/usr/local/go", "/usr/lib/go", "/usr/share/go"} {
		rest, ok := strings.CutPrefix(p, root)
		if !ok {
			continue
		}
		dir, rest, _ := strings.Cut(rest, "/")
		if dir == "" || dir == "lang" || strings.HasPrefix(dir, "-") {
			if in, ok := strings.CutPrefix(rest, "src/"); ok {
				return "Go toolchain source", in
			}
		}
	}
	for rest := strings.TrimPrefix(p, "/"); ; {
		d, r, ok := strings.Cut(rest, "/")
		if !ok {
			return "", ""
		}
		switch d {
		case "site-packages", "dist-packages", "node_modules":
			return d, r
		}
		rest = r
	}
}

// testDataTree returns the package tree holding p when p is published test
// data: below a fixture directory inside a package tree, or anywhere in
// /usr/share/doc. It returns "" otherwise: a directory named test elsewhere
// (WORKDIR /app/test) exempts nothing.
func testDataTree(p string) string {
	if strings.HasPrefix(p, "/usr/share/doc/") {
		return "/usr/share/doc"
	}
	tree, inside := packageTree(p)
	if tree == "" {
		return ""
	}
	for dir := path.Dir(inside); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if isFixtureDir(path.Base(dir)) {
			return tree
		}
	}
	return ""
}

// isSSHKeyName reports whether s is the name of an SSH private key file.
func isSSHKeyName(s string) bool {
	switch s {
	case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "id_xmss":
		return true
	}
	return false
}

var (
	npmToken    = regexp.MustCompile(`(?mi)^\s*[^#;\s]*(?:_authToken|_auth|_password)\s*=\s*["']?([^\s"']+)`)
	yarnToken   = regexp.MustCompile(`(?m)^\s*(?:npmAuthToken|npmAuthIdent)\s*:\s*["']?([^\s"']+)`)
	iniPassword = regexp.MustCompile(`(?mi)^\s*password\s*[:=]\s*["']?([^\s"']+)`)
	netrcPass   = regexp.MustCompile(`(?m)(?:^|\s)password\s+(\S+)`)
)

// isEnvExample reports whether s, the suffix of a .env.* file, names a
// template rather than settings.
func isEnvExample(s string) bool {
	switch s {
	case "example", "sample", "template", "dist", "tmpl", "defaults", "schema":
		return true
	}
	return false
}

// credentialSuffixes are the credential files known by name alone: path
// suffix and kind.
func credentialSuffixes() []struct{ suffix, kind string } {
	return []struct{ suffix, kind string }{
		{"/.aws/credentials", "aws-credentials"},
		{"/.git-credentials", "git-credentials"},
		{"/.pgpass", "pgpass"},
		{"/.htpasswd", "htpasswd"},
		{"/.kube/config", "kubeconfig"},
		{"/.vault-token", "vault-token"},
		{"/.gem/credentials", "rubygems-credentials"},
		{"/.cargo/credentials", "cargo-credentials"},
		{"/.cargo/credentials.toml", "cargo-credentials"},
		{"/.config/gh/hosts.yml", "github-cli-token"},
		{"/credentials.tfrc.json", "terraform-credentials"},
		{"/.config/gcloud/application_default_credentials.json", "gcloud-credentials"},
		{"/.config/gcloud/credentials.db", "gcloud-credentials"},
		{"/.azure/accessTokens.json", "azure-credentials"},
		{"/.azure/msal_token_cache.json", "azure-credentials"},
		{"/.s3cfg", "s3cmd-credentials"},
		{"/.boto", "boto-credentials"},
	}
}

// credentialName reports whether base is the last element of one of
// credentialSuffixes: a file of any other name ends with none of them,
// and an image's thousands of files are not compared with each.
func credentialName(base string) bool {
	switch base {
	case "credentials", ".git-credentials", ".pgpass", ".htpasswd", "config", ".vault-token", "credentials.toml",
		"hosts.yml", "credentials.tfrc.json", "application_default_credentials.json", "credentials.db",
		"accessTokens.json", "msal_token_cache.json", ".s3cfg", ".boto":
		return true
	}
	return false
}

// secretFileKind decides whether a regular file holds a credential, from its
// path, sniffed content facts and, for the files whose contents decide, the
// contents read returns (with false when they were not captured). It
// returns a short kind and a human explanation, or "" when it does not.
func secretFileKind(p string, e *layers.Entry, read func() ([]byte, bool)) (kind, why string) {
	if e.Size == 0 {
		return "", ""
	}
	return credentialKind(p, e, read)
}

func credentialKind(p string, e *layers.Entry, read func() ([]byte, bool)) (kind, why string) {
	base := path.Base(p)
	if k := e.Content.PrivateKey(); k != "" && !isSourceExt(path.Ext(base)) {
		return "private-key", "holds " + article(k) + " " + k + " block"
	}
	if isSSHKeyName(base) {
		return "ssh-private-key", "SSH private key file"
	}
	if path.Ext(base) == ".ppk" {
		return "putty-private-key", "PuTTY private key file"
	}
	if base == ".env" || (strings.HasPrefix(base, ".env.") && !isEnvExample(strings.TrimPrefix(base, ".env."))) {
		return "dotenv", "environment file with application settings and credentials"
	}
	// Credential files recognised by name alone: path suffix -> kind,
	// compared only for the few base names the suffixes end with.
	if credentialName(base) {
		for _, r := range credentialSuffixes() {
			if strings.HasSuffix(p, r.suffix) {
				return r.kind, "credential file"
			}
		}
	}
	// Files whose contents decide.
	check := func(kind string, found func([]byte) bool, what string) (string, string) {
		data, captured := read()
		if !captured {
			return kind, what + " (contents not inspected: too large to capture)"
		}
		if found(data) {
			return kind, what
		}
		return "", ""
	}
	switch {
	case strings.HasSuffix(p, "/.docker/config.json") || base == ".dockercfg":
		return check("docker-config", dockerAuths, "Docker registry credentials")
	case base == ".npmrc" || base == "npmrc" || base == ".yarnrc":
		return check("npmrc", matchValue(npmToken), "npm registry auth token")
	case base == ".yarnrc.yml":
		return check("yarnrc", matchValue(yarnToken), "Yarn registry auth token")
	case base == ".pypirc":
		return check("pypirc", matchValue(iniPassword), "PyPI password")
	case base == "pip.conf":
		return check("pip-conf", func(b []byte) bool {
			for _, t := range findTokens(string(b)) {
				if t.name == "url-credentials" {
					return true
				}
			}
			return false
		}, "package index URL with a password")
	case base == ".netrc" || base == "_netrc":
		return check("netrc", matchValue(netrcPass), "netrc password")
	case base == ".my.cnf":
		return check("mysql-config", matchValue(iniPassword), "MySQL client password")
	}
	return "", ""
}

// matchValue returns a predicate true when re matches with a group 1 value
// that is a credential (not a ${VAR} reference).
func matchValue(re *regexp.Regexp) func([]byte) bool {
	return func(b []byte) bool {
		for _, m := range re.FindAllSubmatch(b, -1) {
			if isSecretValue(string(m[1])) {
				return true
			}
		}
		return false
	}
}

// dockerAuths reports whether a Docker config.json or .dockercfg holds
// registry credentials (not only a credential helper).
func dockerAuths(b []byte) bool {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(b, &cfg) != nil {
		return false
	}
	entries := map[string]map[string]any{}
	if raw, ok := cfg["auths"]; ok {
		_ = json.Unmarshal(raw, &entries)
	} else {
		for k, raw := range cfg { // legacy .dockercfg: registry -> {auth, email}
			var e map[string]any
			if json.Unmarshal(raw, &e) == nil {
				entries[k] = e
			}
		}
	}
	for _, e := range entries {
		for _, k := range []string{"auth", "password", "identitytoken", "registrytoken"} {
			if s, ok := e[k].(string); ok && s != "" {
				return true
			}
		}
	}
	return false
}

// article is "a" or "an" for a key type as it is read aloud: a short
// all-capital initialism by its first letter's name (an RSA, a DSA, an EC),
// a word by its first letter (an OPENSSH, an ENCRYPTED, a PRIVATE).
func article(k string) string {
	word, _, _ := strings.Cut(k, " ")
	if word == "" {
		return "a"
	}
	vowelSound := "AEIOU"
	if len(word) <= 4 && word != "PRIVATE" && strings.ToUpper(word) == word {
		vowelSound = "AEFHILMNORSX"
	}
	if strings.ContainsRune(vowelSound, rune(word[0])) {
		return "an"
	}
	return "a"
}
