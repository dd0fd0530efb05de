package checks

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/imgaudit/imgaudit/internal/parallel"
)

// Category groups checks by what they find. The values are part of the JSON
// contract: other tools filter findings on them.
type Category string

// Categories.
const (
	CategoryShell            Category = "shell"             // command interpreters, busybox
	CategoryPackageManager   Category = "package-manager"   // tools that install software
	CategoryNetworkTool      Category = "network-tool"      // download, connect, scan, reconfigure the network
	CategoryPermissionTool   Category = "permission-tool"   // change modes, owners, ACLs, attributes
	CategoryPrivilegeTool    Category = "privilege-tool"    // switch user: sudo, su, doas
	CategoryDebugTool        Category = "debug-tool"        // debuggers, tracers, packet capture
	CategoryBuildTool        Category = "build-tool"        // compilers, linkers, build systems
	CategorySSHServer        Category = "ssh-server"        // remote login daemons
	CategorySetuid           Category = "setuid"            // files with the setuid bit
	CategorySetgid           Category = "setgid"            // files with the setgid bit
	CategoryFileCapability   Category = "file-capability"   // files with capabilities (security.capability)
	CategoryWorldWritable    Category = "world-writable"    // o+w files, o+w directories without sticky bit
	CategoryRootUser         Category = "root-user"         // the container runs as uid 0
	CategoryUserUnverifiable Category = "user-unverifiable" // the user cannot be proven non-root
	CategoryBase             Category = "base"              // the base is not distroless/minimal
	CategorySecret           Category = "secret"            // credentials in config, history or files
	CategoryPassword         Category = "password"          // login passwords set in /etc/shadow
	CategoryHealthcheck      Category = "healthcheck"       // no HEALTHCHECK
	CategoryPackageRecord    Category = "package-record"    // package database and filesystem disagree
	CategorySuspiciousPath   Category = "suspicious-path"   // hostile or malformed layer entries
)

// Meta describes a check. It is static: the same for every image.
type Meta struct {
	// ID is stable and never reused, e.g. "IA-SHELL".
	ID    string `json:"id"`
	Title string `json:"title"`
	// Category is what the check finds (see the Category constants).
	Category Category `json:"category"`
	// Severity is the severity of the check's findings; a check may give a
	// finding a lower one (IA-SECRET-FILE: a package's published test data).
	Severity Severity `json:"severity"`
	// Rationale says why it matters to someone attacking the container.
	Rationale string `json:"rationale"`
	// Remediation says how to remove what the check finds.
	Remediation string `json:"remediation"`
	// Fix is the remediation in one line of at most 58 characters, for a
	// report's fix list ("Fix first:"); Remediation says it in full.
	Fix string `json:"fix,omitempty"`
	// Notes records the check's exact scope: what it counts and what it
	// deliberately does not.
	Notes string `json:"notes,omitempty"`
	// Names lists the command names a tool check matches, "dpkg-*" for a
	// prefix (see the catalogue documentation for the version and target
	// prefix rules).
	Names []string `json:"names,omitempty"`
	// Needs lists the capture patterns (see layers.Match) of the files whose
	// contents the check reads.
	Needs []string `json:"needs,omitempty"`
	// Profiles names the gate profiles the check belongs to (see
	// [Profiles]); Metas fills it in.
	Profiles []string `json:"profiles,omitempty"`
}

// Check is one hardening check.
type Check interface {
	// Meta describes the check.
	Meta() Meta
	// Run inspects img and returns what it found. A check returns an error
	// only when it cannot do its job (a cancelled context); missing files are
	// facts, not errors.
	Run(ctx context.Context, img *Image) ([]Finding, error)
}

// LayerRef names the layer and history step (the Dockerfile line) that
// produced what a finding is about.
type LayerRef struct {
	// Index is the layer's position, 0 being the base; -1 when the history
	// step made no layer (ENV, USER, ...).
	Index int `json:"index"`
	// Digest and DiffID identify the layer blob; empty when Index is -1.
	Digest string `json:"digest,omitempty"`
	DiffID string `json:"diffID,omitempty"`
	// CreatedBy is the history step's created_by, with any credential in it
	// redacted; empty when the image has no history for the layer.
	CreatedBy string `json:"createdBy,omitempty"`
	// HistoryIndex is the step's position in the config history, -1 when
	// unknown.
	HistoryIndex int `json:"historyIndex"`
}

