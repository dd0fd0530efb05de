package workload

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/imgaudit/imgaudit/pkg/caps"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// Profile is an effective seccomp or AppArmor profile and where it came from.
type Profile struct {
	// Type is RuntimeDefault, Localhost or Unconfined; "" when nothing set
	// one (see Source).
	Type string
	// Localhost is the profile name of a Localhost profile.
	Localhost string
	// Source is "container", "pod", "annotation" or "" (not set anywhere:
	// the kubelet's default applies).
	Source string
}

// Effective is a container's effective security context: pod-level merged
// with container-level as the kubelet does, plus the pod facts the
// cross-checks need.
type Effective struct {
	Container string
	Type      ContainerType

	// From securityContext, merged as k8s.io/kubernetes
	// pkg/securitycontext/util.go DetermineEffectiveSecurityContext merges
	// them: the pod's runAsUser, runAsGroup, runAsNonRoot (and SELinux and
	// Windows options) are the defaults; every field set on the container
	// wins.
	RunAsUser, RunAsGroup    *int64
	RunAsNonRoot             bool
	Privileged               bool
	AllowPrivilegeEscalation *bool
	// NoNewPrivs is what the kubelet asks of the runtime
	// (pkg/securitycontext/util.go AddNoNewPrivileges): true only when
	// allowPrivilegeEscalation is explicitly false.
	NoNewPrivs             bool
	ReadOnlyRootFilesystem bool
	// ProcMount is Default unless the container set Unmasked.
	ProcMount corev1.ProcMountType
	// Add and Drop are the capabilities as written on the container (the
	// pod level has none).
	Add, Drop []corev1.Capability
	// Bounding is the capability bounding set the runtime gives the
	// process: every capability when privileged, else the runtime default
	// set (DefaultCapabilities) or all when add has ALL, emptied by drop
	// ALL, plus each add, minus each drop — the order containerd's CRI
	// plugin (WithCapabilities) applies them.
	Bounding caps.Set

	// Seccomp follows pkg/kubelet/kuberuntime/helpers.go getSeccompProfile:
	// container field, else pod field, else the kubelet default
	// (Unconfined unless the kubelet runs with --seccomp-default).
	// The alpha annotations are no longer read by the kubelet.
	Seccomp Profile
	// AppArmor follows pkg/security/apparmor/helpers.go GetProfile:
	// container field, else the deprecated
	// container.apparmor.security.beta.kubernetes.io/<name> annotation,
	// else pod field, else unset (the runtime applies its default profile
	// on AppArmor hosts).
	AppArmor Profile

	// Command and Args are the container's (they decide which program the
	// runtime executes first).
	Command, Args []string
	// Mounts are the container's volumeMounts.
	Mounts []corev1.VolumeMount
	Pod    PodFacts

	// From says where each security context value came from.
	From report.SecurityContextSources
}

// PodFacts are the pod-level facts that concern every container.
type PodFacts struct {
	HostNetwork, HostPID, HostIPC bool
	// HostUsers is false when the pod runs in a user namespace.
	HostUsers       bool
	HostPathVolumes []HostPath
	Volumes         []corev1.Volume
	ServiceAccount  string
	// AutomountToken is whether the service account token is mounted:
	// the pod's automountServiceAccountToken, else the ServiceAccount's
	// (when the input declared it), else true — the order of the
	// ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount
	// shouldAutomount). AutomountSource is "pod", "serviceAccount" or
	// "default".
	AutomountToken  bool
	AutomountSource string
}

// HostPath is a hostPath volume.
type HostPath struct {
	Volume, Path, Type string
}

// DefaultCapabilities is the capability set containerd and Docker give a
// non-privileged container (containerd pkg/oci defaultUnixCaps). CRI-O's
// default is smaller (no MKNOD, NET_RAW, SYS_CHROOT, AUDIT_WRITE, SETFCAP).
const DefaultCapabilities caps.Set = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 |
	1<<10 | 1<<13 | 1<<18 | 1<<27 | 1<<29 | 1<<31

// ApparmorAnnotationPrefix is the deprecated per-container AppArmor
// annotation.
const ApparmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

