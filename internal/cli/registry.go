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
		sh shardOptions
	)
	cmd := &cobra.Command{
		Use:   "registry HOST[/PREFIX]",
		Short: "Audit every image in a registry",
		Long:  registryLong,
		Example: `  imgaudit registry registry.example.com
  imgaudit registry reg.example/team --repo 'team/*' --tag 'v*' --max-tags 3
  imgaudit registry --insecure localhost:5000 --format jsonl > fleet.jsonl
  imgaudit registry reg.example --baseline-tag previous --fail-on-new medium
  imgaudit registry reg.example --shard 2/8 -o jsonl=shard-2.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ro.BaselineTag = af.bo.tag
			spec, err := sh.parse(env)
			if err != nil {
				return usage(err)
			}
			if ro.Shard = spec; spec.Enabled() {
				af.shard = &report.Shard{Index: spec.Index, Count: spec.Count, Target: audit.RegistryTarget(args[0], ro)}
			}
			return af.run(cmd, env, func(ctx context.Context, o audit.Options, emit func(report.Image)) (*report.Report, error) {
				ro.Skip = af.co.skip() // a --cache-repo in the audited registry holds no images
				return audit.Registry(ctx, args[0], ro, o, emit)
			})
		},
	}
	af.AddFlags(cmd)
	af.bo.addFailOnNew(cmd)
	f := cmd.Flags()
	f.StringVar(&af.bo.tag, "baseline-tag", "", "compare each repository's newest tag with its tag `TAG`, or with the previous semantic version (previous): the newest image lists what it added, and the gate counts added findings (--fail-on-new)")
	f.StringVar(&ro.RepoGlob, "repo", "", "only repositories matching this `GLOB` (e.g. 'team/*')")
	f.StringVar(&ro.TagGlob, "tag", "", "only tags matching this `GLOB` (e.g. 'v1.*')")
	f.IntVar(&ro.MaxTags, "max-tags", 0, "keep the newest `N` tags per repository, by semantic version then name (0: all)")
	sh.AddFlags(cmd)
	return cmd
}

// registryLong is the help of the registry command.
const registryLong = `Audit every image in a registry: list its repositories (the paginated
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

Delta gate: --baseline-tag TAG compares each repository's newest tag with
its tag TAG (audited in the same run, shared layers read once), and
--baseline-tag previous with the semantic version just below the newest.
The newest tag is the highest semantic version among the selected tags, or,
when none is a version, the one whose image config was created last. The
newest image of each repository gets its diff (added, removed, unchanged
findings), the fleet summary lists the regressions (newest tags adding
findings at or above --fail-on-new), and the gate counts only those added
findings (--fail-on counts every finding when given). A repository that
cannot be compared (no tag TAG, fewer than two versions) is named in a
warning; when no repository can be, the run is incomplete (exit 2).

Sharding: --shard I/N audits only the repositories a stable hash gives
shard I (a repository's tags stay together); N runs, say the pods of a
Kubernetes Indexed Job with --shard /N, audit every image exactly once,
and imgaudit merge joins their jsonl reports into the report one run
would have written. --baseline-tag does not combine with --shard.

` + exitCodesHelp
