package workload

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgaudit/imgaudit/pkg/caps"
)

// hardened is a pod every cross-check passes with a non-root numeric image.
const hardened = `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {%s}
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
%s
  containers:
  - name: app
    image: reg.example/app@sha256:aaaa
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
%s
`

var goodImage = ImageFacts{Reference: "reg.example/app@sha256:aaaa", User: "10001"}

type got struct {
	ID        string
	Severity  Severity
	Category  Category
	Detail    string
	Path      string
	Mitigated bool
}

func run(t *testing.T, annotations, pod, container string, img ImageFacts) []got {
	t.Helper()
	s := decodeString(t, "p.yaml", fmt.Sprintf(hardened, annotations, pod, container))
	var out []got
	for _, f := range CrossCheck(s.Workloads[0].Effective(0), img) {
		out = append(out, got{f.ID, f.Severity, f.Category, f.Detail, f.Path, f.Mitigated})
	}
	return out
}

func fc(path string, eff bool, names ...string) FileCapability {
	return FileCapability{Path: path, Caps: caps.FileCaps{Revision: 2, Effective: eff, Permitted: capSet(names...)}}
}

func with(f func(*ImageFacts)) ImageFacts {
	i := goodImage
	f(&i)
	return i
}

// sc indents container securityContext additions (replacing keys of the
// hardened container is done by YAML's last-key-wins, which Decode keeps).
func sc(lines ...string) string {
	return "    securityContext:\n      allowPrivilegeEscalation: false\n      readOnlyRootFilesystem: true\n      capabilities: {drop: [ALL]}\n      " + strings.Join(lines, "\n      ")
}

