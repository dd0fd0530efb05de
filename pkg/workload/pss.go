package workload

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// PodSecurity evaluates the Pod Security Standards with the upstream
// evaluator (k8s.io/pod-security-admission/policy, DefaultChecks, latest
// version): the same code the PodSecurity admission plugin runs.
type PodSecurity struct {
	eval policy.Evaluator
}

// NewPodSecurity builds the evaluator.
func NewPodSecurity() (*PodSecurity, error) {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("pod security evaluator: %w", err)
	}
	return &PodSecurity{eval: e}, nil
}

// PSSResult is the level a pod spec meets and what keeps it from the next.
type PSSResult struct {
	// Level is "privileged", "baseline" or "restricted".
	Level string
	// Violations are the failed checks: the baseline profile's, then those
	// the restricted profile adds (its own, and those overriding a
	// baseline check, such as restricted volume types over hostPath).
	Violations []Violation
}

// Violation is one failed check, in the evaluator's words.
type Violation struct {
	// Level is the lowest level the check belongs to: "baseline" or
	// "restricted".
	Level  string
	Reason string
	Detail string
}

// Evaluate returns the level of a pod (its metadata and spec).
func (p *PodSecurity) Evaluate(meta *corev1.PodTemplateSpec) PSSResult {
	latest := psapi.LatestVersion()
	base := p.eval.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelBaseline, Version: latest}, &meta.ObjectMeta, &meta.Spec)
	restr := p.eval.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelRestricted, Version: latest}, &meta.ObjectMeta, &meta.Spec)
	out := PSSResult{Level: string(psapi.LevelRestricted)}
	seen := map[Violation]bool{}
	for _, r := range base {
		if !r.Allowed {
			v := Violation{Level: string(psapi.LevelBaseline), Reason: r.ForbiddenReason, Detail: r.ForbiddenDetail}
			seen[v] = true
			out.Violations = append(out.Violations, v)
			out.Level = string(psapi.LevelPrivileged)
		}
	}
	for _, r := range restr {
		v := Violation{Level: string(psapi.LevelBaseline), Reason: r.ForbiddenReason, Detail: r.ForbiddenDetail}
		if r.Allowed || seen[v] {
			continue // restricted runs the baseline checks it does not override
		}
		v.Level = string(psapi.LevelRestricted)
		out.Violations = append(out.Violations, v)
		if out.Level == string(psapi.LevelRestricted) {
			out.Level = string(psapi.LevelBaseline)
		}
	}
	return out
}

// Workload evaluates the whole pod template of w.
func (p *PodSecurity) Workload(w *Workload) PSSResult {
	return p.Evaluate(&corev1.PodTemplateSpec{ObjectMeta: w.PodMeta, Spec: w.PodSpec})
}

// Container evaluates container i of w alone: the pod-level fields with
// only that container in its list, so each container gets its own level.
func (p *PodSecurity) Container(w *Workload, i int) PSSResult {
	c := w.Containers[i]
	spec := w.PodSpec
	spec.Containers, spec.InitContainers, spec.EphemeralContainers = nil, nil, nil
	switch c.Type {
	case Init:
		spec.InitContainers = []corev1.Container{c.Spec}
	case Ephemeral:
		spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c.Spec)}}
	default:
		spec.Containers = []corev1.Container{c.Spec}
	}
	return p.Evaluate(&corev1.PodTemplateSpec{ObjectMeta: w.PodMeta, Spec: spec})
}
