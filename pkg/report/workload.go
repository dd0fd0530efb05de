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
	Findings    []Finding   `json:"findings"`
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
