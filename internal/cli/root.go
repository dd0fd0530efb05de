// Package cli holds imgaudit's cobra commands. Commands only parse flags,
// build library options and make one call into pkg/; all printing happens
// here, and errors are printed once, by Execute.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
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
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	root := NewRoot(env)
	root.SetArgs(env.Args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(env.Stderr, "imgaudit: %s\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(env.Stderr, "imgaudit: %s\n", err)
	return ExitError
}

// NewRoot builds the command tree.
func NewRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "imgaudit",
		Short: "Audit container images for hardening",
		Long: `imgaudit audits container images for what an attacker could use: shells,
package managers, network and permission tools, a root user, setuid files,
secrets and non-minimal bases. Each finding names the file, the layer and the
Dockerfile step that added it, and how to remove it.

Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  usage error, or an image that could not be scanned completely`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       env.Version.String(),
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: ExitError, err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newScanCommand(env), newVersionCommand(env))
	return root
}

func newVersionCommand(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print imgaudit's version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := env.Version
			fmt.Fprintf(cmd.OutOrStdout(), "imgaudit %s\n", v.String())
			if v.Commit != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "commit:   %s\n", v.Commit)
			}
			if v.Date != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "built:    %s\n", v.Date)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
