package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

// NewCmdCompletion builds `kubectl sherpack completion SHELL`.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: templates.LongDesc(`
			Print a completion script for the given shell. As a kubectl plugin, completion of
			"kubectl sherpack ..." also works through a kubectl_complete-sherpack helper on PATH
			that runs "kubectl-sherpack __complete \"$@\"".`),
		Example: templates.Examples(`
			source <(kubectl-sherpack completion bash)
			kubectl-sherpack completion zsh > "${fpath[1]}/_kubectl-sherpack"`),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(streams.Out, true)
			case "zsh":
				return root.GenZshCompletion(streams.Out)
			case "fish":
				return root.GenFishCompletion(streams.Out, true)
			default:
				return root.GenPowerShellCompletionWithDesc(streams.Out)
			}
		},
	}
}
