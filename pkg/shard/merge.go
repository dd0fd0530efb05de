package shard

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// ErrIncomplete is wrapped by every error that stops a merge: a shard
// missing, named twice or cut, or shards of different audits. Merge then
// returns no report, never a smaller one.
var ErrIncomplete = errors.New("merge incomplete")

// Input is one shard's jsonl report.
type Input struct {
	// Name names the file in errors.
	Name string
	R    io.Reader
}

// maxLine bounds one line of a shard's report (an image with every
// finding it can have stays far below it).
const maxLine = 256 << 20

// part is one shard's report, read and checked.
type part struct {
	name string
	// unsharded is a whole audit's report (no shard line): merged only
	// on its own, as shard 0/1.
	unsharded bool
	shard     report.Shard
	images    []report.Image
	tool      report.Tool
	gate      *report.Gate
	policy    *report.PolicyRef
	warnings  []report.Warning
}

// line is any line of the jsonl format, told by its keys.
type line struct {
	SchemaVersion int               `json:"schemaVersion"`
	Shard         *report.Shard     `json:"shard"`
	Image         *report.Image     `json:"image"`
	Workload      json.RawMessage   `json:"workload"`
	Summary       *report.Summary   `json:"summary"`
	Tool          report.Tool       `json:"tool"`
	Gate          *report.Gate      `json:"gate"`
	Policy        *report.PolicyRef `json:"policy"`
	Warnings      []report.Warning  `json:"warnings"`
}

// Merge reads the jsonl reports of the N shards of one audit (in any
// order) and returns the report one process auditing everything would
// have returned: the images of every shard, an image found in several
// shards (one digest under repositories of different shards) listed once
// under the reference whose repository sorts first with the others in
// AlsoKnownAs, the summary, the run's gate tallied from the images'
// verdicts, the fleet summary, the policy and its warnings (an
// "unused-ignore" warning is kept only when every shard that audited an
// image gave it).
//
// One jsonl report of a whole audit (written without --shard) is merged
// on its own too, as shard 0/1: the same report, in another format.
//
// A missing shard, a shard given twice, a file cut short (no summary line,
// or a last line with no newline), a summary that does not count the image
// lines before it, or shards of different audits (N, target, tool, gate or
// policy differ) make the merge incomplete: the error wraps ErrIncomplete,
// names the shard and file, and no report is returned. When the merge is
// complete but a shard's audit was not (its summary line lists errors),
// the report is returned with an error listing them, one per line.
func Merge(inputs []Input) (*report.Report, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("%w: no shard report given", ErrIncomplete)
	}
	parts := make([]*part, 0, len(inputs))
	for _, in := range inputs {
		p, err := read(in)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIncomplete, err)
		}
		parts = append(parts, p)
	}
	parts, err := complete(parts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIncomplete, err)
	}
	r := combine(parts)
	var errs []error
	for _, p := range parts {
		for _, e := range p.shard.Errors {
			errs = append(errs, errors.New(e))
		}
	}
	return r, errors.Join(errs...)
}

// read reads and checks one shard's report.
func read(in Input) (*part, error) {
	br := bufio.NewReaderSize(in.R, 64<<10)
	p := &part{name: in.Name}
	where := func() string {
		if p.shard.Count == 0 || p.unsharded {
			return in.Name
		}
		return fmt.Sprintf("shard %d/%d (%s)", p.shard.Index, p.shard.Count, in.Name)
	}
	for n := 1; ; n++ {
		b, err := readLine(br)
		if err == io.EOF {
			if n == 1 {
				return nil, fmt.Errorf("%s: empty file", in.Name)
			}
			return nil, fmt.Errorf("%s: truncated: no summary line after %d lines", where(), n-1)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", where(), n, err)
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("%s: line %d is not JSON (truncated or corrupt): %w", where(), n, err)
		}
		if l.SchemaVersion != report.SchemaVersion {
			return nil, fmt.Errorf("%s: line %d: schema version %d, want %d", where(), n, l.SchemaVersion, report.SchemaVersion)
		}
		done, err := p.add(n, l)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where(), err)
		}
		if done {
			break
		}
	}
	if b, err := readLine(br); err != io.EOF || len(b) > 0 {
		return nil, fmt.Errorf("%s: more after the summary line", where())
	}
	return p, nil
}

