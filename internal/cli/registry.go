package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/report"
)

func newRegistryCommand(env Env) *cobra.Command {
	var (
		af auditFlags
		ro audit.RegistryOptions
	)
	cmd := &cobra.Command{
		Use:   "registry HOST[/PREFIX]",
		Short: "Audit every image in a registry",
		Long: `Audit every image in a registry: list its repositories (the paginated
/v2/_catalog, below PREFIX when given) and their tags, keep what --repo and
--tag select (and the newest --max-tags per repository), and audit each
distinct image once: tags that share a digest are listed together, layers
shared by many images (a common base) are downloaded and read once, and
every layer analysis is cached for the next audit.

An image that fails is recorded with its error and the audit goes on; the
exit code then says the audit was incomplete (2). The table and JSON reports
end with a fleet summary: images failing the gate, how many images ship each
kind of finding, the worst images, and the layers that bring findings into
the most images. --format jsonl streams one line per image as it is done.

` + exitCodesHelp,
		Example: `  imgaudit registry registry.example.com
  imgaudit registry reg.example/team --repo 'team/*' --tag 'v*' --max-tags 3
  imgaudit registry --insecure localhost:5000 --format jsonl > fleet.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return af.run(cmd, env, func(ctx context.Context, o audit.Options, emit func(report.Image)) (*report.Report, error) {
				return audit.Registry(ctx, args[0], ro, o, emit)
			})
		},
	}
	af.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&ro.RepoGlob, "repo", "", "only repositories matching this `GLOB` (e.g. 'team/*')")
	f.StringVar(&ro.TagGlob, "tag", "", "only tags matching this `GLOB` (e.g. 'v1.*')")
	f.IntVar(&ro.MaxTags, "max-tags", 0, "keep the newest `N` tags per repository, by semantic version then name (0: all)")
	return cmd
}
