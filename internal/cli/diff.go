package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/diff"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// baselineOptions are the flags of a delta gate: what to compare with,
// and the threshold for what the comparison adds.
type baselineOptions struct {
	ref       string // an image reference, or an earlier JSON report
	failOnNew string
}

func (o *baselineOptions) addFailOnNew(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.failOnNew, "fail-on-new", policy.DefaultThreshold.String(),
		"with a baseline, exit 1 when a finding the baseline did not have is at or above this `SEVERITY`: "+
			strings.Join(policy.ThresholdNames(), ", "))
}

// gate is the verdict's input: with a baseline, --fail-on counts only
// when given on the command line (the policy file's fail-on is for full
// scans) and --fail-on-new counts the added findings.
func (o *baselineOptions) gate(cmd *cobra.Command, t policy.Threshold) (policy.Gate, error) {
	if o.ref == "" {
		if cmd.Flags().Changed("fail-on-new") {
			return policy.Gate{}, errors.New("--fail-on-new needs a baseline (--baseline)")
		}
		return policy.Gate{FailOn: t, FailOnNew: policy.FailNever}, nil
	}
	g := policy.Gate{FailOn: policy.FailNever}
	if cmd.Flags().Changed("fail-on") {
		g.FailOn = t
	}
	var err error
	if g.FailOnNew, err = policy.ParseThreshold(o.failOnNew); err != nil {
		return g, fmt.Errorf("--fail-on-new: %w", err)
	}
	return g, nil
}

// wrap makes call compare every image it audits with the baseline: the
// baseline is read (a JSON report file) or audited first, with the same
// options, so the layers both share are read once; each image then
// carries its diff, also when it is streamed. A baseline that could not
// be audited completely makes the run incomplete.
func (o *baselineOptions) wrap(env Env, call auditFunc) auditFunc {
	switch o.ref {
	case "":
		return call
	case baselineBase:
		return o.wrapBase(env, call)
	}
	return func(ctx context.Context, opts audit.Options, emit func(report.Image)) (*report.Report, error) {
		base, err := o.load(ctx, env, opts)
		if base == nil {
			return nil, err
		}
		attach := func(img *report.Image) error {
			if img.Error != "" {
				return nil
			}
			old, err := pickBaseline(base, *img, o.ref)
			if err != nil || old.Error != "" {
				return err // an incomplete baseline already failed the run
			}
			d := diff.Compare(old, *img)
			img.Diff = &d
			return nil
		}
		var errs []error
		var sink func(report.Image)
		if emit != nil {
			sink = func(img report.Image) { _ = attach(&img); emit(img) }
		}
		rep, runErr := call(ctx, opts, sink)
		if rep != nil {
			for i := range rep.Images {
				errs = append(errs, attach(&rep.Images[i]))
			}
		}
		return rep, joinErrs(append([]error{err, runErr}, errs...))
	}
}

// baselineBase is the --baseline value that compares each image with the
// base image its manifest names.
const baselineBase = "base"

// wrapBase makes call compare every image it audits with the base image
// its manifest names (org.opencontainers.image.base.name, pinned by
// .base.digest when given): what the image's own Dockerfile added. The
// images are audited first, so a jsonl stream gets them at the end, each
// with its diff; an image that names no base fails the run (exit 2).
func (o *baselineOptions) wrapBase(env Env, call auditFunc) auditFunc {
	return func(ctx context.Context, opts audit.Options, emit func(report.Image)) (*report.Report, error) {
		rep, runErr := call(ctx, opts, nil)
		if rep == nil {
			return nil, runErr
		}
		errs := []error{runErr}
		bases := map[string]*report.Report{}
		opts.OnSBOM = nil // the base's SBOM is not asked for
		for i := range rep.Images {
			if img := &rep.Images[i]; img.Error == "" {
				errs = append(errs, compareBase(ctx, env, opts, img, bases))
			}
		}
		if emit != nil {
			for _, img := range rep.Images {
				emit(img)
			}
		}
		return rep, joinErrs(errs)
	}
}

// joinErrs joins the errors that are not nil, and returns a lone one as
// it is, so that its one-line form is kept (incompleteMessage).
func joinErrs(errs []error) error {
	errs = slices.DeleteFunc(errs, func(e error) bool { return e == nil })
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// compareBase audits img's base (once per base, in bases) and gives img
// its diff against it.
func compareBase(ctx context.Context, env Env, opts audit.Options, img *report.Image, bases map[string]*report.Report) error {
	if img.Base.Name == "" {
		return fmt.Errorf("--baseline base: %s names no base image (no org.opencontainers.image.base.name annotation in its manifest; BuildKit writes it)", img.Reference)
	}
	ref := img.Base.Name
	if img.Base.Digest != "" && !strings.Contains(ref, "@") {
		ref += "@" + img.Base.Digest
	}
	base, seen := bases[ref]
	if !seen {
		var err error
		base, err = env.RunAudit(ctx, []string{ref}, opts, nil)
		bases[ref] = base
		if err != nil {
			return fmt.Errorf("base of %s: %w", img.Reference, err)
		}
	}
	if base == nil {
		return nil // its error was returned for the first image naming it
	}
	old, err := pickBaseline(base, *img, ref)
	if err != nil || old.Error != "" {
		return err
	}
	d := diff.Compare(old, *img)
	img.Diff = &d
	return nil
}

// load returns the baseline report: the file, when o.ref is a JSON report,
// else the audit of o.ref.
func (o *baselineOptions) load(ctx context.Context, env Env, opts audit.Options) (*report.Report, error) {
	if b, err := os.ReadFile(o.ref); err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		var r report.Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("baseline %s: %w", o.ref, err)
		}
		if r.SchemaVersion != report.SchemaVersion {
			return nil, fmt.Errorf("baseline %s: schema version %d, want %d", o.ref, r.SchemaVersion, report.SchemaVersion)
		}
		for _, img := range r.Images {
			if img.Error != "" {
				return &r, fmt.Errorf("%w: baseline %s: %s", audit.ErrIncomplete, o.ref, img.Error)
			}
		}
		return &r, nil
	}
	opts.OnSBOM = nil // the baseline's SBOM is not asked for
	r, err := env.RunAudit(ctx, []string{o.ref}, opts, nil)
	if err != nil {
		err = fmt.Errorf("baseline: %w", err)
	}
	return r, err
}

// pickBaseline is the baseline image img is compared with: the only one,
// else the one of img's platform.
func pickBaseline(base *report.Report, img report.Image, ref string) (report.Image, error) {
	if len(base.Images) == 1 {
		return base.Images[0], nil
	}
	for _, b := range base.Images {
		if b.Platform == img.Platform {
			return b, nil
		}
	}
	return report.Image{}, fmt.Errorf("%w: baseline %s has no image for %s (%s)", audit.ErrIncomplete, ref, img.Reference, img.Platform)
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
