package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// auditFlags are the flags every auditing command shares.
type auditFlags struct {
	fo   fetchOptions
	lo   limitOptions
	co   cacheOptions
	oo   outputOptions
	so   sbomOptions
	gopt gateOptions
}

func (a *auditFlags) AddFlags(cmd *cobra.Command) {
	a.fo.AddFlags(cmd)
	a.lo.AddFlags(cmd)
	a.co.AddFlags(cmd)
	a.oo.AddFlags(cmd)
	a.so.AddFlags(cmd)
	a.gopt.AddFlags(cmd)
}

// auditFunc is the one library call an auditing command makes.
type auditFunc func(ctx context.Context, o audit.Options, emit func(report.Image)) (*report.Report, error)

// run builds the library options from the flags, makes the call, applies
// the policy, writes the reports and turns the outcome into an exit code.
func (a *auditFlags) run(cmd *cobra.Command, env Env, call auditFunc) error {
	usage := func(err error) error { return &exitError{code: ExitError, err: err} }
	dests, err := a.oo.destinations()
	if err != nil {
		return usage(err)
	}
	sbomDests, err := a.so.destinations()
	if err != nil {
		return usage(err)
	}
	fopts, err := a.fo.toFetch(cmd, env)
	if err != nil {
		return usage(err)
	}
	pol, err := a.gopt.load(env)
	if err != nil {
		return usage(err)
	}
	threshold, err := a.gopt.threshold(cmd, pol)
	if err != nil {
		return usage(err)
	}
	cache, err := a.co.open(env)
	if err != nil {
		return usage(err)
	}

	opts := audit.DefaultOptions()
	opts.Fetch = fopts
	opts.Layers = a.lo.toLayers()
	if cache != nil {
		opts.Layers.Cache = cache
	}
	opts.Concurrency = a.lo.concurrency
	opts.ToolVersion = env.Version.String()
	opts.Checks = enabledChecks(pol)
	opts.SBOM = !a.so.noSBOM
	opts.OnSBOM = a.so.writer(sbomDests)
	var prog *progress
	if !a.oo.quiet && env.IsTerminal(cmd.ErrOrStderr()) {
		prog = newProgress(cmd.ErrOrStderr())
		opts.Progress = prog.event
	}

	// jsonl on standard output streams: one line per image as it is done.
	var emit func(report.Image)
	var streamErr error
	streaming := false
	for i, d := range dests {
		if d.file == "-" && d.format == output.FormatJSONL {
			streaming = true
			dests = append(dests[:i:i], dests[i+1:]...)
			break
		}
	}
	if streaming {
		var mu sync.Mutex
		w := cmd.OutOrStdout()
		emit = func(img report.Image) {
			one := &report.Report{Images: []report.Image{img}}
			pol.Apply(one, env.Now())
			mu.Lock()
			defer mu.Unlock()
			if err := output.WriteJSONLImage(w, one.Images[0]); err != nil && streamErr == nil {
				streamErr = err
			}
		}
	}

	rep, auditErr := call(cmd.Context(), opts, emit)
	prog.finish()
	if rep == nil {
		if auditErr == nil {
			auditErr = errors.New("the audit returned no report")
		}
		return usage(auditErr)
	}
	for _, w := range pol.Apply(rep, env.Now()) {
		fmt.Fprintf(cmd.ErrOrStderr(), "imgaudit: warning: %s\n", output.Escape(w.String()))
	}
	failing := policy.Failing(rep, threshold)
	rep.Gate = &report.Gate{FailOn: threshold.String(), Failed: len(failing) > 0}
	if len(rep.Images) > 1 {
		rep.ComputeFleet(func(img report.Image) bool {
			if img.Error != "" {
				return true
			}
			for _, f := range img.Findings {
				if f.Suppressed == nil && threshold.Fails(f.Severity) {
					return true
				}
			}
			return false
		}, 10)
	}
	if streaming {
		if streamErr == nil {
			streamErr = output.WriteJSONLSummary(cmd.OutOrStdout(), rep)
		}
		if streamErr != nil {
			return usage(streamErr)
		}
	}
	err = writeReports(cmd, env, dests, rep, output.Options{
		ShowSuppressed: a.oo.showSuppressed,
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
}

func newScanCommand(env Env) *cobra.Command {
	var (
		af       auditFlags
		fromFile string
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

Several images (or --from-file, one per line) are audited --concurrency at
a time; an image named twice is audited once, and a layer shared by several
images is read once. Layer analyses are cached (--cache-dir, --no-cache).

Reports: --format sets the report on standard output (table, json, sarif,
markdown, jsonl); -o FORMAT=FILE writes more reports in the same run, e.g. JSON and
SARIF for CI to archive while a person reads the table. The JSON report
follows schema version 1 (docs/schema); SARIF 2.1.0 is accepted by GitHub
code scanning. jsonl on standard output streams one line per image as soon
as it is done, then a summary line.

Packages: each image's packages are catalogued with syft from the same
single pass over its layers: the report gives the distribution, the package
counts per type, and the package that installed each tool, shell or setuid
file with the command that removes it. --sbom-output FORMAT=FILE also writes
the full SBOM (cyclonedx-json, spdx-json, syft-json); --no-sbom skips
cataloguing.

Policy: .imgaudit.yaml in the working directory (or --policy FILE) sets
fail-on, disables checks or categories, and ignores findings by check or
category, path glob and image glob, each with a reason and an optional
expiry date. Flags override the file. An expired ignore stops applying and
is reported as a warning.

` + exitCodesHelp,
		Example: `  imgaudit scan testdata/images/demo
  imgaudit scan --fail-on critical registry.example.com/app:1.2
  imgaudit scan -o json=report.json -o sarif=results.sarif registry.example.com/app:1.2
  imgaudit scan --sbom-output cyclonedx-json=sbom.cdx.json registry.example.com/app:1.2
  imgaudit scan --format markdown --show-suppressed app.tar > comment.md
  imgaudit scan --from-file images.txt --format jsonl > audit.jsonl
  echo "$TOKEN" | imgaudit scan -u ci --password-stdin registry.example.com/app@sha256:...`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && fromFile == "" {
				return fmt.Errorf("requires at least 1 arg(s), only received 0 (or --from-file)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			refs := args
			if fromFile != "" {
				listed, err := readImageList(cmd, fromFile)
				if err != nil {
					return &exitError{code: ExitError, err: err}
				}
				refs = append(append([]string(nil), args...), listed...)
				if len(refs) == 0 {
					return &exitError{code: ExitError, err: fmt.Errorf("--from-file %s lists no image", fromFile)}
				}
			}
			af.so.single = len(refs) == 1 && !af.fo.allPlatforms
			return af.run(cmd, env, func(ctx context.Context, o audit.Options, emit func(report.Image)) (*report.Report, error) {
				return env.RunAudit(ctx, refs, o, emit)
			})
		},
	}
	af.AddFlags(cmd)
	cmd.Flags().StringVar(&fromFile, "from-file", "", "read image references from `FILE`, one per line (# comments and blank lines ignored; - is standard input)")
	return cmd
}

// readImageList reads references, one per line.
func readImageList(cmd *cobra.Command, file string) ([]string, error) {
	var r io.Reader
	if file == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--from-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	var refs []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		refs = append(refs, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--from-file %s: %w", file, err)
	}
	return refs, nil
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
