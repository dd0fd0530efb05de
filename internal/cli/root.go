// Package cli holds imgaudit's cobra commands. Commands only parse flags,
// build library options and make one call into pkg/; all printing happens
// here, and errors are printed once, by Execute.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// Exit codes. They are part of imgaudit's contract with CI pipelines.
const (
	ExitOK       = 0 // no finding at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on
	ExitError    = 2 // usage error, or an image that could not be scanned completely
)

// Env is everything the commands take from the process.
type Env struct {
	Args    []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Version VersionInfo
	// Dir is the working directory, where the policy file is looked for;
	// "" means the process's.
	Dir string
	// Now is the clock policy expiry dates are read against; nil means
	// time.Now.
	Now func() time.Time
	// IsTerminal says whether w is a terminal (colour on stdout, progress
	// on stderr); nil means a real check of *os.File values.
	IsTerminal func(w io.Writer) bool
	// TerminalWidth returns the width of the terminal w is, 0 when unknown;
	// nil means the terminal's own (golang.org/x/term).
	TerminalWidth func(w io.Writer) int
	// RunAudit is the library call scan makes; nil means audit.RunStream.
	// Tests set it to drive the gate with reports built in code.
	RunAudit func(ctx context.Context, refs []string, o audit.Options, emit func(report.Image)) (*report.Report, error)
}

// withDefaults fills in what the caller left unset.
func (env Env) withDefaults() Env {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.IsTerminal == nil {
		env.IsTerminal = isTerminal
	}
	if env.TerminalWidth == nil {
		env.TerminalWidth = terminalWidth
	}
	if env.RunAudit == nil {
		env.RunAudit = audit.RunStream
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	return env
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// tableWidth is the width a table on w fits: on a terminal its width
// ($COLUMNS when set, else the terminal's own); otherwise 0, which the
// renderer takes as output.TableWidth. The renderer never goes below
// output.MinTableWidth.
func tableWidth(env Env, w io.Writer) int {
	if !env.IsTerminal(w) {
		return 0
	}
	if c, err := strconv.Atoi(env.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	return env.TerminalWidth(w)
}

// colorWanted reports whether output to w may use ANSI colours: only on a
// terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb.
func colorWanted(env Env, w io.Writer) bool {
	return env.IsTerminal(w) && env.Getenv("NO_COLOR") == "" && env.Getenv("TERM") != "dumb"
}

// VersionInfo is set at build time.
type VersionInfo struct {
	Version, Commit, Date string
}

func (v VersionInfo) String() string {
	s := v.Version
	if s == "" {
		s = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			s = bi.Main.Version
		}
	}
	return s
}

// exitError carries an exit code with an error that was already printed, or
// that should be printed once by Execute.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// Execute runs the command line in env and returns the process exit code.
func Execute(ctx context.Context, env Env) int {
	env = env.withDefaults()
	root := NewRoot(env)
	root.SetArgs(env.Args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(env.Stderr, ee.err)
		}
		return ee.code
	}
	if msg := oneLine(err); msg != err.Error() {
		err = errors.New(msg)
	}
	printError(env.Stderr, err)
	return ExitError
}

// printError prints err, one line per failure ("imgaudit: ..."), escaped:
// messages carry paths, references and tags from images and registries,
// which must not move the cursor or start a line of their own in a
// terminal or a CI log (see output.Escape).
func printError(w io.Writer, err error) {
	for _, line := range errorLines(err) {
		fmt.Fprintf(w, "imgaudit: %s\n", output.Escape(line))
	}
}

// errorLines splits what errors.Join put together (an audit of several
// images fails once per image) into one message per failure. Any other
// newline in a message is data, and output.Escape shows it as \n.
func errorLines(err error) []string {
	msg := err.Error()
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		errs := u.Unwrap()
		parts := make([]string, len(errs))
		for i, e := range errs {
			parts[i] = e.Error()
		}
		if len(errs) > 1 && strings.Join(parts, "\n") == msg {
			var lines []string
			for _, e := range errs {
				lines = append(lines, errorLines(e)...)
			}
			return lines
		}
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil && inner.Error() == msg {
			return errorLines(inner)
		}
	}
	return []string{msg}
}

