package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// completionShells are the shells `imgaudit completion` writes scripts for,
// with how to load the script once and for every session.
var completionShells = []struct {
	name, load, install string
	write               func(root *cobra.Command, w io.Writer, descriptions bool) error
}{
	{
		name: "bash",
		load: `  source <(imgaudit completion bash)`,
		install: `  # Linux (needs the bash-completion package):
  imgaudit completion bash > /etc/bash_completion.d/imgaudit
  # macOS with Homebrew's bash-completion@2:
  imgaudit completion bash > $(brew --prefix)/etc/bash_completion.d/imgaudit`,
		write: func(root *cobra.Command, w io.Writer, d bool) error { return root.GenBashCompletionV2(w, d) },
	},
	{
		name: "zsh",
		load: `  source <(imgaudit completion zsh)`,
		install: `  # once, if completion is not enabled yet:
  echo "autoload -U compinit; compinit" >> ~/.zshrc
  imgaudit completion zsh > "${fpath[1]}/_imgaudit"`,
		write: func(root *cobra.Command, w io.Writer, d bool) error {
			if d {
				return root.GenZshCompletion(w)
			}
			return root.GenZshCompletionNoDesc(w)
		},
	},
	{
		name:    "fish",
		load:    `  imgaudit completion fish | source`,
		install: `  imgaudit completion fish > ~/.config/fish/completions/imgaudit.fish`,
		write:   func(root *cobra.Command, w io.Writer, d bool) error { return root.GenFishCompletion(w, d) },
	},
	{
		name: "powershell",
		load: `  imgaudit completion powershell | Out-String | Invoke-Expression`,
		install: `  # add the line above to your PowerShell profile ($PROFILE)
  imgaudit completion powershell >> $PROFILE`,
		write: func(root *cobra.Command, w io.Writer, d bool) error {
			if d {
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return root.GenPowerShellCompletion(w)
		},
	},
}

// newCompletionCommand replaces cobra's default completion command with
// one that documents, per shell, how to load and install the script.
func newCompletionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion SHELL",
		Short: "Write the shell completion script (bash, zsh, fish, powershell)",
		Long: `Write the script that completes imgaudit's commands, flags and flag values
in bash, zsh, fish or PowerShell to standard output. See each shell's
command for how to load it in the current session and for every new one.`,
		Example: `  source <(imgaudit completion bash)
  imgaudit completion zsh > "${fpath[1]}/_imgaudit"
  imgaudit completion fish > ~/.config/fish/completions/imgaudit.fish
  imgaudit completion powershell | Out-String | Invoke-Expression`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, sh := range completionShells {
		var noDesc bool
		sub := &cobra.Command{
			Use:   sh.name,
			Short: fmt.Sprintf("Write the %s completion script", sh.name),
			Long: fmt.Sprintf(`Write the %s completion script to standard output.

Load it in the current session:

%s

Load it in every new session:

%s`, sh.name, sh.load, sh.install),
			Example:               sh.load + "\n" + sh.install,
			Args:                  cobra.NoArgs,
			DisableFlagsInUseLine: true,
			ValidArgsFunction:     cobra.NoFileCompletions,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := sh.write(cmd.Root(), cmd.OutOrStdout(), !noDesc); err != nil {
					return &exitError{code: ExitError, err: fmt.Errorf("writing the %s completion script: %w", sh.name, err)}
				}
				return nil
			},
		}
		sub.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete without the descriptions of commands and flags")
		cmd.AddCommand(sub)
	}
	return cmd
}
