package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/diff"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// BaselineBase is the [Options.Baseline] value that compares each image
// with the base image its manifest names (the OCI annotations
// org.opencontainers.image.base.name and .base.digest, which BuildKit
// writes): what the image's own build added on top of its base.
const BaselineBase = "base"

// runBaseline is [RunStream] with o.Baseline set: the baseline is read
// (an earlier JSON report) or audited while refs are, and each image
// carries its diff against the baseline's image, also when it is
// streamed (an image done first waits for the baseline before it is
// emitted). Both audits share one session, one layer Flight and an
// in-memory layer cache, so the layers they share are read once, and the
// baseline (usually cached) is assessed while the new layers are read.
func runBaseline(ctx context.Context, refs []string, o Options, emit func(report.Image)) (*report.Report, error) {
	ref := o.Baseline
	o.Baseline = ""
	o, done, err := withSession(o)
	if err != nil {
		return nil, err
	}
	defer done()
	o = o.sharing()
	if ref == BaselineBase {
		return runAgainstBases(ctx, refs, o, emit)
	}
	var (
		base    *report.Report
		baseErr error
		ready   = make(chan struct{})
	)
	if r, ok, err := readReport(ref); ok {
		if r == nil {
			return nil, err
		}
		base, baseErr = r, err
		close(ready)
	} else {
		bo := o
		bo.OnSBOM = nil // the baseline's SBOM is not asked for
		go func() {
			defer close(ready)
			base, baseErr = loadBaseline(ctx, ref, bo)
		}()
	}
	compare := func(img *report.Image) error {
		<-ready
		if base == nil {
			return nil // cancelled: the run returns the context's error
		}
		return compareWith(base, ref, img)
	}
	var sink func(report.Image)
	if emit != nil {
		sink = func(img report.Image) {
			_ = compare(&img) // the error is returned below, once
			emit(img)
		}
	}
	r, runErr := runRefs(ctx, refs, o, sink)
	<-ready
	if base == nil {
		return nil, baseErr
	}
	if r == nil {
		return nil, runErr
	}
	errs := []error{baseErr, runErr}
	for i := range r.Images {
		errs = append(errs, compare(&r.Images[i]))
	}
	return r, incomplete(errs)
}

// runAgainstBases audits refs, then the base image each names (each base
// once), and gives each image its diff against its base. A jsonl stream
// gets the images at the end, each with its diff. An image that names no
// base makes the run incomplete.
func runAgainstBases(ctx context.Context, refs []string, o Options, emit func(report.Image)) (*report.Report, error) {
	r, runErr := runRefs(ctx, refs, o, nil)
	if r == nil {
		return nil, runErr
	}
	errs := []error{runErr}
	bases := map[string]*report.Report{}
	bo := o
	bo.OnSBOM = nil // the base's SBOM is not asked for
	bo.reuseReport = true
	for i := range r.Images {
		if img := &r.Images[i]; img.Error == "" {
			errs = append(errs, compareBase(ctx, bo, img, bases))
		}
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if emit != nil {
		for _, img := range r.Images {
			emit(img)
		}
	}
	return r, incomplete(errs)
}

// compareBase audits img's base (once per base, remembered in bases) and
// gives img its diff against it.
func compareBase(ctx context.Context, o Options, img *report.Image, bases map[string]*report.Report) error {
	if img.Base.Name == "" {
		return fmt.Errorf("--baseline base: %s names no base image (no org.opencontainers.image.base.name annotation in its manifest; BuildKit writes it)", img.Reference)
	}
	ref := baseRef(img.Base)
	base, seen := bases[ref]
	if !seen {
		var err error
		base, err = runRefs(ctx, []string{ref}, o, nil)
		bases[ref] = base
		if err != nil {
			return fmt.Errorf("base of %s: %w", img.Reference, err)
		}
	}
	if base == nil {
		return nil // its error was returned for the first image naming it
	}
	return compareWith(base, ref, img)
}

// baseRef is the reference of the base an image's manifest names: the
// name, pinned to the digest when the manifest gives one, so a base tag
// that moved since the build is not mistaken for the image's base.
func baseRef(b report.Base) string {
	if b.Digest != "" && !strings.Contains(b.Name, "@") {
		return b.Name + "@" + b.Digest
	}
	return b.Name
}

// LoadBaseline returns the baseline report ref names: the report in the
// file ref, when ref is a file holding a JSON report (schema version
// [report.SchemaVersion]), else the audit of the image reference ref with
// o. A malformed report file is an error and no report; a baseline with an
// image that could not be audited completely comes back with an error
// wrapping [ErrIncomplete].
func LoadBaseline(ctx context.Context, ref string, o Options) (*report.Report, error) {
	r, err := loadBaseline(ctx, ref, o)
	if r != nil && err != nil {
		err = incomplete([]error{err})
	}
	return r, err
}

// loadBaseline is LoadBaseline, its errors not yet marked incomplete.
func loadBaseline(ctx context.Context, ref string, o Options) (*report.Report, error) {
	if r, ok, err := readReport(ref); ok {
		return r, err
	}
	o.Baseline = ""
	o.reuseReport = true
	r, err := runRefs(ctx, []string{ref}, o, nil)
	if err != nil && r != nil {
		err = fmt.Errorf("baseline: %w", err)
	}
	return r, err
}

// readReport reads the JSON report in the file ref; ok is false when ref
// is not a file holding one (it is then an image reference).
func readReport(ref string) (r *report.Report, ok bool, err error) {
	b, rerr := os.ReadFile(ref)
	if rerr != nil || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return nil, false, nil
	}
	r = &report.Report{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, true, fmt.Errorf("baseline %s: %w", ref, err)
	}
	if r.SchemaVersion != report.SchemaVersion {
		return nil, true, fmt.Errorf("baseline %s: schema version %d, want %d", ref, r.SchemaVersion, report.SchemaVersion)
	}
	for _, img := range r.Images {
		if img.Error != "" {
			return r, true, fmt.Errorf("baseline %s: %s", ref, img.Error)
		}
	}
	return r, true, nil
}

// CompareWith gives img its diff (report.Image.Diff, from pkg/diff)
// against the image of base it is a version of: base's only image, else
// the one of img's platform; ref names base in the error. An image that
// could not be audited gets no diff and no error (its own error already
// makes the run incomplete), nor does one whose baseline image could not
// be (the baseline's error does). A baseline with no image of img's
// platform is an error wrapping [ErrIncomplete].
func CompareWith(base *report.Report, ref string, img *report.Image) error {
	return incomplete([]error{compareWith(base, ref, img)})
}

// compareWith is CompareWith, its error not yet marked incomplete.
func compareWith(base *report.Report, ref string, img *report.Image) error {
	if img.Error != "" {
		return nil
	}
	old, err := pickBaseline(base, *img, ref)
	if err != nil || old.Error != "" {
		return err
	}
	d := diff.Compare(old, *img)
	img.Diff = &d
	return nil
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
	return report.Image{}, fmt.Errorf("baseline %s has no image for %s (%s)", ref, img.Reference, img.Platform)
}

// incomplete joins the errors that are not nil into the error of an
// incomplete audit: nil when there are none, else one wrapping
// [ErrIncomplete] and the lone error as it is (so its one-line form is
// kept), or the errors joined.
func incomplete(errs []error) error {
	errs = slices.DeleteFunc(errs, func(e error) bool { return e == nil })
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %w", ErrIncomplete, errs[0])
	}
	return fmt.Errorf("%w: %w", ErrIncomplete, errors.Join(errs...))
}
