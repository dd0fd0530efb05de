package workload

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/imgaudit/imgaudit/pkg/caps"
)

// ImageFacts is what an image audit knows about the image a container runs.
type ImageFacts struct {
	// Reference is the reference as the pod spec writes it; Digest the
	// digest of what was audited ("" when unknown).
	Reference, Digest string
	// User is the config's USER as written ("", "app", "1000", "app:app",
	// "1000:1000").
	User string
	// UID is User resolved through the image's /etc/passwd (nil when it
	// could not be resolved). The kubelet never resolves names: start
	// failures are predicted from User alone, as the runtime reports it.
	UID *int64
	// Entrypoint and Cmd are the config's.
	Entrypoint, Cmd []string
	// SetuidFiles and SetgidFiles are regular files of the final
	// filesystem with those mode bits.
	SetuidFiles, SetgidFiles []string
	// FileCapabilities are the final filesystem's files with a
	// security.capability attribute.
	FileCapabilities []FileCapability
	// Volumes are the config's VOLUMEs.
	Volumes []string
}

// FileCapability is one file carrying security.capability.
type FileCapability struct {
	Path string
	Caps caps.FileCaps
}

// Root reports whether the image user is root and whether that is known:
// an empty USER is root (the runtime's default), a numeric one is itself,
// a name is known only through UID.
func (f ImageFacts) Root() (root, known bool) {
	if uid, name := RuntimeUser(f.User); name == "" {
		return *uid == 0, true
	}
	if f.UID != nil {
		return *f.UID == 0, true
	}
	return false, false
}

// Numeric reports whether the kubelet can verify the user (USER empty or
// numeric before any ':').
func (f ImageFacts) Numeric() bool {
	_, name := RuntimeUser(f.User)
	return name == ""
}

// RuntimeUser is the user the kubelet sees for an image: the runtime's
// image status carries a uid when USER (before any ':') parses as an
// integer, else a username (containerd getUserFromImage); the kubelet
// treats neither as uid 0 (pkg/kubelet/kuberuntime/helpers.go
// getImageUser, "If non of them is set, treat it as root").
func RuntimeUser(user string) (uid *int64, name string) {
	u, _, _ := strings.Cut(user, ":")
	if u == "" {
		return new(int64), ""
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		return nil, u
	}
	return &n, ""
}

// Finding is one result of a cross-check.
type Finding struct {
	ID       string
	Severity Severity
	Category Category
	Title    string
	// Detail says why, with the values involved.
	Detail      string
	Remediation string
	// Path is the file in the image the finding is about, if any.
	Path string
	// Mitigated is set on an image finding that the spec neutralises; it
	// never fails a gate.
	Mitigated bool
}

// Check is a cross-check's catalogue entry.
type Check struct {
	ID          string
	Category    Category
	Severity    Severity
	Title       string
	Remediation string
	// Docs quotes where the behaviour comes from (kubelet, runtime, kernel).
	Docs string
}

