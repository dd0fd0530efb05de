// Command imgaudit audits container images for hardening: shells, package
// managers, network and permission tools, root users, setuid files, secrets
// and non-minimal bases, each finding tied to the layer and Dockerfile step
// that added it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/imgaudit/imgaudit/internal/cli"
)

// Set by the release build (-ldflags -X).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, cli.Env{
		Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv:  os.Getenv,
		Version: cli.VersionInfo{Version: version, Commit: commit, Date: date},
	})
	stop()
	os.Exit(code)
}