func TestCrossCheck(t *testing.T) {
	uid0 := int64(0)
	tests := []struct {
		name                      string
		annotations, pod, contain string
		img                       ImageFacts
		want                      []got
	}{
		{name: "hardened", img: goodImage},

		// start-failure
		{name: "runAsNonRoot, non-numeric USER", img: with(func(i *ImageFacts) { i.User = "app" }), want: []got{
			{"IW-START-NONNUMERIC-USER", High, StartFailure, "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root", "", false}}},
		{name: "runAsNonRoot, user:group name", img: with(func(i *ImageFacts) { i.User = "nginx:nginx"; i.UID = new(int64(101)) }), want: []got{
			{"IW-START-NONNUMERIC-USER", High, StartFailure, "container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root", "", false}}},
		{name: "runAsNonRoot, no USER", img: with(func(i *ImageFacts) { i.User = "" }), want: []got{
			{"IW-START-IMAGE-ROOT", High, StartFailure, "container has runAsNonRoot and image will run as root", "", false}}},
		{name: "runAsNonRoot, USER 0:0", img: with(func(i *ImageFacts) { i.User = "0:0" }), want: []got{
			{"IW-START-IMAGE-ROOT", High, StartFailure, "container has runAsNonRoot and image will run as root", "", false}}},
		{name: "runAsNonRoot, runAsUser 0", contain: sc("runAsUser: 0"), img: goodImage, want: []got{
			{"IW-START-RUNASUSER-ROOT", High, StartFailure, "container's runAsUser breaks non-root policy", "", false}}},
		{name: "runAsNonRoot, uid out of range", img: with(func(i *ImageFacts) { i.User = "4294967296" }), want: []got{
			{"IW-START-INVALID-UID", High, StartFailure, "container has runAsNonRoot and image has an invalid user id (4294967296). (Must be 1-(2147483647))", "", false}}},
		{name: "runAsNonRoot, name, runAsUser set", contain: sc("runAsUser: 10001"), img: with(func(i *ImageFacts) { i.User = "app" })},
		{name: "drop ALL, entrypoint has +ep", img: with(func(i *ImageFacts) {
			i.Entrypoint = []string{"caddy"}
			i.FileCapabilities = []FileCapability{fc("usr/bin/caddy", true, "NET_BIND_SERVICE")}
		}), want: []got{
			{"IW-START-FILE-CAPABILITY", High, StartFailure, "exec /usr/bin/caddy: operation not permitted: its file capabilities CAP_NET_BIND_SERVICE (effective) include CAP_NET_BIND_SERVICE, outside the container's capability set", "/usr/bin/caddy", false}}},
		{name: "command overrides entrypoint, other binary has +ep", contain: "    command: [/bin/app]", img: with(func(i *ImageFacts) {
			i.Entrypoint = []string{"/usr/bin/caddy"}
			i.FileCapabilities = []FileCapability{fc("/usr/bin/caddy", true, "NET_BIND_SERVICE", "NET_ADMIN")}
		}), want: []got{
			{"IW-EXEC-FILE-CAPABILITY", Medium, Capabilities, "exec /usr/bin/caddy: operation not permitted: its file capabilities CAP_NET_BIND_SERVICE,CAP_NET_ADMIN (effective) include CAP_NET_BIND_SERVICE,CAP_NET_ADMIN, outside the container's capability set", "/usr/bin/caddy", false}}},
		{name: "added back, no_new_privs", contain: sc("capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}"), img: with(func(i *ImageFacts) {
			i.Entrypoint = []string{"/usr/bin/caddy"}
			i.FileCapabilities = []FileCapability{fc("/usr/bin/caddy", true, "NET_BIND_SERVICE")}
		}), want: []got{
			{"IW-FILE-CAPABILITY-NNP", Low, Capabilities, "/usr/bin/caddy carries CAP_NET_BIND_SERVICE; with no_new_privs a non-root process does not gain them", "/usr/bin/caddy", false}}},
		{name: "v3 bound to another root: ignored by the kernel", img: with(func(i *ImageFacts) {
			i.Entrypoint = []string{"/usr/bin/caddy"}
			i.FileCapabilities = []FileCapability{{"/usr/bin/caddy", caps.FileCaps{Revision: 3, Effective: true, Permitted: capSet("NET_BIND_SERVICE"), RootID: 100000}}}
		})},

		// effective-root
		{name: "root image, no runAsNonRoot", pod: "    runAsNonRoot: false", img: with(func(i *ImageFacts) { i.User = "root"; i.UID = &uid0 }), want: []got{
			{"IW-EFFECTIVE-ROOT", Critical, EffectiveRoot, `image USER "root" is root and no runAsUser is set`, "", false}}},
		{name: "root image, runAsUser 10001", pod: "    runAsUser: 10001", img: with(func(i *ImageFacts) { i.User = "" }), want: []got{
			{"IW-ROOT-IMAGE", High, EffectiveRoot, `image USER "" is root; runAsUser: 10001 overrides it`, "", true}}},
		{name: "runAsUser 0 without runAsNonRoot", pod: "    runAsNonRoot: false\n    runAsUser: 0", img: goodImage, want: []got{
			{"IW-EFFECTIVE-ROOT", Critical, EffectiveRoot, "runAsUser: 0", "", false}}},
		{name: "unresolved name", pod: "    runAsNonRoot: false", img: with(func(i *ImageFacts) { i.User = "ghost" }), want: []got{
			{"IW-UNVERIFIABLE-USER", Medium, EffectiveRoot, `image USER "ghost" could not be resolved to a uid (a name missing from /etc/passwd, or a group missing from /etc/group); no runAsUser`, "", false}}},

		// privilege-escalation
		{name: "setuid, no_new_privs", img: with(func(i *ImageFacts) {
			i.SetuidFiles = []string{"/usr/bin/su"}
			i.SetgidFiles = []string{"/usr/bin/wall"}
		}), want: []got{
			{"IW-SETUID-ESCALATION", High, PrivilegeEscalation, "/usr/bin/su is setuid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", "/usr/bin/su", true},
			{"IW-SETUID-ESCALATION", High, PrivilegeEscalation, "/usr/bin/wall is setgid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", "/usr/bin/wall", true}}},
		{name: "setuid, escalation allowed", contain: sc("allowPrivilegeEscalation: true"), img: with(func(i *ImageFacts) { i.SetuidFiles = []string{"/usr/bin/su"} }), want: []got{
			{"IW-SETUID-ESCALATION", High, PrivilegeEscalation, "/usr/bin/su is setuid and allowPrivilegeEscalation is not false", "/usr/bin/su", false}}},
		{name: "file capability, escalation allowed", contain: sc("allowPrivilegeEscalation: true", "capabilities: {drop: [ALL], add: [NET_RAW]}"), img: with(func(i *ImageFacts) {
			i.FileCapabilities = []FileCapability{fc("/usr/bin/ping", false, "NET_RAW")}
		}), want: []got{
			{"IW-FILECAP-ESCALATION", Medium, PrivilegeEscalation, "/usr/bin/ping carries CAP_NET_RAW and privilege escalation is allowed", "/usr/bin/ping", false}}},
		// A process that already runs as root gains nothing from setuid
		// files: effective root is the finding.
		{name: "setuid, effective root", pod: "    runAsNonRoot: false\n    runAsUser: 0", contain: sc("allowPrivilegeEscalation: true"),
			img: with(func(i *ImageFacts) { i.SetuidFiles = []string{"/usr/bin/su"} }), want: []got{
				{"IW-EFFECTIVE-ROOT", Critical, EffectiveRoot, "runAsUser: 0", "", false},
				{"IW-ALLOW-PRIVILEGE-ESCALATION", Low, PrivilegeEscalation, "allowPrivilegeEscalation: true", "", false}}},
		{name: "escalation allowed, nothing to escalate with", contain: sc("allowPrivilegeEscalation: true"), img: goodImage, want: []got{
			{"IW-ALLOW-PRIVILEGE-ESCALATION", Low, PrivilegeEscalation, "allowPrivilegeEscalation: true", "", false}}},

		// capabilities
		{name: "capabilities not dropped, dangerous and unknown added", contain: sc("capabilities: {add: [SYS_ADMIN, CAP_NET_RAW], drop: [CAP_CHOWN]}"), img: goodImage, want: []got{
			{"IW-CAPS-NOT-DROPPED", Low, Capabilities, "capabilities.drop does not contain ALL; the process keeps CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_SYS_ADMIN,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP", "", false},
			{"IW-CAPS-DANGEROUS", High, Capabilities, "capabilities.add: CAP_SYS_ADMIN", "", false},
			{"IW-CAPS-UNKNOWN", Medium, Capabilities, `capability "CAP_NET_RAW" is not a capability name the runtime knows`, "", false},
			{"IW-CAPS-UNKNOWN", Medium, Capabilities, `capability "CAP_CHOWN" is not a capability name the runtime knows`, "", false}}},

		// seccomp, apparmor
		{name: "no seccomp", pod: "    seccompProfile: null", img: goodImage, want: []got{
			{"IW-SECCOMP-UNCONFINED", Medium, Seccomp, "no seccompProfile on the container or the pod: Unconfined unless the kubelet runs with --seccomp-default", "", false}}},
		{name: "seccomp Unconfined on the container", contain: sc("seccompProfile: {type: Unconfined}"), img: goodImage, want: []got{
			{"IW-SECCOMP-UNCONFINED", Medium, Seccomp, "seccompProfile.type: Unconfined (set on the container)", "", false}}},
		{name: "AppArmor unconfined by annotation", annotations: "container.apparmor.security.beta.kubernetes.io/app: unconfined", img: goodImage, want: []got{
			{"IW-APPARMOR-UNCONFINED", Medium, AppArmor, "AppArmor profile Unconfined (set by the annotation)", "", false}}},

		// host-access
		{name: "privileged", contain: sc("privileged: true", "allowPrivilegeEscalation: true"), img: goodImage, want: []got{
			{"IW-PRIVILEGED", Critical, HostAccess, "privileged: true (every capability, every device, no seccomp or AppArmor confinement)", "", false}}},
		{name: "host namespaces and hostPath", pod: "  hostNetwork: true\n  hostPID: true\n  volumes: [{name: sock, hostPath: {path: /run/containerd/containerd.sock}}]",
			contain: "    volumeMounts: [{name: sock, mountPath: /run/c.sock, readOnly: true}]", img: goodImage, want: []got{
				{"IW-HOST-NAMESPACE", High, HostAccess, "hostNetwork: true", "", false},
				{"IW-HOST-NAMESPACE", High, HostAccess, "hostPID: true", "", false},
				{"IW-HOSTPATH", High, HostAccess, `volume "sock" is hostPath /run/containerd/containerd.sock, mounted at /run/c.sock read-only`, "", false}}},
		{name: "procMount Unmasked", contain: sc("procMount: Unmasked"), img: goodImage, want: []got{
			{"IW-PROC-UNMASKED", High, HostAccess, "procMount: Unmasked", "", false}}},

		// read-only-root
		{name: "writable root", contain: sc("readOnlyRootFilesystem: false"), img: goodImage, want: []got{
			{"IW-WRITABLE-ROOT", Low, ReadOnlyRoot, "readOnlyRootFilesystem is not true", "", false}}},
		{name: "read-only root, VOLUMEs", contain: "    volumeMounts: [{name: data, mountPath: /var/lib/data/}]", pod: "  volumes: [{name: data, emptyDir: {}}]",
			img: with(func(i *ImageFacts) { i.Volumes = []string{"/var/lib/data", "/var/cache/app"} }), want: []got{
				{"IW-READONLY-IMAGE-VOLUME", Info, ReadOnlyRoot, "image VOLUME /var/cache/app has no volumeMount: the runtime decides whether it is writable", "/var/cache/app", false}}},

		// service-account-token, mutable-reference
		{name: "token automounted", pod: "  automountServiceAccountToken: true", img: goodImage, want: []got{
			{"IW-SA-TOKEN", Low, ServiceAccountToken, "the pod sets automountServiceAccountToken: true", "", false}}},
		{name: "tag without digest", img: with(func(i *ImageFacts) { i.Reference = "nginx:1.27"; i.Digest = "sha256:bbbb" }), want: []got{
			{"IW-MUTABLE-REFERENCE", Medium, MutableReference, "nginx:1.27 names a tag: what runs may differ from what was audited (sha256:bbbb)", "", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, run(t, tt.annotations, tt.pod, tt.contain, tt.img)); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestChecksCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if seen[c.ID] || c.Title == "" || c.Remediation == "" || c.Category == "" {
			t.Errorf("bad entry %+v", c)
		}
		seen[c.ID] = true
		if c.Category == StartFailure && c.Docs == "" {
			t.Errorf("%s: a predicted start failure must quote where it happens", c.ID)
		}
	}
}

func TestRuntimeUser(t *testing.T) {
	for in, want := range map[string]string{"": "uid 0", "0": "uid 0", "1000:1000": "uid 1000", "app": "name app", "app:1000": "name app", "-5": "uid -5", ":100": "uid 0"} {
		uid, name := RuntimeUser(in)
		got := "name " + name
		if uid != nil {
			got = fmt.Sprintf("uid %d", *uid)
		}
		if got != want {
			t.Errorf("RuntimeUser(%q) = %s, want %s", in, got, want)
		}
	}
}
