package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// baselineOptions are the flags of a delta gate: what to compare with,
// and the threshold for what the comparison adds.
type baselineOptions struct {
	ref       string // audit.Options.Baseline: an image, an earlier JSON report, or base
	tag       string // audit.RegistryOptions.BaselineTag (registry)
	failOnNew string
}

// set reports whether a baseline was asked for.
func (o *baselineOptions) set() bool { return o.ref != "" || o.tag != "" }

func (o *baselineOptions) addFailOnNew(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.failOnNew, "fail-on-new", policy.DefaultThreshold.String(),
		"with a baseline, exit 1 when a finding the baseline did not have is at or above this `SEVERITY`: "+
			strings.Join(policy.ThresholdNames(), ", "))
}

// gate is the verdict's input: with a baseline, --fail-on counts only
// when given on the command line (the policy file's fail-on is for full
// scans) and --fail-on-new counts the added findings.
func (o *baselineOptions) gate(cmd *cobra.Command, t policy.Threshold, prof policy.Profile) (policy.Gate, error) {
	if !o.set() {
		if cmd.Flags().Changed("fail-on-new") {
			return policy.Gate{}, fmt.Errorf("--fail-on-new needs a baseline (%s)", o.flagName(cmd))
		}
		return policy.Gate{FailOn: t, FailOnNew: policy.FailNever, Profile: prof}, nil
	}
	// With a baseline, --fail-on and --profile count only when given on
	// the command line: the defaults are for full scans.
	g := policy.Gate{FailOn: policy.FailNever}
	if cmd.Flags().Changed("fail-on") {
		g.FailOn = t
	}
	if cmd.Flags().Changed("profile") {
		g.Profile = prof
	}
	var err error
	if g.FailOnNew, err = policy.ParseThreshold(o.failOnNew); err != nil {
		return g, fmt.Errorf("--fail-on-new: %w", err)
	}
	return g, nil
}

// flagName is the command's baseline flag.
func (o *baselineOptions) flagName(cmd *cobra.Command) string {
	if cmd.Flags().Lookup("baseline-tag") != nil {
		return "--baseline-tag"
	}
	return "--baseline"
}

// diffLong is the help of the diff command.
const diffLong = `Compare two images: audit OLD and NEW (any image names scan accepts; the
layers they share are read once) and classify every finding of NEW as
added, removed or unchanged, matched by check and path (or alias, or the
config entry's name), never by digest or layer, so a rebuild that changes
nothing adds nothing. The report leads with what NEW added and the
Dockerfile step that added each, then what it removed, the count of
unchanged findings, and the facts that changed (user, base, package count,
layers, size); the JSON report gives each image a "diff" object.

The gate counts only added findings (--fail-on-new, default high);
--fail-on, when given, still applies to every finding. A policy file's
ignores mark added findings suppressed (they never fail the gate) and its
disabled checks neither add nor remove. 'imgaudit scan --baseline REF|FILE'
does the same against an image or an earlier JSON report, and 'imgaudit
scan --baseline base IMAGE' against the base image IMAGE's manifest names
(the OCI annotations org.opencontainers.image.base.name and .base.digest,
which BuildKit writes): what your Dockerfile added on top of the base.

` + exitCodesHelp

func newDiffCommand(env Env) *cobra.Command {
	var af auditFlags
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two images: what the new one adds, removes and keeps",
		Long:  diffLong,
		Example: `  imgaudit diff registry.example.com/app:1.1 registry.example.com/app:1.2
  imgaudit diff --fail-on-new medium --format json oci:./old oci:./new`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			af.bo.ref = args[0]
			af.so.single = !af.fo.allPlatforms
			return af.run(cmd, env, func(ctx context.Context, o audit.Options, emit func(report.Image)) (*report.Report, error) {
				return env.RunAudit(ctx, args[1:], o, emit)
			})
		},
	}
	af.AddFlags(cmd)
	af.bo.addFailOnNew(cmd)
	return cmd
}
