package report

// Workload is one Kubernetes object that runs pods (Pod, Deployment,
// StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob),
// audited together with the images its containers run. It appears only in
// the reports of imgaudit workload.
type Workload struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// File is the manifest as named on the command line ("-" for standard
	// input); Line the 1-based line where the object starts.
	File       string      `json:"file"`
	Line       int         `json:"line"`
	Containers []Container `json:"containers"`
	// Gate is the workload's verdict under the run's gate: incomplete when
	// one of its images could not be audited, fail when an unmitigated,
	// unsuppressed finding of its containers is at or above the threshold.
	Gate *ImageGate `json:"gate,omitempty"`
}

// Container is one container of a workload's pod template, with the
// cross-checks of its effective security context against its image.
type Container struct {
	Name string `json:"name"`
	// Init is true for an init container.
	Init bool `json:"init"`
	// Ephemeral is true for an ephemeral (debug) container.
	Ephemeral bool `json:"ephemeral,omitempty"`
	// Line is the 1-based line of the container's entry in the file (0
	// when unknown).
	Line        int         `json:"line,omitempty"`
	Image       ImageRef    `json:"image"`
	PodSecurity PodSecurity `json:"podSecurity"`
	// SecurityContext is the container's effective security context: the
	// pod level merged with the container level as the kubelet merges
	// them, what the cross-checks read.
	SecurityContext *SecurityContext `json:"effectiveSecurityContext,omitempty"`
	Findings        []Finding        `json:"findings"`
}

// SecurityContext is a container's effective security context. Each value
// is what the kubelet applies; From says where each came from.
type SecurityContext struct {
	// RunAsUser and RunAsGroup are absent when neither the container nor
	// the pod sets them: the image's USER then decides.
	RunAsUser    *int64 `json:"runAsUser,omitempty"`
	RunAsGroup   *int64 `json:"runAsGroup,omitempty"`
	RunAsNonRoot bool   `json:"runAsNonRoot"`
	// AllowPrivilegeEscalation is absent when unset (the kubelet then
	// does not ask for no_new_privs: escalation is allowed).
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
	// NoNewPrivs is what the kubelet asks of the runtime: true only when
	// allowPrivilegeEscalation is false.
	NoNewPrivs             bool `json:"noNewPrivs"`
	Privileged             bool `json:"privileged"`
	ReadOnlyRootFilesystem bool `json:"readOnlyRootFilesystem"`
	// ProcMount is Default or Unmasked.
	ProcMount    string       `json:"procMount"`
	Capabilities Capabilities `json:"capabilities"`
	// SeccompProfile and AppArmorProfile are the effective profiles.
	SeccompProfile  Profile `json:"seccompProfile"`
	AppArmorProfile Profile `json:"appArmorProfile"`
	// From says where each value came from.
	From SecurityContextSources `json:"from"`
}

// Capabilities are the capabilities as written on the container and the
// bounding set the runtime gives its process.
type Capabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
	// Bounding names the capabilities of the process's bounding set
	// ("CAP_CHOWN", ...): every one when privileged, else the runtime's
	// default set (containerd's) changed by add and drop.
	Bounding []string `json:"bounding"`
}

// Profile is an effective seccomp or AppArmor profile.
type Profile struct {
	// Type is RuntimeDefault, Localhost or Unconfined; absent when
	// nothing sets one: for seccomp the kubelet's default applies
	// (Unconfined unless it runs with --seccomp-default), for AppArmor the
	// runtime's default profile on AppArmor hosts.
	Type string `json:"type,omitempty"`
	// LocalhostProfile names a Localhost profile.
	LocalhostProfile string `json:"localhostProfile,omitempty"`
}

// SecurityContextSources say where each value of a [SecurityContext]
// came from: "container", "pod", "annotation" (the deprecated AppArmor
// annotation) or "default" (set nowhere: the kubelet's or runtime's
// default applies).
type SecurityContextSources struct {
	RunAsUser                string `json:"runAsUser"`
	RunAsGroup               string `json:"runAsGroup"`
	RunAsNonRoot             string `json:"runAsNonRoot"`
	AllowPrivilegeEscalation string `json:"allowPrivilegeEscalation"`
	Privileged               string `json:"privileged"`
	ReadOnlyRootFilesystem   string `json:"readOnlyRootFilesystem"`
	ProcMount                string `json:"procMount"`
	Capabilities             string `json:"capabilities"`
	SeccompProfile           string `json:"seccompProfile"`
	AppArmorProfile          string `json:"appArmorProfile"`
}

// SkippedKind counts the objects of one kind a workload run read and did
// not audit (Services, ConfigMaps, custom resources ...).
type SkippedKind struct {
	// Kind is the object's kind; a custom resource that reuses a built-in
	// kind's name is written "Kind (apiVersion)".
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// WorkloadSummary aggregates the workloads of a workload run.
type WorkloadSummary struct {
	Workloads  int `json:"workloads"`
	Containers int `json:"containers"`
	// Incomplete counts the workloads with a container whose image could
	// not be audited.
	Incomplete int `json:"incomplete"`
	// Findings counts the container findings that can fail the gate:
	// neither suppressed nor mitigated; BySeverity and ByCategory split
	// them.
	Findings   int              `json:"findings"`
	BySeverity map[Severity]int `json:"bySeverity"`
	ByCategory map[string]int   `json:"byCategory"`
	// Mitigated counts the unsuppressed findings the pod spec neutralises;
	// Suppressed the findings a policy ignore matched (mitigated or not).
	Mitigated  int `json:"mitigated"`
	Suppressed int `json:"suppressed"`
}

// ImageRef names the image a container runs: the reference as the pod spec
// writes it, and the digest of what was audited ("" when it could not be).
type ImageRef struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	// Error is set when the image could not be audited: the workload is
	// then incomplete, never clean.
	Error string `json:"error,omitempty"`
}

// PodSecurity is the Pod Security Standards level the container meets
// (privileged, baseline or restricted), as the upstream evaluator
// (k8s.io/pod-security-admission) says, with what keeps it from the next.
type PodSecurity struct {
	Level      string         `json:"level"`
	Violations []PSSViolation `json:"violations"`
}

// PSSViolation is one failed Pod Security Standards check.
type PSSViolation struct {
	// Level is the lowest level the check belongs to: baseline or restricted.
	Level  string `json:"level"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}
