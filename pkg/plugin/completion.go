package plugin

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/completion"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// CompletionHelper is the executable kubectl runs to complete `kubectl sherpack ...`: kubectl
// looks for kubectl_complete-<plugin> on PATH and calls it with the words typed after the plugin
// name. Ours runs `kubectl-sherpack __complete "$@"`.
const CompletionHelper = "kubectl_complete-sherpack"

// NewCmdCompletion builds `kubectl sherpack completion SHELL`.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script of kubectl-sherpack",
		Long: templates.LongDesc(`
			Print a completion script for the given shell. The script completes the
			kubectl-sherpack command itself.

			kubectl completes "kubectl sherpack ..." on its own (with kubectl's completion script
			loaded) as soon as the kubectl_complete-sherpack helper is on PATH: make install puts
			it next to kubectl-sherpack, and the release archives ship it. Release names,
			revisions, -o formats, namespaces and contexts are completed from the cluster and the
			kubeconfig.`),
		Example: templates.Examples(`
			# bash: complete kubectl-sherpack, and kubectl sherpack through kubectl's own script
			source <(kubectl-sherpack completion bash)
			source <(kubectl completion bash)

			# zsh
			kubectl-sherpack completion zsh > "${fpath[1]}/_kubectl-sherpack"`),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			// The scripts register the command by the root's name: make it the executable's.
			use := root.Use
			root.Use = "kubectl-sherpack"
			defer func() { root.Use = use }()
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

// completionTimeout bounds every cluster read made while completing: a shell must never hang.
const completionTimeout = 5 * time.Second

// registerGlobalCompletions completes kubectl's global flags as kubectl does: namespaces from
// the cluster, contexts, clusters and users from the kubeconfig.
func registerGlobalCompletions(root *cobra.Command, g *Globals) {
	f := cmdutil.NewFactory(cmdutil.NewMatchVersionFlags(g.ConfigFlags))
	completion.SetFactoryForCompletion(f)
	reg := func(name string, fn func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)) {
		if root.PersistentFlags().Lookup(name) != nil {
			_ = root.RegisterFlagCompletionFunc(name, fn)
		}
	}
	reg("namespace", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completion.CompGetResource(f, "namespace", toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	reg("storage-namespace", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completion.CompGetResource(f, "namespace", toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	reg("context", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completion.ListContextsInConfig(toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	reg("cluster", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completion.ListClustersInConfig(toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	reg("user", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completion.ListUsersInConfig(toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	reg("storage", fixedCompletion("secrets", "configmaps", "file", "memory"))
}

// fixedCompletion completes a flag from a fixed list of values.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// releaseNames lists the releases of the command's namespace (every namespace with -A) from
// the records' metadata: no payload is read.
func (g *Globals) releaseNames(cmd *cobra.Command, toComplete string) []string {
	store, err := g.Store()
	if err != nil {
		return nil
	}
	ns, err := g.Namespace()
	if err != nil {
		return nil
	}
	all := false
	if fl := cmd.Flags().Lookup("all-namespaces"); fl != nil {
		all = fl.Value.String() == "true"
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	ms, err := store.List(ctx, releases.ListOptions{Namespace: ns, AllNamespaces: all})
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m.Name, toComplete) && !seen[m.Name] {
			seen[m.Name] = true
			out = append(out, m.Name)
		}
	}
	sort.Strings(out)
	return out
}

// revisions lists the revisions of a release, newest first, each with its state as the
// description the shell shows.
func (g *Globals) revisions(name, toComplete string) []string {
	ns, store, err := g.NamespaceAndStore()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	ms, err := store.History(ctx, ns, name)
	if err != nil {
		return nil
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Revision > ms[j].Revision })
	var out []string
	for _, m := range ms {
		r := strconv.Itoa(m.Revision)
		if strings.HasPrefix(r, toComplete) {
			out = append(out, r+"\t"+string(m.State))
		}
	}
	return out
}

// completeReleaseArgs completes the first argument with release names and, when the command
// takes one (rollback NAME REVISION), the second with that release's revisions. More names
// are completed for commands taking several (uninstall NAME...).
func (g *Globals) completeReleaseArgs(revisionArgs int, manyNames bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		switch {
		case len(args) == 0 || manyNames:
			return g.releaseNames(cmd, toComplete), cobra.ShellCompDirectiveNoFileComp
		case len(args) <= revisionArgs:
			return g.revisions(args[0], toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeReleaseThenFiles completes a release name, then a pack path (directories and files).
func (g *Globals) completeReleaseThenFiles(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return g.releaseNames(cmd, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	if len(args) == 1 {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// registerRevisionFlag completes --revision with the revisions of the release named first.
func (g *Globals) registerRevisionFlag(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("revision", func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return g.revisions(args[0], toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	})
}