// readLine returns the next line without its newline; io.EOF at the end.
// A last line without a newline is cut.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("longer than %d MiB", maxLine>>20)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(buf) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, errors.New("truncated: the last line has no newline")
		case err != nil:
			return nil, err
		}
		return bytes.TrimSuffix(buf, []byte("\n")), nil
	}
}

// add takes line n; it returns true for the summary line, the last.
func (p *part) add(n int, l line) (bool, error) {
	if n == 1 {
		switch {
		case l.Shard != nil && l.Summary == nil && l.Image == nil:
			if err := (Spec{Index: l.Shard.Index, Count: l.Shard.Count}).Validate(); err != nil || l.Shard.Count == 0 {
				return false, fmt.Errorf("line 1: bad shard %d/%d", l.Shard.Index, l.Shard.Count)
			}
			p.shard = *l.Shard
			return false, nil
		case l.Shard == nil && (l.Image != nil || l.Summary != nil):
			// The jsonl report of a whole audit: complete on its own.
			p.unsharded, p.shard = true, report.Shard{Index: 0, Count: 1}
		default:
			return false, errors.New("the first line is neither a shard line nor an image or summary line: not an imgaudit jsonl report")
		}
	}
	switch {
	case l.Image != nil:
		p.images = append(p.images, *l.Image)
		return false, nil
	case l.Workload != nil:
		return false, errors.New("a workload report cannot be merged")
	case l.Summary == nil:
		return false, fmt.Errorf("line %d is neither an image nor the summary", n)
	case p.unsharded && l.Shard != nil:
		return false, errors.New("the summary line names a shard the first line does not")
	case !p.unsharded && (l.Shard == nil || l.Shard.Index != p.shard.Index || l.Shard.Count != p.shard.Count || l.Shard.Target != p.shard.Target):
		return false, errors.New("the summary line does not name the shard the first line names")
	case l.Summary.Images != len(p.images):
		return false, fmt.Errorf("%d image lines, but the summary counts %d", len(p.images), l.Summary.Images)
	}
	if l.Shard != nil {
		p.shard.Errors = l.Shard.Errors
	}
	p.tool, p.gate, p.policy, p.warnings = l.Tool, l.Gate, l.Policy, l.Warnings
	return true, nil
}