// Checks returns the catalogue, in ID order.
func Checks() []Check {
	c := []Check{
		{"IW-START-NONNUMERIC-USER", StartFailure, High, "runAsNonRoot with a non-numeric image USER: the container never starts",
			"set runAsUser to the image user's uid, or make the image's USER numeric (USER 10001)",
			"pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot: \"container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root\"; generateContainerConfig fails and the container waits in CreateContainerConfigError."},
		{"IW-START-IMAGE-ROOT", StartFailure, High, "runAsNonRoot with a root image and no runAsUser: the container never starts",
			"set runAsUser to a non-zero uid, or give the image a non-root numeric USER",
			"pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot: \"container has runAsNonRoot and image will run as root\" (an image without USER counts as uid 0: helpers.go getImageUser); CreateContainerConfigError."},
		{"IW-START-RUNASUSER-ROOT", StartFailure, High, "runAsNonRoot with runAsUser 0: the container never starts",
			"remove runAsUser: 0 or runAsNonRoot",
			"pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot: \"container's runAsUser breaks non-root policy\"; CreateContainerConfigError."},
		{"IW-START-INVALID-UID", StartFailure, High, "runAsNonRoot with an image uid outside 0..2147483647: the container never starts",
			"give the image a valid numeric USER or set runAsUser",
			"pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot: \"container has runAsNonRoot and image has an invalid user id\"; CreateContainerConfigError."},
		{"IW-START-FILE-CAPABILITY", StartFailure, High, "the container's program has file capabilities outside its capability set: exec fails",
			"add the file's capabilities to securityContext.capabilities.add (after drop: [ALL]), or remove them from the file (setcap -r) and grant them another way",
			"Linux security/commoncap.c bprm_caps_from_vfs_caps: when the file's effective flag is set and its permitted set is not within the bounding set, execve returns EPERM (\"insufficient to execute correctly\"); the runtime reports exec … operation not permitted and the container fails with StartError/CrashLoopBackOff."},
		{"IW-EXEC-FILE-CAPABILITY", Capabilities, Medium, "a file-capable binary cannot be executed in this container",
			"add the file's capabilities to capabilities.add, or remove them from the file",
			"Linux security/commoncap.c bprm_caps_from_vfs_caps: execve of a file whose effective flag is set fails with EPERM when its permitted capabilities are not all in the bounding set."},
		{"IW-FILE-CAPABILITY-NNP", Capabilities, Low, "file capabilities are not granted under allowPrivilegeEscalation: false",
			"grant the capability with capabilities.add and run the program without setcap, or accept that it runs without it",
			"Linux no_new_privs (set by the runtime when allowPrivilegeEscalation is false: pkg/securitycontext/util.go AddNoNewPrivileges): execve does not add file capabilities to the permitted set of a non-root process."},
		{"IW-EFFECTIVE-ROOT", EffectiveRoot, Critical, "the container runs as root",
			"set runAsUser to a non-zero uid and runAsNonRoot: true, or give the image a non-root numeric USER", ""},
		{"IW-ROOT-IMAGE", EffectiveRoot, High, "the image runs as root",
			"give the image a non-root numeric USER", ""},
		{"IW-UNVERIFIABLE-USER", EffectiveRoot, Medium, "the image user is a name that could not be resolved: the effective uid is unknown",
			"use a numeric USER, or set runAsUser", ""},
		{"IW-SETUID-ESCALATION", PrivilegeEscalation, High, "setuid/setgid files with privilege escalation allowed",
			"set allowPrivilegeEscalation: false, or remove the setuid/setgid bits in the image",
			"With allowPrivilegeEscalation unset or true the kubelet does not ask for no_new_privs (pkg/securitycontext/util.go AddNoNewPrivileges), so execve of a setuid/setgid file changes the effective uid/gid."},
		{"IW-FILECAP-ESCALATION", PrivilegeEscalation, Medium, "file capabilities with privilege escalation allowed",
			"set allowPrivilegeEscalation: false, or remove the file capabilities",
			"Without no_new_privs, execve of a file with capabilities in the bounding set raises a non-root process's permitted set."},
		{"IW-ALLOW-PRIVILEGE-ESCALATION", PrivilegeEscalation, Low, "allowPrivilegeEscalation is not false",
			"set allowPrivilegeEscalation: false", ""},
		{"IW-CAPS-NOT-DROPPED", Capabilities, Low, "capabilities are not dropped",
			"drop: [ALL] and add back only what the program needs", ""},
		{"IW-CAPS-DANGEROUS", Capabilities, High, "a dangerous capability is added",
			"remove it from capabilities.add", ""},
		{"IW-CAPS-UNKNOWN", Capabilities, Medium, "a capability name the runtime does not know: it is ignored",
			"write capability names without the CAP_ prefix (NET_BIND_SERVICE)",
			"containerd's CRI plugin (WithCapabilities) upper-cases each name and prepends CAP_, so CAP_NET_RAW becomes CAP_CAP_NET_RAW, which runc ignores."},
		{"IW-SECCOMP-UNCONFINED", Seccomp, Medium, "no seccomp profile",
			"set seccompProfile.type: RuntimeDefault on the pod",
			"pkg/kubelet/kuberuntime/helpers.go getSeccompProfile: container field, else pod field, else Unconfined unless the kubelet runs with --seccomp-default."},
		{"IW-APPARMOR-UNCONFINED", AppArmor, Medium, "AppArmor is explicitly unconfined",
			"use appArmorProfile.type: RuntimeDefault or a Localhost profile",
			"pkg/security/apparmor/helpers.go GetProfile: container field, else the deprecated annotation, else pod field."},
		{"IW-PRIVILEGED", HostAccess, Critical, "privileged container",
			"remove privileged: true; add the single capabilities the program needs", ""},
		{"IW-HOST-NAMESPACE", HostAccess, High, "the pod shares a host namespace",
			"remove hostNetwork, hostPID and hostIPC", ""},
		{"IW-HOSTPATH", HostAccess, High, "the pod mounts a hostPath volume",
			"use an emptyDir, a configMap or a persistent volume", ""},
		{"IW-PROC-UNMASKED", HostAccess, High, "procMount: Unmasked",
			"remove procMount", ""},
		{"IW-WRITABLE-ROOT", ReadOnlyRoot, Low, "the root filesystem is writable",
			"set readOnlyRootFilesystem: true and mount an emptyDir where the program writes", ""},
		{"IW-READONLY-IMAGE-VOLUME", ReadOnlyRoot, Info, "an image VOLUME is not covered by a volumeMount",
			"mount an emptyDir (or a persistent volume) at the VOLUME path",
			"The kubelet does nothing with image VOLUMEs; containerd's CRI plugin (criService.volumeMounts) gives each VOLUME that no mount covers an anonymous writable directory under the container's root dir, so writes there succeed despite readOnlyRootFilesystem and are lost with the container. CRI-O's image_volumes setting decides (mkdir by default)."},
		{"IW-SA-TOKEN", ServiceAccountToken, Low, "the service account token is mounted",
			"set automountServiceAccountToken: false on the pod or its ServiceAccount unless the program calls the API", ""},
		{"IW-MUTABLE-REFERENCE", MutableReference, Medium, "the image reference has no digest",
			"pin the image by digest (name:tag@sha256:…)", ""},
	}
	slices.SortFunc(c, func(a, b Check) int { return strings.Compare(a.ID, b.ID) })
	return c
}