// Effective computes the effective security context of container i of w.
func (w *Workload) Effective(i int) Effective {
	c := &w.Containers[i]
	ps, cs := w.PodSpec.SecurityContext, c.Spec.SecurityContext
	if ps == nil {
		ps = &corev1.PodSecurityContext{}
	}
	if cs == nil {
		cs = &corev1.SecurityContext{}
	}
	e := Effective{Container: c.Spec.Name, Type: c.Type, ProcMount: corev1.DefaultProcMount, Mounts: c.Spec.VolumeMounts, Command: c.Spec.Command, Args: c.Spec.Args}
	e.RunAsUser = firstInt(cs.RunAsUser, ps.RunAsUser)
	e.RunAsGroup = firstInt(cs.RunAsGroup, ps.RunAsGroup)
	e.RunAsNonRoot = deref1(firstBool(cs.RunAsNonRoot, ps.RunAsNonRoot))
	e.From = report.SecurityContextSources{
		RunAsUser:                source(cs.RunAsUser != nil, ps.RunAsUser != nil),
		RunAsGroup:               source(cs.RunAsGroup != nil, ps.RunAsGroup != nil),
		RunAsNonRoot:             source(cs.RunAsNonRoot != nil, ps.RunAsNonRoot != nil),
		AllowPrivilegeEscalation: source(cs.AllowPrivilegeEscalation != nil, false),
		Privileged:               source(cs.Privileged != nil, false),
		ReadOnlyRootFilesystem:   source(cs.ReadOnlyRootFilesystem != nil, false),
		ProcMount:                source(cs.ProcMount != nil, false),
		Capabilities:             source(cs.Capabilities != nil, false),
		SeccompProfile:           "default",
		AppArmorProfile:          "default",
	}
	e.Privileged = deref1(cs.Privileged)
	e.AllowPrivilegeEscalation = cs.AllowPrivilegeEscalation
	e.NoNewPrivs = cs.AllowPrivilegeEscalation != nil && !*cs.AllowPrivilegeEscalation
	e.ReadOnlyRootFilesystem = deref1(cs.ReadOnlyRootFilesystem)
	if cs.ProcMount != nil {
		e.ProcMount = *cs.ProcMount
	}
	if cs.Capabilities != nil {
		e.Add, e.Drop = cs.Capabilities.Add, cs.Capabilities.Drop
	}
	e.Bounding = bounding(e.Privileged, e.Add, e.Drop)

	switch {
	case cs.SeccompProfile != nil:
		e.Seccomp = seccomp(cs.SeccompProfile, "container")
	case ps.SeccompProfile != nil:
		e.Seccomp = seccomp(ps.SeccompProfile, "pod")
	}
	switch {
	case cs.AppArmorProfile != nil:
		e.AppArmor = apparmor(cs.AppArmorProfile, "container")
	case w.PodMeta.Annotations[ApparmorAnnotationPrefix+c.Spec.Name] != "":
		v := w.PodMeta.Annotations[ApparmorAnnotationPrefix+c.Spec.Name]
		switch {
		case v == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
			e.AppArmor = Profile{Type: string(corev1.AppArmorProfileTypeRuntimeDefault), Source: "annotation"}
		case v == corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
			e.AppArmor = Profile{Type: string(corev1.AppArmorProfileTypeUnconfined), Source: "annotation"}
		case strings.HasPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix):
			e.AppArmor = Profile{Type: string(corev1.AppArmorProfileTypeLocalhost), Localhost: strings.TrimPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix), Source: "annotation"}
		}
	case ps.AppArmorProfile != nil:
		e.AppArmor = apparmor(ps.AppArmorProfile, "pod")
	}
	if e.Seccomp.Source != "" {
		e.From.SeccompProfile = e.Seccomp.Source
	}
	if e.AppArmor.Source != "" {
		e.From.AppArmorProfile = e.AppArmor.Source
	}
	e.Pod = w.podFacts()
	return e
}

// source names where a value came from: the container, else the pod, else
// the default.
func source(container, pod bool) string {
	switch {
	case container:
		return "container"
	case pod:
		return "pod"
	}
	return "default"
}

