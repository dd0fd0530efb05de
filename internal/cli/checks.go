package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/output"
)

// checksList is the JSON form of the catalogue.
type checksList struct {
	Checks []checks.Meta `json:"checks"`
}

func newChecksCommand(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "checks [ID...]",
		Short: "List the checks imgaudit runs, or explain one",
		Long: `List the check catalogue: each check's ID, default severity, category and
title, the image checks (IA-*) then the cross-checks of imgaudit workload
(IW-*). --format json gives the image checks with the rationale,
remediation and scope notes of each; --format markdown is the catalogue
documentation (docs/checks.md).

With IDs (any case), explain those checks in full: why each matters, how to
fix what it finds, its exact scope, and for the workload cross-checks
(IW-*) where in the kubelet, the runtime or the kernel the behaviour it
predicts comes from.

Check IDs and categories are what a policy file's disable and ignore
entries name, IW-* ones included.`,
		Example: `  imgaudit checks
  imgaudit checks IA-SHELL IW-START-NONNUMERIC-USER
  imgaudit checks -f json | jq -r '.checks[]|select(.severity=="critical")|.id'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if len(args) > 0 {
				return explainChecks(out, format, args)
			}
			var err error
			switch format {
			case "table":
				err = output.WriteRuleTable(out, append(outputRules(), workloadRules()...), output.Options{Color: colorWanted(env, out), Width: tableWidth(env, out)})
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				err = enc.Encode(checksList{Checks: checks.Metas(checks.All())})
			case "markdown", "md":
				err = checks.WriteMarkdown(out, checks.All(), checks.WorkloadChecks(workloadMetas()))
			default:
				return &exitError{code: ExitError, err: fmt.Errorf("unknown format %q (want one of table, json, markdown)", format)}
			}
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table, json, markdown")
	return cmd
}
