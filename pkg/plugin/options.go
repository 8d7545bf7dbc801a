package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

// NewCmdOptions builds `kubectl sherpack options`: the flags every command takes (kubectl's
// --kubeconfig, --context, -n, --as, ..., and where releases are stored), printed once here
// instead of on every command's help, as `kubectl options` does.
func NewCmdOptions(streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "options",
		Short: "Print the flags every command takes (kubectl's global flags, storage, logging)",
		Example: templates.Examples(`
			# The flags inherited by every command
			kubectl sherpack options`),
		Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			_ = cmd.Usage()
		},
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.Out)
	templates.UseOptionsTemplates(cmd)
	return cmd
}