// complete checks that parts are the N shards of one audit, each once, and
// returns them by index.
func complete(parts []*part) ([]*part, error) {
	first := parts[0]
	n := first.shard.Count
	byIndex := make([]*part, n)
	for _, p := range parts {
		s := p.shard
		switch {
		case p.unsharded && len(parts) > 1:
			return nil, fmt.Errorf("%s is the report of a whole audit (no shard line): it merges only on its own", p.name)
		case s.Count != n:
			return nil, fmt.Errorf("shard %d/%d (%s) is one of %d shards, but %s is one of %d", s.Index, s.Count, p.name, s.Count, first.name, n)
		case s.Target != first.shard.Target:
			return nil, fmt.Errorf("shard %d/%d (%s) audited %q, but %s audited %q", s.Index, n, p.name, s.Target, first.name, first.shard.Target)
		case byIndex[s.Index] != nil:
			return nil, fmt.Errorf("shard %d/%d is given twice: %s and %s", s.Index, n, byIndex[s.Index].name, p.name)
		case p.tool != first.tool:
			return nil, fmt.Errorf("shard %d/%d (%s) was written by %s %s, but %s by %s %s", s.Index, n, p.name, p.tool.Name, p.tool.Version, first.name, first.tool.Name, first.tool.Version)
		case !sameGate(p.gate, first.gate) || !sameJSON(p.policy, first.policy):
			return nil, fmt.Errorf("shard %d/%d (%s) applied another gate or policy than %s", s.Index, n, p.name, first.name)
		}
		byIndex[s.Index] = p
	}
	var missing []string
	for i, p := range byIndex {
		if p == nil {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s %s missing", plural(len(missing), "shard", "shards"), strings.Join(missing, ", "))
	}
	return byIndex, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sameGate reports whether two shards applied the same gate settings.
func sameGate(a, b *report.Gate) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.FailOn == b.FailOn && a.Profile == b.Profile && a.FailOnNew == b.FailOnNew
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// combine builds the report of the whole audit from its shards, in order.
func combine(parts []*part) *report.Report {
	first := parts[0]
	r := &report.Report{SchemaVersion: report.SchemaVersion, Tool: first.tool, Policy: first.policy, Warnings: []report.Warning{}}
	var all []report.Image
	for _, p := range parts {
		all = append(all, p.images...)
	}
	r.Images = dedupe(all)
	r.Warnings = mergeWarnings(parts)
	r.SortImages()
	r.Summarize()
	if first.gate != nil {
		g := &report.Gate{FailOn: first.gate.FailOn, Profile: first.gate.Profile, FailOnNew: first.gate.FailOnNew}
		r.TallyGate(g)
		r.Gate = g
	}
	if len(r.Images) > 1 {
		r.ComputeFleet(report.FleetTop)
	}
	return r
}

// dedupe lists once an image (digest and platform) that several shards
// audited under repositories of their own, as one process does: under the
// name met first (the repository that sorts first), with the other names
// in AlsoKnownAs.
func dedupe(images []report.Image) []report.Image {
	type key struct{ digest, platform string }
	at := map[key]int{}
	var out []report.Image
	for _, img := range images {
		k := key{img.Digest, img.Platform}
		i, ok := at[k]
		if img.Digest == "" || !ok {
			if img.Digest != "" {
				at[k] = len(out)
			}
			out = append(out, img)
			continue
		}
		kept := out[i]
		if cmp.Or(strings.Compare(Repository(img.Reference), Repository(kept.Reference)), strings.Compare(img.Reference, kept.Reference)) < 0 {
			kept, img = img, kept
		}
		aka := append(slices.Clone(kept.AlsoKnownAs), img.Reference)
		aka = append(aka, img.AlsoKnownAs...)
		slices.Sort(aka)
		kept.AlsoKnownAs = slices.Compact(aka)
		out[i] = kept
	}
	return out
}

// unusedIgnore is the kind of pkg/policy's warning about an ignore that
// matched nothing in the run.
const unusedIgnore = "unused-ignore"

// mergeWarnings returns the warnings of the whole audit: every warning a
// shard gave, once, in order; an ignore is unused only when no shard that
// audited an image used it, and those warnings come last, as the policy
// writes them.
func mergeWarnings(parts []*part) []report.Warning {
	out := []report.Warning{}
	var unused []report.Warning
	for _, p := range parts {
		if !p.audited() {
			continue
		}
		for _, w := range p.warnings {
			if w.Kind == unusedIgnore && !slices.Contains(unused, w) {
				unused = append(unused, w)
			}
		}
	}
	for _, p := range parts {
		for _, w := range p.warnings {
			if w.Kind != unusedIgnore && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	for _, w := range unused {
		everywhere := true
		for _, p := range parts {
			if p.audited() && !slices.Contains(p.warnings, w) {
				everywhere = false
			}
		}
		if everywhere {
			out = append(out, w)
		}
	}
	return out
}

// audited reports whether the shard audited an image (the policy warns of
// unused ignores only then).
func (p *part) audited() bool {
	return slices.ContainsFunc(p.images, func(img report.Image) bool { return img.Error == "" })
}
