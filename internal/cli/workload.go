package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

const workloadLong = `Audit Kubernetes workloads together with the images they run.

PATH is a manifest file (multi-document YAML or JSON, a kind: List as
'kubectl get -o yaml|json' prints, 'helm template' or 'kustomize build'
output), a directory (its .yaml, .yml and .json files, but not a Helm
chart's sources: render them) or - for standard input. Pods, Deployments,
StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs and
CronJobs are read; other kinds are skipped.

Each distinct image is audited once (the cache and --concurrency apply);
--image-map REF=oci:DIR audits a local image in place of REF, so CI can
check its manifests against the image it just built. Each container's
effective security context (pod level merged with container level, as the
kubelet does) is cross-checked against its image: predicted start failures,
effective root, privilege escalation, capabilities, confinement, host
access. Image findings the spec neutralises are reported as mitigated and
never fail the gate. An image that cannot be audited makes its workload
incomplete (exit 2), never clean.

Reports: table, json (workloads[] beside images[], each container with
its effective security context; schema version 1), sarif (each workload
finding located in its manifest at its container's line; mitigated and
policy-suppressed findings are suppressed), markdown (grouped by workload,
led by what fails) and jsonl (a line per image as it is audited, then a
line per workload with its containers and verdict, then the summary). Objects
that run no pods (Services, ConfigMaps ...) are counted by kind in the
report.

Policy: the policy file disables and ignores the cross-checks (IW-*) like
the image checks; an ignore may add workload: NAMESPACE/NAME (or NAME,
globs) and container: NAME to scope it. The image facts the cross-checks
read (USER, setuid and setgid files, file capabilities) are taken from
every image whatever image checks the policy disables.

Packages are not catalogued unless --sbom (or --sbom-output) is given: the
cross-checks do not use them.

` + exitCodesHelp

func newWorkloadCommand(env Env) *cobra.Command {
	var (
		af       auditFlags
		imageMap []string
		sbomOn   bool
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
			if cmd.Flags().Changed("profile") {
				return usage(fmt.Errorf("--profile gates image audits (scan, registry, diff, attest); a workload run gates on its cross-checks with --fail-on"))
			}
			if sbomOn && cmd.Flags().Changed("no-sbom") && af.so.noSBOM {
				return usage(fmt.Errorf("--sbom and --no-sbom cannot be used together"))
			}
			if sbomOn && !sbom.Available {
				return usage(fmt.Errorf("--sbom: %w", sbom.ErrUnavailable))
			}
			if sbomOn || (len(af.so.outputs) > 0 && !cmd.Flags().Changed("no-sbom")) {
				af.so.noSBOM = false // --sbom, or --sbom-output, which needs the catalogue
			}
			return af.run(cmd, env, func(ctx context.Context, o audit.Options, emit func(report.Image)) (*report.Report, error) {
				wo.OnImage = emit
				return audit.Workloads(ctx, args, wo, o)
			})
		},
	}
	af.AddFlags(cmd)
	// The cross-checks read no package: cataloguing is off unless asked.
	af.so.noSBOM = true
	cmd.Flags().Lookup("no-sbom").DefValue = "true"
	cmd.Flags().BoolVar(&sbomOn, "sbom", false, "also catalogue each image's packages (off by default: the cross-checks do not use them, and it costs seconds per image); --sbom-output implies it")
	af.rules = workloadRules()
	af.workload = true
	_ = cmd.Flags().MarkHidden("profile") // image gates only
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