// Finding is one thing a check found. It never holds a secret's value.
type Finding struct {
	ID       string   `json:"id"`
	Category Category `json:"category"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Path is the absolute path of the file in the final filesystem (or, when
	// Deleted, in the lower layer that ships it); for a tool, the real file
	// its PATH entries resolve to. Empty for findings about the config.
	Path string `json:"path,omitempty"`
	// Aliases are the other paths that reach the same file, sorted. For a
	// tool: the PATH entries (symlinks, hardlinks, paths through symlinked
	// directories such as /bin -> usr/bin) whose names are of the finding's
	// category. For other file findings: every hardlink of the file and
	// every PATH entry that resolves to it.
	Aliases []string `json:"aliases,omitempty"`
	// Name is what was matched: the tool name(s), comma-separated and
	// sorted; an ENV variable; a package; an account; the user part of
	// USER; the kind of credential file or anomaly.
	Name string `json:"name,omitempty"`
	// Deleted marks a file that a later layer deleted or replaced but that a
	// lower layer still ships: anyone who pulls the image can read it.
	Deleted bool `json:"deleted,omitempty"`
	// Layer is the layer and history step that added the file (or set the
	// config value); nil when unknown.
	Layer *LayerRef `json:"layer,omitempty"`
	// Detail is human-readable evidence; secrets in it are redacted.
	Detail string `json:"detail,omitempty"`
	// Remediation says how to fix this finding.
	Remediation string `json:"remediation"`
}

// Captures returns the capture patterns to pass as layers.Options.Capture
// when scanning an image for the checks: the union of their Needs and of
// [ImageNeeds], sorted.
func Captures(cs []Check) []string {
	out := ImageNeeds()
	for _, c := range cs {
		out = append(out, c.Meta().Needs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Metas returns the metadata of every check, in table order.
func Metas(cs []Check) []Meta {
	out := make([]Meta, len(cs))
	for i, c := range cs {
		out[i] = c.Meta()
		out[i].Profiles = profilesOf(out[i].ID)
	}
	return out
}

// Run runs the checks against img and returns their findings sorted by
// severity (most severe first), ID, path, name, deleted and layer. Each
// finding gets its check's ID, category and title, its check's severity
// unless the check set a lower one (Low to High: published test data), and
// the check's remediation when it set none. A file that several checks
// report keeps one finding per check, each naming the others (see
// crossReference). The first error stops the run; it names the check.
//
// The checks run side by side, GOMAXPROCS at once: the views they share
// are built once, by the first to ask (see views.go), and each check's
// findings are taken in table order, so the result is the same as one
// after the other. On an image of 20,000 files the checks take a few
// milliseconds, after every layer is read: the time a warm diff adds to
// reading its new layers.
func Run(ctx context.Context, img *Image, cs []Check) ([]Finding, error) {
	found := make([][]Finding, len(cs))
	run, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var once sync.Once
	var first error
	fail := func(id string, err error) {
		once.Do(func() {
			first = fmt.Errorf("check %s: %w", id, err)
			cancel(first)
		})
	}
	started := make([]bool, len(cs))
	parallel.Each(run, len(cs), runtime.GOMAXPROCS(0), func(i int) {
		started[i] = true
		id := cs[i].Meta().ID
		if err := ctx.Err(); err != nil {
			fail(id, err)
			return
		}
		if run.Err() != nil {
			return // another check failed
		}
		fs, err := cs[i].Run(run, img)
		if err != nil {
			fail(id, err)
			return
		}
		found[i] = fs
	})
	if first == nil {
		// The context ended before these checks were handed out.
		for i, c := range cs {
			if !started[i] {
				return nil, fmt.Errorf("check %s: %w", c.Meta().ID, ctx.Err())
			}
		}
	}
	if first != nil {
		return nil, first
	}
	var all []Finding
	for i, c := range cs {
		m := c.Meta()
		for _, f := range found[i] {
			f.ID, f.Category, f.Title = m.ID, m.Category, m.Title
			if f.Severity == Info || f.Severity > m.Severity {
				f.Severity = m.Severity
			}
			if f.Remediation == "" {
				f.Remediation = m.Remediation
			}
			all = append(all, f)
		}
	}
	crossReference(all)
	SortFindings(all)
	return all, nil
}

// crossReference applies the rule of one finding per file per cause. A
// check reports each file once, whatever names reach it (hardlinks and
// PATH aliases fold into one finding), and never what another check
// reports for the same cause (a secret the config still holds is
// IA-SECRET-ENV's, not IA-SECRET-HISTORY's). A file with several causes
// (a setuid su is a setuid file and a user-switching tool) keeps a finding
// per check, since each cause has its own fix: clearing the bit leaves the
// tool, removing the tool removes both. So that such a file is not read as
// two, each of its findings ends its detail with the other checks that
// report the same file: "also IA-PRIVILEGE-TOOL". The same path shipped
// deleted in a lower layer is another file.
func crossReference(fs []Finding) {
	type file struct {
		path    string
		deleted bool
	}
	ids := map[file][]string{}
	for _, f := range fs {
		if f.Path == "" {
			continue
		}
		k := file{f.Path, f.Deleted}
		if !slices.Contains(ids[k], f.ID) {
			ids[k] = append(ids[k], f.ID)
		}
	}
	for i, f := range fs {
		others := slices.DeleteFunc(slices.Clone(ids[file{f.Path, f.Deleted}]), func(id string) bool { return id == f.ID })
		if f.Path == "" || len(others) == 0 {
			continue
		}
		slices.Sort(others)
		also := "also " + strings.Join(others, ", ")
		if f.Detail == "" {
			fs[i].Detail = also
		} else {
			fs[i].Detail = f.Detail + "; " + also
		}
	}
}

// SortFindings sorts findings deterministically: severity (most severe
// first), ID, path, name, deleted, layer index, aliases, detail.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, compareFindings)
}

func compareFindings(a, b Finding) int {
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if a.Deleted != b.Deleted {
		if !a.Deleted {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(layerIndex(a.Layer), layerIndex(b.Layer)); c != 0 {
		return c
	}
	if c := cmp.Compare(historyIndex(a.Layer), historyIndex(b.Layer)); c != 0 {
		return c
	}
	if c := cmp.Compare(strings.Join(a.Aliases, "\n"), strings.Join(b.Aliases, "\n")); c != 0 {
		return c
	}
	return cmp.Compare(a.Detail, b.Detail)
}

func layerIndex(l *LayerRef) int {
	if l == nil {
		return -2
	}
	return l.Index
}

func historyIndex(l *LayerRef) int {
	if l == nil {
		return -2
	}
	return l.HistoryIndex
}
