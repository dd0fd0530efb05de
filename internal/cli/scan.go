package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/output"
)

func newScanCommand(env Env) *cobra.Command {
	var (
		fo fetchOptions
		lo limitOptions
		oo outputOptions
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
  PATH                                                                  a layout directory or archive file, detected`,
		Example: `  imgaudit scan testdata/images/demo
  imgaudit scan --format json -o report.json registry.example.com/app:1.2
  echo "$TOKEN" | imgaudit scan -u ci --password-stdin registry.example.com/app@sha256:...`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(oo.format)
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			fopts, err := fo.toFetch(cmd, env)
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			opts := audit.DefaultOptions()
			opts.Fetch = fopts
			opts.Layers = lo.toLayers()
			opts.ToolVersion = env.Version.String()
			rep, auditErr := audit.Run(cmd.Context(), args, opts)
			if rep == nil {
				return &exitError{code: ExitError, err: auditErr}
			}
			w, color, done, err := oo.writer(cmd)
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			if err := output.Write(w, format, rep, output.Options{Color: color}); err != nil {
				return &exitError{code: ExitError, err: err}
			}
			if err := done(); err != nil {
				return &exitError{code: ExitError, err: err}
			}
			if auditErr != nil {
				return &exitError{code: ExitError, err: incompleteMessage(auditErr)}
			}
			return nil
		},
	}
	fo.AddFlags(cmd)
	lo.AddFlags(cmd)
	oo.AddFlags(cmd)
	return cmd
}

// incompleteMessage keeps the one-line-per-failure form of audit errors.
func incompleteMessage(err error) error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		errs := joined.Unwrap()
		if len(errs) == 2 && errors.Is(errs[0], audit.ErrIncomplete) {
			return fmt.Errorf("%w", errs[1])
		}
	}
	return err
}
