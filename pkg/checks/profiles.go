package checks

import "slices"

// Profile is a named gate, in the way Pod Security Standards name theirs:
// the checks whose findings (at low severity or above) fail an image,
// whatever their severity, so that a gate says what it guarantees rather
// than a number.
type Profile struct {
	Name string `json:"name"`
	// Summary says what an image that passes guarantees.
	Summary string `json:"summary"`
	// Checks are the IDs of the checks whose findings fail the profile.
	Checks []string `json:"checks"`
}

// Profile names.
const (
	ProfileBaseline = "baseline"
	ProfileHardened = "hardened"
)

// baselineChecks are what an attacker who lands in the container can use
// at once: a root or unprovable user, setuid/setgid files and file
// capabilities to raise privileges with, credentials, an SSH server,
// accounts with or without passwords, and layer entries that escape the
// image root. Every check whose own severity is high or critical is here.
func baselineChecks() []string {
	return []string{
		"IA-ROOT-USER", "IA-USER-UNKNOWN", "IA-USER-NAME",
		"IA-SETUID", "IA-SETGID", "IA-FILE-CAPABILITY",
		"IA-SECRET-ENV", "IA-SECRET-HISTORY", "IA-SECRET-FILE",
		"IA-SSH-SERVER", "IA-PASSWORD", "IA-PATH-ESCAPE",
	}
}

// Profiles returns the profiles, the least strict first. Each contains
// the checks of the ones before it.
func Profiles() []Profile {
	baseline := baselineChecks()
	hardened := append(slices.Clone(baseline),
		"IA-SHELL", "IA-PKG-MANAGER", "IA-NETWORK-TOOL", "IA-PERMISSION-TOOL", "IA-PRIVILEGE-TOOL",
		"IA-DEBUG-TOOL", "IA-BASE", "IA-WORLD-WRITABLE")
	return []Profile{
		{Name: ProfileBaseline, Summary: "no root or unprovable user, no setuid/setgid file or file capability, no credential, " +
			"no SSH server, no account password, no layer entry outside the image root", Checks: baseline},
		{Name: ProfileHardened, Summary: "baseline, and nothing an attacker can work with: no shell, package manager, network, " +
			"permission, privilege or debugging tool, no world-writable file, a distroless or minimal base", Checks: hardened},
	}
}

// ProfileByName returns the profile named name.
func ProfileByName(name string) (Profile, bool) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// ProfileNames lists the profile names, the least strict first.
func ProfileNames() []string {
	var names []string
	for _, p := range Profiles() {
		names = append(names, p.Name)
	}
	return names
}

// profilesOf returns the names of the profiles that contain check id.
func profilesOf(id string) []string {
	var out []string
	for _, p := range Profiles() {
		if slices.Contains(p.Checks, id) {
			out = append(out, p.Name)
		}
	}
	return out
}
