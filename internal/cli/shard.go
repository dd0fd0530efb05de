package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/shard"
)

// shardOptions is --shard.
type shardOptions struct{ spec string }

func (o *shardOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.spec, "shard", "", "audit only shard `I/N` (0 ≤ I < N) of the repositories, by a stable hash; /N takes I\n"+
		"from $"+shard.IndexEnv+" (a Kubernetes Indexed Job): N runs audit every image once,\n"+
		"and imgaudit merge joins their jsonl reports")
}

// parse resolves --shard; the zero Spec when it is not given.
func (o *shardOptions) parse(env Env) (shard.Spec, error) {
	if o.spec == "" {
		return shard.Spec{}, nil
	}
	return shard.Parse(o.spec, env.Getenv)
}

// markShard records in rep which shard it is, with the audit's errors, so
// that its jsonl report ends with a line that says it is complete.
func (a *auditFlags) markShard(rep *report.Report, auditErr error) {
	if a.shard == nil {
		return
	}
	s := *a.shard
	if auditErr != nil {
		s.Errors = strings.Split(incompleteMessage(auditErr).Error(), "\n")
	}
	rep.Shard = &s
}

const mergeLong = `Merge the jsonl reports of the shards of one audit (imgaudit registry or
scan --from-file with --shard I/N, each written with --format jsonl or
-o jsonl=FILE) into the one report a single process would have written, in
any format, with its fleet summary. A DIR argument stands for the *.jsonl
files in it.

Each shard's report starts with a line naming its shard and ends with a
summary line that repeats it: a shard missing or given twice, a file cut
short (no summary line, or a last line without a newline), or shards of
different audits (another N, registry, selection, tool version, gate or
policy) make the merge incomplete: exit 2 with one line naming the shard
and file, and no report. The gate is the shards' own (they apply the same
--fail-on and policy); a shard whose audit was incomplete makes the merged
run incomplete (exit 2) and its errors are printed.

` + exitCodesHelp

func newMergeCommand(env Env) *cobra.Command {
	var oo outputOptions
	cmd := &cobra.Command{
		Use:   "merge FILE|DIR...",
		Short: "Merge the jsonl reports of a sharded audit into one report",
		Long:  mergeLong,
		Example: `  imgaudit registry reg.example --shard 0/3 -o jsonl=s0.jsonl  # 1/3, 2/3 too
  imgaudit merge s0.jsonl s1.jsonl s2.jsonl -o html=fleet.html
  imgaudit merge /out --format json > fleet.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, closeAll, err := openShards(args)
			defer closeAll()
			if err != nil {
				return usage(err)
			}
			rep, mergeErr := shard.Merge(inputs)
			if rep == nil {
				return usage(mergeErr)
			}
			for _, w := range rep.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "imgaudit: warning: %s\n", output.Escape(w.Message))
			}
			if err := writeMerged(cmd, env, oo, rep); err != nil {
				return usage(err)
			}
			return exitFor(rep, mergeErr)
		},
	}
	oo.AddFlags(cmd)
	return cmd
}

// writeMerged writes the merged report where --format and -o say.
func writeMerged(cmd *cobra.Command, env Env, oo outputOptions, rep *report.Report) error {
	dests, err := oo.destinations()
	if err != nil {
		return err
	}
	out := output.Options{ShowSuppressed: oo.showSuppressed, Rules: outputRules()}
	if err := oo.tableOptions(&out); err != nil {
		return err
	}
	return writeReports(cmd, env, dests, rep, out)
}

// openShards opens each FILE, and each *.jsonl file of each DIR; the
// func closes what it opened.
func openShards(args []string) ([]shard.Input, func(), error) {
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	files, err := shardFiles(args)
	if err != nil {
		return nil, closeAll, err
	}
	var inputs []shard.Input
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, closeAll, fmt.Errorf("merge: %w", err)
		}
		opened = append(opened, fh)
		inputs = append(inputs, shard.Input{Name: f, R: fh})
	}
	return inputs, closeAll, nil
}

// shardFiles lists each FILE, and the *.jsonl files of each DIR.
func shardFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		in, err := filepath.Glob(filepath.Join(a, "*.jsonl"))
		if err != nil || len(in) == 0 {
			return nil, fmt.Errorf("merge: %s holds no .jsonl file", a)
		}
		files = append(files, in...)
	}
	return files, nil
}
