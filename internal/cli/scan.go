package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// runAudit is the library call scan makes; tests replace it to drive the
// gate with reports built in code.
var runAudit = audit.Run

func newScanCommand(env Env) *cobra.Command {
	var (
		fo   fetchOptions
		lo   limitOptions
		oo   outputOptions
		gopt gateOptions
	)
	cmd := &cobra.Command{
		Use:   "scan IMAGE...",
		Short: "Audit one or more images",
		Long: `Audit one or more images.

IMAGE is any of:
  alpine:3.20, registry.example.com:5000/team/app:1.2, repo@sha256:...   a registry reference
  oci:DIR[:TAG|@DIGEST]                                                 an OCI image layout
  oci-archive:FILE[:TAG]                                                a tar of an OCI layout
  docker-archive:FILE[:REPO:TAG]                                        'docker save' output
  PATH                                                                  a layout directory or archive file, detected

Reports: --format sets the report on standard output (table, json, sarif,
markdown); -o FORMAT=FILE writes more reports in the same run, e.g. JSON and
SARIF for CI to archive while a person reads the table. The JSON report
follows schema version 1 (docs/schema); SARIF 2.1.0 is accepted by GitHub
code scanning.

Policy: .imgaudit.yaml in the working directory (or --policy FILE) sets
fail-on, disables checks or categories, and ignores findings by check or
category, path glob and image glob, each with a reason and an optional
expiry date. Flags override the file. An expired ignore stops applying and
is reported as a warning.

` + exitCodesHelp,
		Example: `  imgaudit scan testdata/images/demo
  imgaudit scan --fail-on critical registry.example.com/app:1.2
  imgaudit scan -o json=report.json -o sarif=results.sarif registry.example.com/app:1.2
  imgaudit scan --format markdown --show-suppressed app.tar > comment.md
  echo "$TOKEN" | imgaudit scan -u ci --password-stdin registry.example.com/app@sha256:...`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			usage := func(err error) error { return &exitError{code: ExitError, err: err} }
			dests, err := oo.destinations()
			if err != nil {
				return usage(err)
			}
			fopts, err := fo.toFetch(cmd, env)
			if err != nil {
				return usage(err)
			}
			pol, err := gopt.load(env)
			if err != nil {
				return usage(err)
			}
			threshold, err := gopt.threshold(cmd, pol)
			if err != nil {
				return usage(err)
			}

			opts := audit.DefaultOptions()
			opts.Fetch = fopts
			opts.Layers = lo.toLayers()
			opts.ToolVersion = env.Version.String()
			opts.Checks = enabledChecks(pol)
			var prog *progress
			if !oo.quiet && env.IsTerminal(cmd.ErrOrStderr()) {
				prog = newProgress(cmd.ErrOrStderr())
				opts.Progress = prog.event
			}
			rep, auditErr := runAudit(cmd.Context(), args, opts)
			prog.finish()
			if rep == nil {
				if auditErr == nil {
					auditErr = errors.New("the audit returned no report")
				}
				return usage(auditErr)
			}

			for _, w := range pol.Apply(rep, env.Now()) {
				fmt.Fprintf(cmd.ErrOrStderr(), "imgaudit: warning: %s\n", w)
			}
			failing := policy.Failing(rep, threshold)
			rep.Gate = &report.Gate{FailOn: threshold.String(), Failed: len(failing) > 0}

			err = writeReports(cmd, env, dests, rep, output.Options{
				ShowSuppressed: oo.showSuppressed,
				Rules:          outputRules(),
			})
			if err != nil {
				return usage(err)
			}
			if auditErr != nil {
				return usage(incompleteMessage(auditErr))
			}
			if len(failing) > 0 {
				return &exitError{code: ExitFindings, err: fmt.Errorf("%d %s at or above %s (--fail-on)",
					len(failing), pluralWord(len(failing), "finding"), threshold)}
			}
			return nil
		},
	}
	fo.AddFlags(cmd)
	lo.AddFlags(cmd)
	oo.AddFlags(cmd)
	gopt.AddFlags(cmd)
	return cmd
}

// incompleteMessage keeps the one-line-per-failure form of audit errors.
func incompleteMessage(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		errs := joined.Unwrap()
		if len(errs) == 2 && errors.Is(errs[0], audit.ErrIncomplete) {
			return fmt.Errorf("%w", errs[1])
		}
	}
	return err
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
