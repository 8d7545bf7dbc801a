package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// UninstallOptions is `kubectl sherpack uninstall NAME`.
type UninstallOptions struct {
	Globals     *Globals
	KeepHistory bool
	Wait        bool
	Timeout     time.Duration
	NoHooks     bool
	DryRun      bool
	Progress    string
	Description string
	DeleteCRDs  bool

	Name, Namespace string
	genericiooptions.IOStreams
}

// NewCmdUninstall builds the uninstall command.
func NewCmdUninstall(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &UninstallOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "uninstall NAME",
		Aliases: []string{"delete", "remove"},
		Short:   "Uninstall a release: delete its objects (reverse order) and its records",
		Long: templates.LongDesc(`
			Uninstall: pre-delete hooks, then the release's objects are deleted in reverse install
			order (objects with resource-policy keep, and CustomResourceDefinitions unless
			--delete-crds, stay: each kept CRD is reported with how many custom resources of it
			exist), then post-delete hooks. A Namespace object of the release is deleted last,
			and only if nothing but the release's objects is left in it; otherwise it is kept
			and the output says why. The release records are deleted, or kept and marked uninstalled
			with --keep-history.`),
		Example: templates.Examples(`
			kubectl sherpack uninstall shop -n prod
			kubectl sherpack uninstall shop -n prod --keep-history --wait
			kubectl sherpack uninstall shop -n prod --dry-run`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := validateReleaseName(o.Name); err != nil {
				return err
			}
			ns, err := o.Globals.Namespace()
			if err != nil {
				return err
			}
			o.Namespace = ns
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.KeepHistory, "keep-history", false, "Keep the release records, marked uninstalled")
	f.BoolVar(&o.Wait, "wait", false, "Wait until every object is gone")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "Time the whole uninstall may take")
	f.BoolVar(&o.NoHooks, "no-hooks", false, "Do not run the pre/post-delete hooks")
	f.BoolVar(&o.DryRun, "dry-run", false, "Show what would be deleted; change nothing (not even the records)")
	f.StringVar(&o.Progress, "progress", "auto", "Progress on stderr: auto, plain, json or none")
	f.StringVar(&o.Description, "description", "", "Description recorded with --keep-history")
	f.BoolVar(&o.DeleteCRDs, "delete-crds", false, "Delete the release's CustomResourceDefinitions too, and with them every custom resource of their kinds in the cluster (kept and counted otherwise)")
	return cmd
}

// Run uninstalls.
func (o *UninstallOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	lc, err := o.Globals.Lifecycle()
	if err != nil {
		return err
	}
	lc.Observer = o.Globals.observer(o.Progress, o.ErrOut)
	out, err := lc.Uninstall(ctx, lifecycle.UninstallOptions{Name: o.Name, Namespace: o.Namespace, KeepHistory: o.KeepHistory,
		Wait: o.Wait, Timeout: o.Timeout, NoHooks: o.NoHooks, DryRun: o.DryRun, Description: o.Description, DeleteCRDs: o.DeleteCRDs})
	finishProgress(lc.Observer)
	if err != nil {
		return err
	}
	deleted, kept := 0, 0
	for _, d := range out.Deleted {
		switch d.Action {
		case "deleted":
			deleted++
		case "kept":
			kept++
			fmt.Fprintf(o.Out, "  kept %s (%s)\n", d.Key, d.Reason)
		}
	}
	if out.DryRun {
		fmt.Fprintf(o.Out, "%s would be uninstalled: %d objects deleted, %d kept (dry run: nothing changed)\n", o.Name, deleted, kept)
		return nil
	}
	hist := "records deleted"
	if o.KeepHistory {
		hist = "history kept"
	}
	fmt.Fprintf(o.Out, "✓ %s uninstalled: %d objects deleted, %d kept, %s\n", o.Name, deleted, kept, hist)
	return nil
}