// Report is the effective security context as the report carries it.
func (e Effective) Report() report.SecurityContext {
	sc := report.SecurityContext{
		RunAsUser: e.RunAsUser, RunAsGroup: e.RunAsGroup, RunAsNonRoot: e.RunAsNonRoot,
		AllowPrivilegeEscalation: e.AllowPrivilegeEscalation, NoNewPrivs: e.NoNewPrivs,
		Privileged: e.Privileged, ReadOnlyRootFilesystem: e.ReadOnlyRootFilesystem,
		ProcMount:       string(e.ProcMount),
		Capabilities:    report.Capabilities{Add: capNames(e.Add), Drop: capNames(e.Drop), Bounding: e.Bounding.Names()},
		SeccompProfile:  report.Profile{Type: e.Seccomp.Type, LocalhostProfile: e.Seccomp.Localhost},
		AppArmorProfile: report.Profile{Type: e.AppArmor.Type, LocalhostProfile: e.AppArmor.Localhost},
		From:            e.From,
	}
	if sc.AllowPrivilegeEscalation != nil {
		v := *sc.AllowPrivilegeEscalation
		sc.AllowPrivilegeEscalation = &v
	}
	return sc
}

func capNames(l []corev1.Capability) []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, c := range l {
		out[i] = string(c)
	}
	return out
}

func (w *Workload) podFacts() PodFacts {
	s := &w.PodSpec
	p := PodFacts{HostNetwork: s.HostNetwork, HostPID: s.HostPID, HostIPC: s.HostIPC, HostUsers: s.HostUsers == nil || *s.HostUsers, Volumes: s.Volumes}
	for _, v := range s.Volumes {
		if v.HostPath != nil {
			t := ""
			if v.HostPath.Type != nil {
				t = string(*v.HostPath.Type)
			}
			p.HostPathVolumes = append(p.HostPathVolumes, HostPath{Volume: v.Name, Path: v.HostPath.Path, Type: t})
		}
	}
	p.ServiceAccount = s.ServiceAccountName
	if p.ServiceAccount == "" {
		p.ServiceAccount = s.DeprecatedServiceAccount
	}
	if p.ServiceAccount == "" {
		p.ServiceAccount = "default"
	}
	switch {
	case s.AutomountServiceAccountToken != nil:
		p.AutomountToken, p.AutomountSource = *s.AutomountServiceAccountToken, "pod"
	case w.ServiceAccount != nil && w.ServiceAccount.AutomountServiceAccountToken != nil:
		p.AutomountToken, p.AutomountSource = *w.ServiceAccount.AutomountServiceAccountToken, "serviceAccount"
	default:
		p.AutomountToken, p.AutomountSource = true, "default"
	}
	return p
}

// bounding computes the runtime's capability set.
func bounding(privileged bool, add, drop []corev1.Capability) caps.Set {
	if privileged {
		return caps.All
	}
	has := func(l []corev1.Capability, s string) bool {
		return slices.ContainsFunc(l, func(c corev1.Capability) bool { return strings.EqualFold(string(c), s) })
	}
	set := DefaultCapabilities
	if has(add, "ALL") {
		set = caps.All
	}
	if has(drop, "ALL") {
		set = 0
	}
	for _, c := range add {
		if n, ok := runtimeCap(c); ok {
			set |= 1 << n
		}
	}
	for _, c := range drop {
		if n, ok := runtimeCap(c); ok {
			set &^= 1 << n
		}
	}
	return set
}

// runtimeCap reads a capability as containerd does: upper-cased, "CAP_"
// prepended (so "CAP_NET_RAW" in a spec names nothing the kernel knows).
func runtimeCap(c corev1.Capability) (int, bool) {
	u := strings.ToUpper(string(c))
	if u == "ALL" || strings.HasPrefix(u, "CAP_") {
		return 0, false
	}
	return caps.Parse(u)
}

func seccomp(p *corev1.SeccompProfile, src string) Profile {
	out := Profile{Type: string(p.Type), Source: src}
	if p.LocalhostProfile != nil {
		out.Localhost = *p.LocalhostProfile
	}
	return out
}

func apparmor(p *corev1.AppArmorProfile, src string) Profile {
	out := Profile{Type: string(p.Type), Source: src}
	if p.LocalhostProfile != nil {
		out.Localhost = *p.LocalhostProfile
	}
	return out
}

func firstInt(a, b *int64) *int64 {
	if a != nil {
		v := *a
		return &v
	}
	if b != nil {
		v := *b
		return &v
	}
	return nil
}

func firstBool(a, b *bool) *bool {
	if a != nil {
		return a
	}
	return b
}

func deref1(b *bool) bool { return b != nil && *b }