// dangerousCaps are the added capabilities that amount to host access.
const dangerousCaps caps.Set = 1<<12 | 1<<16 | 1<<17 | 1<<19 | 1<<21 | 1<<2 | 1<<25 | 1<<32 | 1<<33 | 1<<39 | 1<<38 | 1<<34

// CrossCheck checks a container's effective security context against its
// image. It is pure: same input, same findings, in a stable order.
func CrossCheck(e Effective, img ImageFacts) []Finding {
	cat := map[string]Check{}
	for _, c := range Checks() {
		cat[c.ID] = c
	}
	var out []Finding
	add := func(id, detail, file string, mitigated bool) {
		c := cat[id]
		out = append(out, Finding{ID: id, Severity: c.Severity, Category: c.Category, Title: c.Title,
			Detail: detail, Remediation: c.Remediation, Path: file, Mitigated: mitigated})
	}

	// Start failures from runAsNonRoot (verifyRunAsNonRoot, in its order).
	startFails := false
	if e.RunAsNonRoot {
		uid, name := RuntimeUser(img.User)
		switch {
		case e.RunAsUser != nil && *e.RunAsUser == 0:
			add("IW-START-RUNASUSER-ROOT", "container's runAsUser breaks non-root policy", "", false)
			startFails = true
		case e.RunAsUser != nil:
		case uid == nil:
			add("IW-START-NONNUMERIC-USER", fmt.Sprintf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root", name), "", false)
			startFails = true
		case *uid == 0:
			add("IW-START-IMAGE-ROOT", "container has runAsNonRoot and image will run as root", "", false)
			startFails = true
		case *uid < 0 || *uid > math.MaxInt32:
			add("IW-START-INVALID-UID", fmt.Sprintf("container has runAsNonRoot and image has an invalid user id (%d). (Must be 1-(%d))", *uid, math.MaxInt32), "", false)
			startFails = true
		}
	}

	// Effective user.
	runAsRoot := false
	imgRoot, known := img.Root()
	switch {
	case startFails:
	case e.RunAsUser != nil && *e.RunAsUser == 0:
		runAsRoot = true
		add("IW-EFFECTIVE-ROOT", "runAsUser: 0", "", false)
	case e.RunAsUser != nil:
		if known && imgRoot {
			add("IW-ROOT-IMAGE", fmt.Sprintf("image USER %q is root; runAsUser: %d overrides it", img.User, *e.RunAsUser), "", true)
		}
	case !known:
		add("IW-UNVERIFIABLE-USER", fmt.Sprintf("image USER %q could not be resolved to a uid (a name missing from /etc/passwd, or a group missing from /etc/group); no runAsUser", img.User), "", false)
	case imgRoot:
		runAsRoot = true
		add("IW-EFFECTIVE-ROOT", fmt.Sprintf("image USER %q is root and no runAsUser is set", img.User), "", false)
	}

	// File capabilities.
	argv0 := program(e, img)
	for _, fc := range img.FileCapabilities {
		if fc.Caps.Revision == 3 && fc.Caps.RootID != 0 && e.Pod.HostUsers {
			continue // bound to another user namespace's root: the kernel ignores it
		}
		fc.Path = path.Clean("/" + fc.Path)
		missing := fc.Caps.Permitted &^ e.Bounding
		switch {
		case fc.Caps.Effective && missing != 0:
			d := fmt.Sprintf("exec %s: operation not permitted: its file capabilities %s (effective) include %s, outside the container's capability set", fc.Path, fc.Caps.Permitted, missing)
			if argv0 != "" && samePath(argv0, fc.Path) {
				add("IW-START-FILE-CAPABILITY", d, fc.Path, false)
			} else {
				add("IW-EXEC-FILE-CAPABILITY", d, fc.Path, false)
			}
		case e.NoNewPrivs && !runAsRoot && fc.Caps.Permitted != 0:
			add("IW-FILE-CAPABILITY-NNP", fmt.Sprintf("%s carries %s; with no_new_privs a non-root process does not gain them", fc.Path, fc.Caps.Permitted), fc.Path, false)
		case !runAsRoot && fc.Caps.Permitted != 0:
			// Never mitigated: with no_new_privs the case above applies.
			add("IW-FILECAP-ESCALATION", fmt.Sprintf("%s carries %s and privilege escalation is allowed", fc.Path, fc.Caps.Permitted), fc.Path, false)
		}
	}

	// setuid/setgid: a process that already runs as root gains nothing
	// from them (IW-EFFECTIVE-ROOT says what matters), as for file
	// capabilities above.
	escalates := len(out)
	if !runAsRoot {
		for _, f := range img.SetuidFiles {
			add("IW-SETUID-ESCALATION", escalationDetail(f, "setuid", e.NoNewPrivs), f, e.NoNewPrivs)
		}
		for _, f := range img.SetgidFiles {
			add("IW-SETUID-ESCALATION", escalationDetail(f, "setgid", e.NoNewPrivs), f, e.NoNewPrivs)
		}
	}
	escalates = len(out) - escalates
	for _, f := range out {
		if f.ID == "IW-FILECAP-ESCALATION" {
			escalates++
		}
	}
	if !e.NoNewPrivs && escalates == 0 && !e.Privileged {
		add("IW-ALLOW-PRIVILEGE-ESCALATION", allowPEDetail(e.AllowPrivilegeEscalation), "", false)
	}

	// Capabilities as written.
	if e.Privileged {
		add("IW-PRIVILEGED", "privileged: true (every capability, every device, no seccomp or AppArmor confinement)", "", false)
	} else {
		dropsAll := slices.ContainsFunc(e.Drop, func(c corev1.Capability) bool { return strings.EqualFold(string(c), "ALL") })
		if !dropsAll {
			add("IW-CAPS-NOT-DROPPED", "capabilities.drop does not contain ALL; the process keeps "+e.Bounding.String(), "", false)
		}
		for _, c := range e.Add {
			if strings.EqualFold(string(c), "ALL") {
				add("IW-CAPS-DANGEROUS", "capabilities.add: ALL", "", false)
				continue
			}
			if n, ok := runtimeCap(c); ok && dangerousCaps.Has(n) {
				add("IW-CAPS-DANGEROUS", "capabilities.add: "+caps.Name(n), "", false)
			}
		}
		for _, l := range [][]corev1.Capability{e.Add, e.Drop} {
			for _, c := range l {
				if _, ok := runtimeCap(c); !ok && !strings.EqualFold(string(c), "ALL") {
					add("IW-CAPS-UNKNOWN", fmt.Sprintf("capability %q is not a capability name the runtime knows", string(c)), "", false)
				}
			}
		}
	}

	// Confinement.
	if !e.Privileged {
		switch e.Seccomp.Type {
		case "":
			add("IW-SECCOMP-UNCONFINED", "no seccompProfile on the container or the pod: Unconfined unless the kubelet runs with --seccomp-default", "", false)
		case string(corev1.SeccompProfileTypeUnconfined):
			add("IW-SECCOMP-UNCONFINED", "seccompProfile.type: Unconfined (set on the "+e.Seccomp.Source+")", "", false)
		}
		if e.AppArmor.Type == string(corev1.AppArmorProfileTypeUnconfined) {
			add("IW-APPARMOR-UNCONFINED", "AppArmor profile Unconfined (set by the "+e.AppArmor.Source+")", "", false)
		}
	}
	if e.ProcMount == corev1.UnmaskedProcMount {
		add("IW-PROC-UNMASKED", "procMount: Unmasked", "", false)
	}

	// Host access.
	for _, h := range []struct {
		on   bool
		name string
	}{{e.Pod.HostNetwork, "hostNetwork"}, {e.Pod.HostPID, "hostPID"}, {e.Pod.HostIPC, "hostIPC"}} {
		if h.on {
			add("IW-HOST-NAMESPACE", h.name+": true", "", false)
		}
	}
	for _, h := range e.Pod.HostPathVolumes {
		mounted := ""
		for _, m := range e.Mounts {
			if m.Name == h.Volume {
				mounted = fmt.Sprintf(", mounted at %s", m.MountPath)
				if m.ReadOnly {
					mounted += " read-only"
				}
			}
		}
		add("IW-HOSTPATH", fmt.Sprintf("volume %q is hostPath %s%s", h.Volume, h.Path, mounted), "", false)
	}

	// Root filesystem.
	if !e.ReadOnlyRootFilesystem {
		add("IW-WRITABLE-ROOT", "readOnlyRootFilesystem is not true", "", false)
	} else {
		for _, v := range img.Volumes {
			if !covered(v, e.Mounts) {
				add("IW-READONLY-IMAGE-VOLUME", fmt.Sprintf("image VOLUME %s has no volumeMount: the runtime decides whether it is writable", v), v, false)
			}
		}
	}

	if e.Pod.AutomountToken {
		src := map[string]string{"pod": "the pod sets automountServiceAccountToken: true",
			"serviceAccount": fmt.Sprintf("ServiceAccount %q sets automountServiceAccountToken: true", e.Pod.ServiceAccount),
			"default":        fmt.Sprintf("automountServiceAccountToken is not set on the pod nor on ServiceAccount %q", e.Pod.ServiceAccount)}[e.Pod.AutomountSource]
		add("IW-SA-TOKEN", src, "", false)
	}

	if img.Reference != "" && !strings.Contains(img.Reference, "@") {
		d := fmt.Sprintf("%s names a tag: what runs may differ from what was audited", img.Reference)
		if img.Digest != "" {
			d += " (" + img.Digest + ")"
		}
		add("IW-MUTABLE-REFERENCE", d, "", false)
	}
	return out
}

func escalationDetail(file, bit string, nnp bool) string {
	if nnp {
		return fmt.Sprintf("%s is %s; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", file, bit)
	}
	return fmt.Sprintf("%s is %s and allowPrivilegeEscalation is not false", file, bit)
}

func allowPEDetail(v *bool) string {
	if v == nil {
		return "allowPrivilegeEscalation is not set (the kubelet does not ask for no_new_privs)"
	}
	return "allowPrivilegeEscalation: true"
}

// program is the path the runtime executes first: the container's command,
// else the image entrypoint, else args (which replace Cmd), else Cmd.
func program(e Effective, img ImageFacts) string {
	switch {
	case len(e.Command) > 0:
		return e.Command[0]
	case len(img.Entrypoint) > 0:
		return img.Entrypoint[0]
	case len(e.Args) > 0:
		return e.Args[0]
	case len(img.Cmd) > 0:
		return img.Cmd[0]
	}
	return ""
}

// samePath matches argv[0] against an image path: exactly when absolute,
// else by name in the usual PATH directories.
func samePath(argv0, file string) bool {
	file = path.Clean("/" + file)
	if strings.HasPrefix(argv0, "/") {
		return path.Clean(argv0) == file
	}
	if strings.Contains(argv0, "/") {
		return false
	}
	dir, base := path.Split(file)
	return base == argv0 && slices.Contains([]string{"/usr/local/sbin/", "/usr/local/bin/", "/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}, dir)
}

// covered reports whether a volumeMount is at the VOLUME path (containerd's
// isInCRIMounts compares cleaned paths).
func covered(vol string, mounts []corev1.VolumeMount) bool {
	v := path.Clean("/" + vol)
	for _, m := range mounts {
		if path.Clean("/"+m.MountPath) == v {
			return true
		}
	}
	return false
}
