package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/printers"
)

// RecoverOptions is `kubectl sherpack recover NAME`.
type RecoverOptions struct {
	Globals *Globals
	Force   bool
	List    bool
	Output  OutputFlags
	genericiooptions.IOStreams
}

// NewCmdRecover builds the recover command.
func NewCmdRecover(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &RecoverOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "recover NAME",
		Short: "Mark the revision an interrupted operation left pending as failed, and free the release",
		Long: templates.LongDesc(`
			When an install, upgrade, rollback or uninstall dies (killed, network lost), its
			revision stays pending and its lock expires. The next operation recovers it by itself;
			recover does it now. A lock still renewed by a live operation is refused unless
			--force. --list shows the releases left pending by operations that died.`),
		Example: templates.Examples(`
			kubectl sherpack recover shop -n prod
			kubectl sherpack recover --list -A`),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: g.completeReleaseArgs(0, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Output.Validate(); err != nil {
				return err
			}
			if o.List {
				return o.RunList(cmd.Context(), cmd.Flags().Changed("all-namespaces"))
			}
			if len(args) != 1 {
				return Usagef("recover needs the release NAME (or --list)")
			}
			if err := validateReleaseName(args[0]); err != nil {
				return err
			}
			return o.Run(cmd.Context(), args[0])
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "Recover even if the lock is still being renewed (the operation may still be running)")
	cmd.Flags().BoolVar(&o.List, "list", false, "List releases left pending by operations that died")
	cmd.Flags().BoolP("all-namespaces", "A", false, "With --list: every namespace")
	o.Output.AddResultFlags(cmd)
	return cmd
}

// Run recovers one release.
func (o *RecoverOptions) Run(ctx context.Context, name string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns, store, err := o.Globals.NamespaceAndStore()
	if err != nil {
		return err
	}
	r, err := store.Recover(ctx, ns, name, o.Force)
	if err != nil {
		return err
	}
	if !o.Output.Human() {
		if r == nil {
			// Nothing was interrupted: the latest revision, as it is.
			if r, err = store.Latest(ctx, ns, name); err != nil {
				return err
			}
		}
		return o.Output.PrintRelease(o.Out, r)
	}
	if r == nil {
		fmt.Fprintf(o.Out, "%s has nothing to recover: no operation was interrupted.\n", name)
		return nil
	}
	fmt.Fprintf(o.Out, "✓ %s recovered: revision %d marked failed (%s)\n", name, r.Revision, r.Reason)
	return nil
}

// RunList lists stale releases.
func (o *RecoverOptions) RunList(ctx context.Context, all bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns, err := o.Globals.Namespace()
	if err != nil {
		return err
	}
	if all {
		ns = ""
	}
	store, err := o.Globals.Store()
	if err != nil {
		return err
	}
	stale, err := store.FindStale(ctx, ns)
	if err != nil {
		return err
	}
	if !o.Output.Human() {
		objs := make([]*unstructured.Unstructured, len(stale))
		for i, m := range stale {
			objs[i] = lifecycle.AsUnstructured(m)
		}
		return o.Output.PrintObjects(o.Out, objs, false)
	}
	if len(stale) == 0 {
		fmt.Fprintln(o.ErrOut, "No interrupted operations.")
		return nil
	}
	return printers.ReleaseTable(o.Out, stale, false, true, false)
}
