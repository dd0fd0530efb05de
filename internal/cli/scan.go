package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/inflate"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/shard"
)

// auditFlags are the flags every auditing command shares.
type auditFlags struct {
	fo   fetchOptions
	lo   limitOptions
	co   cacheOptions
	oo   outputOptions
	so   sbomOptions
	gopt gateOptions
	// rules are more checks for the renderers, besides the image catalogue.
	rules []output.Rule
	// workload is set by the workload command: its gate is the
	// cross-checks' severity, with no default profile.
	workload bool
	bo       baselineOptions // flags added by scan and diff only
	// shard is set by --shard (registry, scan): the report's Shard.
	shard *report.Shard
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

// usage makes err an exit-2 error.
func usage(err error) error { return &exitError{code: ExitError, err: err} }

// run builds the library options from the flags, makes the call, has the
// policy package decide the verdict, writes the reports and maps the
// verdict to an exit code.
func (a *auditFlags) run(cmd *cobra.Command, env Env, call auditFunc) error {
	r, err := a.prepare(cmd, env)
	if err != nil {
		return usage(err)
	}
	var emit func(report.Image)
	if r.stream != nil {
		emit = r.stream.Emit
		if a.shard != nil {
			r.stream.Shard(a.shard)
		}
	}
	rep, auditErr := call(cmd.Context(), r.opts, emit)
	r.prog.finish()
	a.co.finish(cmd.ErrOrStderr())
	if rep == nil {
		if auditErr == nil {
			auditErr = errors.New("the audit returned no report")
		}
		return usage(auditErr)
	}
	for _, w := range rep.Warnings { // the audit's own
		fmt.Fprintf(cmd.ErrOrStderr(), "imgaudit: warning: %s\n", output.Escape(w.Message))
	}
	for _, w := range policy.EvaluateGate(rep, r.pol, r.gate, env.Now()) {
		fmt.Fprintf(cmd.ErrOrStderr(), "imgaudit: warning: %s\n", output.Escape(w.String()))
	}
	if len(rep.Images) > 1 {
		rep.ComputeFleet(report.FleetTop)
	}
	a.markShard(rep, auditErr)
	if r.stream != nil {
		if err := r.stream.Close(rep); err != nil {
			return usage(err)
		}
	}
	if err := writeReports(cmd, env, r.dests, rep, r.out); err != nil {
		return usage(err)
	}
	return exitFor(rep, auditErr)
}

// auditRun is what one auditing command needs, resolved from its flags.
type auditRun struct {
	opts   audit.Options
	pol    *policy.Policy
	gate   policy.Gate
	dests  []destination
	out    output.Options
	stream *output.JSONLStream // nil unless jsonl streams to standard output
	prog   *progress           // nil unless standard error is a terminal
}

// prepare resolves the flags, the policy and the library options.
func (a *auditFlags) prepare(cmd *cobra.Command, env Env) (*auditRun, error) {
	dests, err := a.oo.destinations()
	if err != nil {
		return nil, err
	}
	r := &auditRun{out: output.Options{ShowSuppressed: a.oo.showSuppressed, Rules: append(outputRules(), a.rules...)}}
	if err := a.oo.tableOptions(&r.out); err != nil {
		return nil, err
	}
	if r.pol, err = a.gopt.load(env); err != nil {
		return nil, err
	}
	t, prof, err := a.gopt.gate(cmd, r.pol, !a.workload)
	if err != nil {
		return nil, err
	}
	if r.gate, err = a.bo.gate(cmd, t, prof); err != nil {
		return nil, err
	}
	if r.opts, err = a.options(cmd, env, r.pol); err != nil {
		return nil, err
	}
	r.dests, r.stream = streamed(dests, cmd.OutOrStdout(), r.pol, r.gate, env.Now)
	if !a.oo.quiet && env.IsTerminal(cmd.ErrOrStderr()) {
		r.prog = newProgress(cmd.ErrOrStderr())
		r.opts.Progress = r.prog.event
	}
	return r, nil
}

// options builds the library options from the flags and the policy.
func (a *auditFlags) options(cmd *cobra.Command, env Env, pol *policy.Policy) (audit.Options, error) {
	opts := audit.DefaultOptions()
	sbomDests, err := a.so.destinations()
	if err != nil {
		return opts, err
	}
	if opts.Fetch, err = a.fo.toFetch(cmd, env); err != nil {
		return opts, err
	}
	if opts.Cache, err = a.co.open(cmd.Context(), env, opts.Fetch, cmd.ErrOrStderr()); err != nil {
		return opts, err
	}
	opts.Limits = a.lo.limits()
	if opts.Inflater, err = inflate.Find(a.lo.decompressor, nil); err != nil {
		return opts, usage(err)
	}
	opts.Concurrency, opts.LayerConcurrency = a.lo.concurrency, a.lo.layerConcurrency
	opts.ToolVersion = env.Version.String()
	if pol != nil {
		// Disabled checks do not run at all; Evaluate drops their findings too.
		opts.DisabledChecks, opts.DisabledCategories = pol.DisabledChecks, pol.DisabledCategories
	}
	opts.SBOM = !a.so.noSBOM
	opts.OnSBOM = a.so.writer(sbomDests)
	opts.Baseline = a.bo.ref
	if opts.SBOM {
		sbomGC(env)
	}
	return opts, nil
}

// sbomGCPercent is the collector's target when packages are catalogued,
// unless GOGC says otherwise. syft's cataloguers allocate fast over a live
// heap of ~100 MB (a Debian image's index, captured files and package
// data); at Go's default of 100 the heap grows to twice that before each
// collection. At 50 it peaks at 1.5 times: on the real-content benchmark
// image about 55 MB less peak RSS for about 0.3 CPU-seconds more.
const sbomGCPercent = 50

func sbomGC(env Env) {
	if env.Getenv("GOGC") == "" {
		debug.SetGCPercent(sbomGCPercent)
	}
}

// exitFor maps the report's verdict to the exit code: pass 0, fail 1,
// incomplete 2. An audit that returned an error is incomplete whatever the
// verdict says.
func exitFor(rep *report.Report, auditErr error) error {
	g := rep.Gate
	switch {
	case auditErr != nil:
		return usage(incompleteMessage(auditErr))
	case g.Verdict == report.Incomplete && rep.Workloads != nil:
		return usage(fmt.Errorf("%d %s could not be audited completely", g.Incomplete, pluralWord(g.Incomplete, "workload")))
	case g.Verdict == report.Incomplete:
		return usage(fmt.Errorf("%d %s could not be scanned completely", g.Incomplete, pluralWord(g.Incomplete, "image")))
	case g.Verdict == report.Fail && g.Failing == 0:
		return &exitError{code: ExitFindings, err: fmt.Errorf("%d new %s at or above %s (--fail-on-new)%s",
			g.FailingNew, pluralWord(g.FailingNew, "finding"), g.FailOnNew, failingNames(rep, report.Fail))}
	case g.Verdict == report.Fail:
		return &exitError{code: ExitFindings, err: fmt.Errorf("%d %s %s%s",
			g.Failing, pluralWord(g.Failing, "finding"), gateFlags(g), failingNames(rep, report.Fail))}
	}
	return nil
}

// gateFlags says what the failing findings reached, and by which flag:
// "at or above high (--fail-on)", "failing the hardened profile
// (--profile)", or both.
func gateFlags(g *report.Gate) string {
	switch {
	case g.Profile == "":
		return "at or above " + g.FailOn + " (--fail-on)"
	case g.FailOn == "" || g.FailOn == policy.FailNever.String():
		return "failing the " + g.Profile + " profile (--profile)"
	}
	return "failing the " + g.Profile + " profile or at or above " + g.FailOn + " (--profile, --fail-on)"
}

// streamed takes a jsonl report on standard output out of dests and
// returns the stream that writes it as the audit goes, each image with its
// verdict; nil when there is none.
func streamed(dests []destination, w io.Writer, pol *policy.Policy, g policy.Gate, now func() time.Time) ([]destination, *output.JSONLStream) {
	for i, d := range dests {
		if d.file == "-" && d.format == output.FormatJSONL {
			evaluate := func(one *report.Report) { policy.EvaluateGate(one, pol, g, now()) }
			return append(dests[:i:i], dests[i+1:]...), output.NewJSONLStream(w, evaluate)
		}
	}
	return dests, nil
}

// scanLong is the help of the scan command.
const scanLong = `Audit one or more images.

IMAGE is any of:
  alpine:3.20, registry.example.com:5000/team/app:1.2, repo@sha256:...
                                   a registry reference (docker://NAME
                                   forces the registry for a name that
                                   looks like a path; https:// is accepted)
  oci:DIR[:TAG|@DIGEST]            an OCI image layout
  oci-archive:FILE[:TAG]           a tar of an OCI layout
  docker-archive:FILE[:REPO:TAG]   'docker save' output
  PATH                             a layout directory or archive file,
                                   detected; a path that names nothing is
                                   an error, never a registry lookup

Several images (or --from-file, one per line) are audited --concurrency at
a time; an image named twice is audited once, and a layer shared by several
images is read once. Layer analyses are cached (--cache-dir, --no-cache).

Reports: --format sets the report on standard output (table, json, sarif,
markdown, jsonl, html); -o FORMAT=FILE writes more reports in the same run,
e.g. JSON and SARIF for CI to archive while a person reads the table, or
-o html=report.html: one self-contained page (verdicts, an images by
categories heat map, layer timelines) that loads nothing. The JSON report
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

` + exitCodesHelp

const scanExample = `  imgaudit scan testdata/images/demo
  imgaudit scan --fail-on critical registry.example.com/app:1.2
  imgaudit scan -o json=report.json -o sarif=results.sarif reg.example/app
  imgaudit scan --sbom-output cyclonedx-json=sbom.cdx.json reg.example/app
  imgaudit scan --format markdown --show-suppressed app.tar > comment.md
  imgaudit scan --from-file images.txt --format jsonl > audit.jsonl
  echo "$TOKEN" | imgaudit scan -u ci --password-stdin reg.example/app:1`

func newScanCommand(env Env) *cobra.Command {
	var (
		af       auditFlags
		fromFile string
		sh       shardOptions
	)
	cmd := &cobra.Command{
		Use:     "scan IMAGE...",
		Short:   "Audit one or more images",
		Long:    scanLong,
		Example: scanExample,
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
			spec, err := sh.parse(env)
			if err != nil {
				return usage(err)
			}
			if spec.Enabled() {
				af.shard = &report.Shard{Index: spec.Index, Count: spec.Count, Target: shard.ListTarget(refs)}
				refs = spec.Refs(refs)
			}
			af.so.single = len(refs) == 1 && !af.fo.allPlatforms
			return af.run(cmd, env, func(ctx context.Context, o audit.Options, emit func(report.Image)) (*report.Report, error) {
				return env.RunAudit(ctx, refs, o, emit)
			})
		},
	}
	af.AddFlags(cmd)
	af.bo.addFailOnNew(cmd)
	cmd.Flags().StringVar(&af.bo.ref, "baseline", "", "compare each image with `REF|FILE|base`, an image, an earlier JSON report, or the base image the image's manifest names: the report lists what it added, removed and kept, and the gate counts added findings (--fail-on-new)")
	cmd.Flags().StringVar(&fromFile, "from-file", "", "read image references from `FILE`, one per line (# comments and blank lines ignored; - is standard input)")
	sh.AddFlags(cmd)
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
