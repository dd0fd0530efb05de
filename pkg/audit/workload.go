package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/caps"
	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// WorkloadOptions configure [Workloads] beyond the image audit's Options.
type WorkloadOptions struct {
	// ImageMap maps an image reference as a pod spec writes it to the image
	// audited in its place (any reference pkg/fetch opens, such as
	// oci:DIR): CI checks its manifests against the image it just built.
	ImageMap map[string]string
	// Stdin is what the path "-" reads.
	Stdin io.Reader
	// OnImage, when set, receives each image as soon as it is audited
	// (for a caller that streams, such as jsonl on standard output); the
	// workloads are decided once every image is. It is called from
	// several goroutines.
	OnImage func(report.Image)
}

// Workloads audits the Kubernetes workloads in the manifests at paths
// (files, directories searched for .yaml, .yml and .json files, "-" for
// wo.Stdin) together with the images they run. Each distinct image is
// audited once, as [Run] audits it (o's cache, concurrency and checks); then
// each container's effective security context is cross-checked against
// its image (pkg/workload) and its Pod Security Standards level computed.
//
// A malformed manifest is an error and no report. An image that cannot be
// audited leaves its containers with an image error (their workloads are
// incomplete, never clean) and the returned error wraps [ErrIncomplete].
func Workloads(ctx context.Context, paths []string, wo WorkloadOptions, o Options) (*report.Report, error) {
	set, warns, err := decodeManifests(ctx, paths, wo.Stdin)
	if err != nil {
		return nil, err
	}
	pss, err := workload.NewPodSecurity()
	if err != nil {
		return nil, err
	}
	// The distinct images to audit, in order of appearance.
	var refs []string
	seen := map[string]bool{}
	for _, w := range set.Workloads {
		for _, c := range w.Containers {
			if ref := auditRef(c.Image(), wo.ImageMap); ref != "" && !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
	}
	var mu sync.Mutex
	facts := map[string]workload.ImageFacts{}
	o.onAssess = func(ctx context.Context, ri *report.Image, img *checks.Image) error {
		f, err := imageFacts(ctx, ri, img)
		if err != nil {
			return fmt.Errorf("image facts: %w", err)
		}
		mu.Lock()
		facts[ri.Reference] = f
		mu.Unlock()
		return nil
	}
	if len(refs) > 1 {
		var done func()
		if o, done, err = withSession(o); err != nil {
			return nil, err
		}
		defer done()
	}
	var r *report.Report
	var auditErr error
	if len(refs) > 0 {
		if r, auditErr = runRefs(ctx, refs, o, wo.OnImage); r == nil {
			return nil, auditErr
		}
	} else {
		r = &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "imgaudit", Version: o.toolVersion()}}
		r.Summarize()
	}
	byRef := imagesByRef(r.Images)
	r.Skipped = set.SkippedKinds()
	r.Warnings = append(r.Warnings, warns...)
	r.Workloads = make([]report.Workload, 0, len(set.Workloads))
	for _, w := range set.Workloads {
		rw := report.Workload{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, File: w.File, Line: w.Line,
			Containers: make([]report.Container, 0, len(w.Containers))}
		for i := range w.Containers {
			rw.Containers = append(rw.Containers, auditContainer(w, i, pss, wo.ImageMap, byRef, facts))
		}
		r.Workloads = append(r.Workloads, rw)
	}
	r.Summarize()
	if auditErr != nil {
		return r, fmt.Errorf("%w: %w", ErrIncomplete, auditErr)
	}
	return r, nil
}

// auditContainer cross-checks container i of w against its image's audit.
func auditContainer(w *workload.Workload, i int, pss *workload.PodSecurity, imageMap map[string]string,
	byRef map[string]*report.Image, facts map[string]workload.ImageFacts) report.Container {
	c := &w.Containers[i]
	rc := report.Container{Name: c.Name(), Init: c.Type == workload.Init, Ephemeral: c.Type == workload.Ephemeral,
		Line: c.Line, Image: report.ImageRef{Reference: c.Image()}, Findings: []report.Finding{}}
	ps := pss.Container(w, i)
	rc.PodSecurity = report.PodSecurity{Level: ps.Level, Violations: make([]report.PSSViolation, 0, len(ps.Violations))}
	for _, v := range ps.Violations {
		rc.PodSecurity.Violations = append(rc.PodSecurity.Violations, report.PSSViolation{Level: v.Level, Reason: v.Reason, Detail: v.Detail})
	}
	e := w.Effective(i)
	sc := e.Report()
	rc.SecurityContext = &sc
	img := byRef[auditRef(c.Image(), imageMap)]
	switch {
	case c.Image() == "":
		rc.Image.Error = "the container names no image"
		return rc
	case img == nil:
		rc.Image.Error = "the image was not audited"
		return rc
	}
	rc.Image.Digest = img.Digest
	if img.Error != "" {
		rc.Image.Error = img.Error
		return rc
	}
	f, ok := facts[img.Reference]
	if !ok {
		rc.Image.Error = "the image's audit left no facts"
		return rc
	}
	f.Reference, f.Digest = c.Image(), img.Digest
	for _, wf := range workload.CrossCheck(e, f) {
		rc.Findings = append(rc.Findings, report.Finding{ID: wf.ID, Category: string(wf.Category), Severity: wf.Severity,
			Title: wf.Title, Path: wf.Path, Detail: wf.Detail, Remediation: wf.Remediation, Mitigated: wf.Mitigated})
	}
	return rc
}

