package checks

import (
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// knownIDs freezes the catalogue's IDs: an ID may be added, never renamed or
// reused for another check.
var knownIDs = []string{
	"IA-ROOT-USER", "IA-USER-UNKNOWN", "IA-USER-NAME",
	"IA-SHELL", "IA-PKG-MANAGER", "IA-NETWORK-TOOL", "IA-PERMISSION-TOOL", "IA-PRIVILEGE-TOOL", "IA-DEBUG-TOOL", "IA-BUILD-TOOL", "IA-SSH-SERVER",
	"IA-SETUID", "IA-SETGID", "IA-FILE-CAPABILITY", "IA-WORLD-WRITABLE", "IA-BASE",
	"IA-SECRET-ENV", "IA-SECRET-HISTORY", "IA-SECRET-FILE", "IA-PASSWORD",
	"IA-HEALTHCHECK", "IA-PACKAGE-RECORD", "IA-PATH-ESCAPE", "IA-LAYER-ANOMALY",
}

var categories = []Category{
	CategoryShell, CategoryPackageManager, CategoryNetworkTool, CategoryPermissionTool, CategoryPrivilegeTool,
	CategoryDebugTool, CategoryBuildTool, CategorySSHServer, CategorySetuid, CategorySetgid, CategoryFileCapability, CategoryWorldWritable,
	CategoryRootUser, CategoryUserUnverifiable, CategoryBase, CategorySecret, CategoryPassword, CategoryHealthcheck,
	CategoryPackageRecord, CategorySuspiciousPath,
}

func TestCatalogue(t *testing.T) {
	idFormat := regexp.MustCompile(`^IA-[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)
	var ids []string
	for _, c := range All() {
		m := c.Meta()
		ids = append(ids, m.ID)
		if !idFormat.MatchString(m.ID) {
			t.Errorf("%s: ID does not match %s", m.ID, idFormat)
		}
		if m.Title == "" || m.Rationale == "" || m.Remediation == "" {
			t.Errorf("%s: title, rationale and remediation are required: %+v", m.ID, m)
		}
		// The fix list of an 80-column table gives a fix 58 columns.
		if n := utf8.RuneCountInString(m.Fix); n == 0 || n > 58 || strings.ContainsAny(m.Fix, "\n\t") {
			t.Errorf("%s: fix %q: want one line of 1 to 58 characters", m.ID, m.Fix)
		}
		if !slices.Contains(categories, m.Category) {
			t.Errorf("%s: unknown category %q", m.ID, m.Category)
		}
		if _, err := m.Severity.MarshalText(); err != nil {
			t.Errorf("%s: %v", m.ID, err)
		}
		for _, n := range m.Needs {
			if _, err := path.Match(strings.TrimPrefix(strings.TrimSuffix(n, "/**"), "**/"), "/x"); err != nil || !strings.HasPrefix(n, "/") && !strings.HasPrefix(n, "**/") {
				t.Errorf("%s: bad capture pattern %q", m.ID, n)
			}
		}
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	if c := slices.Compact(sorted); len(c) != len(ids) {
		t.Errorf("duplicate check IDs in %v", ids)
	}
	if d := cmp.Diff(knownIDs, ids); d != "" {
		t.Errorf("catalogue IDs changed (-known +now); never rename or reuse an ID:\n%s", d)
	}
}

// TestToolCategoriesDisjoint keeps every command name in one category.
func TestToolCategoriesDisjoint(t *testing.T) {
	sets := map[string]*toolSet{
		"shell": shellTools(), "package-manager": packageManagerTools(), "network-tool": networkTools(),
		"permission-tool": permissionTools(), "privilege-tool": privilegeTools(), "debug-tool": debugTools(),
		"build-tool": buildTools(), "ssh-server": sshServerTools(),
	}
	for name, s := range sets {
		for tool := range s.names {
			for other, o := range sets {
				if other != name && o.match(tool) {
					t.Errorf("%q of %s also matches %s", tool, name, other)
				}
			}
		}
	}
}

func TestToolSetMatch(t *testing.T) {
	for _, tc := range []struct {
		set  *toolSet
		name string
		want bool
	}{
		{packageManagerTools(), "pip", true},
		{packageManagerTools(), "pip3", true},
		{packageManagerTools(), "pip3.11", true},
		{packageManagerTools(), "easy_install-3.8", true},
		{packageManagerTools(), "dnf-3", true},
		{packageManagerTools(), "dpkg-query", true},
		{packageManagerTools(), "dpkg-", false},
		{packageManagerTools(), "pipe", false},
		{packageManagerTools(), "python3", false},
		{packageManagerTools(), "update-alternatives", false},
		{networkTools(), "ping6", true},
		{networkTools(), "nc.openbsd", true},
		{networkTools(), "ncurses6-config", false},
		{networkTools(), "ipcalc", false},
		{networkTools(), "hostname", false},
		{shellTools(), "bash", true},
		{shellTools(), "bashbug", false},
		{shellTools(), "shred", false},
		{buildTools(), "x86_64-linux-gnu-gcc-12", true},
		{buildTools(), "x86_64-pc-linux-gnu-g++", true},
		{buildTools(), "gcc-ar-12", false},
		{buildTools(), "clang-format-15", false},
		{buildTools(), "c++", true},
		{buildTools(), "g++-12", true},
		{sshServerTools(), "ssh", false},
	} {
		if got := tc.set.match(tc.name); got != tc.want {
			t.Errorf("match(%q) = %v, want %v (list %v)", tc.name, got, tc.want, tc.set.list[:3])
		}
	}
}

func TestStripVersion(t *testing.T) {
	for in, want := range map[string]string{
		"pip3.11": "pip", "pip3": "pip", "gcc-12": "gcc", "g++-12": "g++", "ping6": "ping", "dnf-3": "dnf",
		"python3-config": "python3-config", "ld.11": "ld.11", "a..1": "a..1", "12": "12", "-1": "-1", "x1.": "x1.",
		"bash": "bash", "zsh-5.9": "zsh", "sh": "sh", "": "",
	} {
		if got := stripVersion(in); got != want {
			t.Errorf("stripVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// checkFiles maps each check to its source file stem: every check has
// <stem>.go and <stem>_test.go.
var checkFiles = map[string]string{
	"IA-ROOT-USER": "root_user", "IA-USER-UNKNOWN": "user_unknown", "IA-USER-NAME": "user_name",
	"IA-SHELL": "shell", "IA-PKG-MANAGER": "package_manager", "IA-NETWORK-TOOL": "network_tool",
	"IA-PERMISSION-TOOL": "permission_tool", "IA-PRIVILEGE-TOOL": "privilege_tool", "IA-DEBUG-TOOL": "debug_tool",
	"IA-BUILD-TOOL": "build_tool", "IA-SSH-SERVER": "ssh_server", "IA-SETUID": "setuid", "IA-SETGID": "setgid", "IA-FILE-CAPABILITY": "file_capability",
	"IA-WORLD-WRITABLE": "world_writable", "IA-BASE": "base_image", "IA-SECRET-ENV": "secret_env",
	"IA-SECRET-HISTORY": "secret_history", "IA-SECRET-FILE": "secret_file", "IA-PASSWORD": "shadow_password",
	"IA-HEALTHCHECK": "healthcheck", "IA-PACKAGE-RECORD": "package_record", "IA-PATH-ESCAPE": "path_escape",
	"IA-LAYER-ANOMALY": "layer_anomaly",
}

func TestOneFileAndOneTestPerCheck(t *testing.T) {
	for _, c := range All() {
		id := c.Meta().ID
		stem, ok := checkFiles[id]
		if !ok {
			t.Errorf("%s: no source file listed in checkFiles", id)
			continue
		}
		for _, f := range []string{stem + ".go", stem + "_test.go"} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Errorf("%s: %v", id, err)
				continue
			}
			if !strings.HasSuffix(f, "_test.go") && !strings.Contains(string(b), `"`+id+`"`) {
				t.Errorf("%s: %s does not define it", id, f)
			}
		}
	}
}
