package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

const workloadLong = `Audit Kubernetes workloads together with the images they run.

PATH is a manifest file (multi-document YAML or JSON, a kind: List as
'kubectl get -o yaml|json' prints, 'helm template' or 'kustomize build'
output), a directory (its .yaml, .yml and .json files) or - for standard
input. Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets,
ReplicationControllers, Jobs and CronJobs are read; other kinds are skipped.

Each distinct image is audited once (the cache and --concurrency apply);
--image-map REF=oci:DIR audits a local image in place of REF, so CI can
check its manifests against the image it just built. Each container's
effective security context (pod level merged with container level, as the
kubelet does) is cross-checked against its image: predicted start failures,
effective root, privilege escalation, capabilities, confinement, host
access. Image findings the spec neutralises are reported as mitigated and
never fail the gate. An image that cannot be audited makes its workload
incomplete (exit 2), never clean.

Reports: table, json (workloads[] beside images[], schema version 1) and
sarif (each workload finding located in its manifest at its container's
line; mitigated findings are suppressed).

` + exitCodesHelp

func newWorkloadCommand(env Env) *cobra.Command {
	var (
		af       auditFlags
		imageMap []string
	)
	cmd := &cobra.Command{
		Use:   "workload PATH...",
		Short: "Audit Kubernetes workloads together with their images",
		Long:  workloadLong,
		Example: `  imgaudit workload deploy/
  helm template chart/ | imgaudit workload -
  kubectl get pods -A -o json | imgaudit workload -
  imgaudit workload --image-map reg.example/app:1.2=oci:./image k8s/app.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wo := audit.WorkloadOptions{Stdin: cmd.InOrStdin()}
			var err error
			if wo.ImageMap, err = parseImageMap(imageMap); err != nil {
				return usage(err)
			}
			if err := workloadFormats(&af.oo); err != nil {
				return usage(err)
			}
			return af.run(cmd, env, func(ctx context.Context, o audit.Options, _ func(report.Image)) (*report.Report, error) {
				return audit.Workloads(ctx, args, wo, o)
			})
		},
	}
	af.AddFlags(cmd)
	af.rules = workloadRules()
	cmd.Flags().StringArrayVar(&imageMap, "image-map", nil,
		"audit `REF=IMAGE` in place of the reference REF a pod spec names (e.g. app:1.2=oci:./image); repeatable")
	return cmd
}

// parseImageMap reads the --image-map values.
func parseImageMap(specs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range specs {
		ref, img, ok := strings.Cut(s, "=")
		if !ok || ref == "" || img == "" {
			return nil, fmt.Errorf("--image-map %q: want REF=IMAGE (e.g. app:1.2=oci:./image)", s)
		}
		if prev, dup := m[ref]; dup && prev != img {
			return nil, fmt.Errorf("--image-map: %s is mapped twice", ref)
		}
		m[ref] = img
	}
	return m, nil
}

// workloadFormats refuses the formats that do not render workloads yet.
func workloadFormats(o *outputOptions) error {
	dests, err := o.destinations()
	if err != nil {
		return err
	}
	for _, d := range dests {
		if d.format != output.FormatJSON && d.format != output.FormatTable && d.format != output.FormatSARIF {
			return fmt.Errorf("format %s is not supported for workload yet (use table, json or sarif)", d.format)
		}
	}
	return nil
}

// workloadRules describes the cross-checks for the renderers; the rationale
// quotes where the behaviour comes from.
func workloadRules() []output.Rule {
	var rules []output.Rule
	for _, c := range workload.Checks() {
		rules = append(rules, output.Rule{ID: c.ID, Title: c.Title, Category: string(c.Category), Severity: c.Severity,
			Rationale: c.Docs, Remediation: c.Remediation})
	}
	return rules
}
