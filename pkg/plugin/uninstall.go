package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// UninstallOptions is `kubectl sherpack uninstall NAME...`.
type UninstallOptions struct {
	Globals        *Globals
	KeepHistory    bool
	Wait           bool
	Timeout        time.Duration
	NoHooks        bool
	DryRun         bool
	IgnoreNotFound bool
	Progress       string
	Description    string
	DeleteCRDs     bool
	Output         OutputFlags

	Names     []string
	Namespace string
	genericiooptions.IOStreams
}

// NewCmdUninstall builds the uninstall command.
func NewCmdUninstall(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &UninstallOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "uninstall NAME...",
		Aliases: []string{"delete", "remove", "un"},
		Short:   "Uninstall releases: delete their objects (reverse order) and their records",
		Long: templates.LongDesc(`
			Uninstall: pre-delete hooks, then the release's objects are deleted in reverse install
			order (objects with resource-policy keep, and CustomResourceDefinitions unless
			--delete-crds, stay: each kept CRD is reported with how many custom resources of it
			exist), then post-delete hooks. A Namespace object of the release is deleted last,
			and only if nothing but the release's objects is left in it; otherwise it is kept
			and the output says why. The release records are deleted, or kept and marked uninstalled
			with --keep-history. Several releases are uninstalled one after the other; the first
			failure stops the command.`),
		Example: templates.Examples(`
			kubectl sherpack uninstall shop -n prod
			kubectl sherpack uninstall shop api -n prod --keep-history --wait
			kubectl sherpack uninstall shop -n prod --ignore-not-found -o json
			kubectl sherpack uninstall shop -n prod --dry-run`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range args {
				if err := validateReleaseName(n); err != nil {
					return err
				}
			}
			o.Names = args
			if err := o.Output.Validate(); err != nil {
				return err
			}
			ns, err := o.Globals.Namespace()
			if err != nil {
				return err
			}
			o.Namespace = ns
			return o.Run(cmd.Context())
		},
		ValidArgsFunction: g.completeReleaseArgs(0, true),
	}
	f := cmd.Flags()
	f.BoolVar(&o.KeepHistory, "keep-history", false, "Keep the release records, marked uninstalled")
	f.BoolVar(&o.Wait, "wait", false, "Wait until every object is gone")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "Time each uninstall may take")
	f.BoolVar(&o.NoHooks, "no-hooks", false, "Do not run the pre/post-delete hooks")
	f.BoolVar(&o.DryRun, "dry-run", false, "Show what would be deleted; change nothing (not even the records)")
	f.BoolVar(&o.IgnoreNotFound, "ignore-not-found", false, "A release that does not exist is not an error (it is said on stderr)")
	f.StringVar(&o.Progress, "progress", "auto", "Progress on stderr: auto, plain, json or none")
	f.StringVar(&o.Description, "description", "", "Description recorded with --keep-history")
	f.BoolVar(&o.DeleteCRDs, "delete-crds", false, "Delete the release's CustomResourceDefinitions too, and with them every custom resource of their kinds in the cluster (kept and counted otherwise)")
	o.Output.AddResultFlags(cmd)
	return cmd
}

// Run uninstalls each release in turn.
func (o *UninstallOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	lc, err := o.Globals.Lifecycle()
	if err != nil {
		return err
	}
	lc.Observer = o.Globals.observer(o.Progress, o.ErrOut)
	var printed []*unstructured.Unstructured
	for _, name := range o.Names {
		out, err := lc.Uninstall(ctx, lifecycle.UninstallOptions{Name: name, Namespace: o.Namespace, KeepHistory: o.KeepHistory,
			Wait: o.Wait, Timeout: o.Timeout, NoHooks: o.NoHooks, DryRun: o.DryRun, Description: o.Description, DeleteCRDs: o.DeleteCRDs})
		if err != nil && o.IgnoreNotFound && releases.IsNotFound(err) {
			fmt.Fprintf(o.ErrOut, "release %s not found in namespace %s: nothing to uninstall (--ignore-not-found)\n", name, o.Namespace)
			continue
		}
		if err != nil {
			finishProgress(lc.Observer)
			return err
		}
		if !o.Output.Human() {
			r := *out.Release
			if !out.DryRun {
				// With the records deleted there is no stored state left: say what happened.
				r.State = releases.StateUninstalled
			}
			u, err := releaseObject(&r, nil)
			if err != nil {
				return err
			}
			printed = append(printed, u)
			continue
		}
		o.summary(name, out)
	}
	finishProgress(lc.Observer)
	if !o.Output.Human() && (len(printed) > 0 || len(o.Names) > 1) {
		return o.Output.PrintObjects(o.Out, printed, len(o.Names) == 1)
	}
	return nil
}

func (o *UninstallOptions) summary(name string, out *lifecycle.UninstallOutcome) {
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
		fmt.Fprintf(o.Out, "%s would be uninstalled: %d objects deleted, %d kept (dry run: nothing changed)\n", name, deleted, kept)
		return
	}
	hist := "records deleted"
	if o.KeepHistory {
		hist = "history kept"
	}
	fmt.Fprintf(o.Out, "✓ %s uninstalled: %d objects deleted, %d kept, %s\n", name, deleted, kept, hist)
}