// oneLine turns cobra's multi-line unknown-command error ("unknown command
// "scna" for "imgaudit"\n\nDid you mean this?\n\tscan\n") into one line
// that says what to do.
func oneLine(err error) string {
	msg := err.Error()
	if !strings.HasPrefix(msg, "unknown command ") {
		return msg
	}
	first, rest, _ := strings.Cut(msg, "\n")
	hint := "see 'imgaudit --help'"
	if _, sugg, ok := strings.Cut(rest, "Did you mean this?"); ok {
		if names := strings.Fields(sugg); len(names) > 0 {
			hint = "did you mean " + strings.Join(names, " or ") + "? " + hint
		}
	}
	return first + " (" + hint + ")"
}

// withUsageHints makes the argument errors of every command in the tree
// usage errors that name the help to read ("accepts 1 arg(s), received 0
// (see 'imgaudit registry --help')"), and makes subcommands that only group
// others print their help, and reject a mistyped subcommand instead of
// ignoring it. (The root's unknown commands are cobra's; see oneLine.)
func withUsageHints(c *cobra.Command) {
	if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		if c.Args == nil {
			c.Args = cobra.NoArgs
		}
	}
	if validate := c.Args; validate != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := validate(cmd, args); err != nil {
				var ee *exitError
				if errors.As(err, &ee) {
					return err
				}
				return &exitError{code: ExitError, err: fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		withUsageHints(sub)
	}
}

// helpWidth is the width flag help is wrapped to.
const helpWidth = 80

// exitCodesHelp is the exit-code contract, shown in --help and the README.
const exitCodesHelp = `Exit codes:
  0  the gate passed: no finding of the --profile's checks (default
     baseline) and none at or above --fail-on when given
  1  the gate failed (suppressed findings never count)
  2  usage error, invalid policy file, or an image that could not be scanned
     completely (a partial read is never reported as clean)`

// NewRoot builds the command tree.
func NewRoot(env Env) *cobra.Command {
	env = env.withDefaults()
	root := &cobra.Command{
		Use:   "imgaudit",
		Short: "Audit container images for hardening",
		Long: `imgaudit audits container images for what an attacker could use: shells,
package managers, network and permission tools, a root user, setuid files,
secrets and non-minimal bases. Each finding names the file, the layer and the
Dockerfile step that added it, and how to remove it.

` + exitCodesHelp,
		Example: `  imgaudit scan registry.example.com/app:1.2
  imgaudit scan --fail-on medium -o sarif=imgaudit.sarif oci:./image
  imgaudit registry --repo 'team/*' registry.example.com
  imgaudit checks`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Version:           env.Version.String(),
		DisableAutoGenTag: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	// Flag help wraps at 80 columns, like the rest of the help.
	root.SetUsageTemplate(strings.ReplaceAll(root.UsageTemplate(), ".FlagUsages ", fmt.Sprintf(".FlagUsagesWrapped %d ", helpWidth)))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: ExitError, err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newScanCommand(env), newDiffCommand(env), newRegistryCommand(env), newMergeCommand(env), newWorkloadCommand(env), newAttestCommand(env), newVerifyCommand(env), newChecksCommand(env), newCacheCommand(env), newVersionCommand(env), newCompletionCommand())
	withUsageHints(root)
	return root
}

// versionJSON is `imgaudit version --format json`.
type versionJSON struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Date     string `json:"date,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	// SBOM says whether this build catalogues packages (syft is linked).
	SBOM bool `json:"sbom"`
}

func newVersionCommand(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print imgaudit's version, commit, build date and Go version",
		Example: `  imgaudit version
  imgaudit version --format json | jq -r .version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := env.Version
			out := cmd.OutOrStdout()
			switch format {
			case "text":
				fmt.Fprintf(out, "imgaudit %s\n", v.String())
				if v.Commit != "" {
					fmt.Fprintf(out, "commit:   %s\n", v.Commit)
				}
				if v.Date != "" {
					fmt.Fprintf(out, "built:    %s\n", v.Date)
				}
				fmt.Fprintf(out, "go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
				if !sbom.Available {
					fmt.Fprintln(out, "sbom:     not built in (build tag nosbom)")
				}
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(versionJSON{
					Version: v.String(), Commit: v.Commit, Date: v.Date,
					Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
					SBOM: sbom.Available,
				})
			default:
				return &exitError{code: ExitError, err: fmt.Errorf("unknown format %q (want text or json)", format)}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text, json")
	return cmd
}