// auditRef is the reference audited for an image a pod spec names.
func auditRef(ref string, imageMap map[string]string) string {
	if m, ok := imageMap[ref]; ok {
		return m
	}
	return ref
}

// imagesByRef indexes the audited images by the references that name
// them: the one asked for and its aliases, without the platform an index
// adds.
func imagesByRef(imgs []report.Image) map[string]*report.Image {
	out := map[string]*report.Image{}
	for i := range imgs {
		img := &imgs[i]
		for _, name := range append([]string{img.Reference}, img.AlsoKnownAs...) {
			if j := strings.LastIndex(name, " ("); j > 0 && img.Platform != "" && strings.HasSuffix(name, " ("+img.Platform+")") {
				name = name[:j]
			}
			if _, dup := out[name]; !dup {
				out[name] = img
			}
		}
	}
	return out
}

// factChecks are the checks whose findings are image facts of the
// cross-checks. They run for every image of a workload audit whatever the
// policy disables: a policy that turns IA-SETUID off in the image report
// must not blind IW-SETUID-ESCALATION.
func factChecks() []checks.Check {
	return []checks.Check{checks.Setuid(), checks.Setgid(), checks.FileCapability()}
}

// imageFacts is what the cross-checks need to know of an audited image:
// its USER, setuid/setgid files and file capabilities (final filesystem
// only, found by the checks of factChecks on the image's own view, so the
// walk is shared with the audit), its entrypoint and VOLUMEs.
func imageFacts(ctx context.Context, ri *report.Image, img *checks.Image) (workload.ImageFacts, error) {
	cfg := img.Config
	if cfg == nil {
		cfg = &v1.ConfigFile{}
	}
	f := workload.ImageFacts{Digest: ri.Digest, User: cfg.Config.User,
		Entrypoint: cfg.Config.Entrypoint, Cmd: cfg.Config.Cmd}
	if ri.User.UID != nil {
		uid := int64(*ri.User.UID)
		f.UID = &uid
	}
	for v := range cfg.Config.Volumes {
		f.Volumes = append(f.Volumes, v)
	}
	slices.Sort(f.Volumes)
	found, err := checks.Run(ctx, img, factChecks())
	if err != nil {
		return f, err
	}
	for _, fd := range found {
		if fd.Deleted || fd.Path == "" {
			continue
		}
		switch fd.ID {
		case "IA-SETUID":
			f.SetuidFiles = append(f.SetuidFiles, fd.Path)
		case "IA-SETGID":
			f.SetgidFiles = append(f.SetgidFiles, fd.Path)
		case "IA-FILE-CAPABILITY":
			if img.FS == nil {
				continue
			}
			n, err := img.FS.Lstat(fd.Path)
			if err != nil {
				continue
			}
			fc, err := caps.Decode([]byte(n.Xattrs[caps.XattrName]))
			if err != nil {
				continue // the kernel would not read it as capabilities either
			}
			f.FileCapabilities = append(f.FileCapabilities, workload.FileCapability{Path: fd.Path, Caps: fc})
		}
	}
	return f, nil
}

// decodeManifests reads every manifest at paths into one set, and returns
// the warnings for the Helm charts it left out (see manifestFiles).
func decodeManifests(ctx context.Context, paths []string, stdin io.Reader) (*workload.Set, []report.Warning, error) {
	set := &workload.Set{Skipped: map[string]int{}}
	var warns []report.Warning
	for _, p := range paths {
		files, charts, err := manifestFiles(p)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range charts {
			warns = append(warns, report.Warning{Kind: WarningHelmChart,
				Message: fmt.Sprintf("%s: a Helm chart's sources, not read (audit its rendered manifests: helm template %s | imgaudit workload -)", c, c)})
		}
		for _, file := range files {
			s, err := decodeFile(ctx, file, stdin)
			if err != nil {
				return nil, nil, err
			}
			set.Merge(s)
		}
	}
	return set, warns, nil
}

func decodeFile(ctx context.Context, file string, stdin io.Reader) (*workload.Set, error) {
	if file == "-" {
		if stdin == nil {
			return nil, errors.New("-: no standard input")
		}
		return workload.Decode(ctx, file, stdin)
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return workload.Decode(ctx, file, fh)
}

// WarningHelmChart is the kind of the warning a workload audit gives for
// a Helm chart's sources found in a directory it searched: templates, not
// manifests, so not read.
const WarningHelmChart = "helm-chart-not-rendered"

// manifestFiles is p itself, or the .yaml, .yml and .json files under the
// directory p, in lexical order, and the Helm charts found there (a
// directory holding a Chart.yaml), whose files it leaves out: a chart's
// templates are not manifests until rendered, and its Chart.yaml and
// values files never are. A chart given as p is an error.
func manifestFiles(p string) (files, charts []string, err error) {
	if p == "-" {
		return []string{p}, nil, nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		return []string{p}, nil, nil
	}
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if st, err := os.Stat(filepath.Join(path, "Chart.yaml")); err == nil && st.Mode().IsRegular() {
				if path == p {
					return fmt.Errorf("%s is a Helm chart: audit its rendered manifests (helm template %s | imgaudit workload -)", p, p)
				}
				charts = append(charts, path)
				return fs.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if d.Type().IsRegular() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%s: no .yaml, .yml or .json file", p)
	}
	return files, charts, nil
}
