package plugin

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// RollbackOptions is `kubectl sherpack rollback NAME [REVISION]`.
type RollbackOptions struct {
	Globals   *Globals
	Op        OperationFlags
	Name      string
	Revision  int
	Namespace string
	Output    OutputFlags
	genericiooptions.IOStreams
}

// NewCmdRollback builds the rollback command.
func NewCmdRollback(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &RollbackOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "rollback NAME [REVISION]",
		Short: "Roll a release back to an earlier revision (default: the previous deployed one)",
		Long: templates.LongDesc(`
			Roll back: a new revision is made with the manifest, values and hooks of the chosen
			revision, the pre/post-rollback hooks run, and objects the current revision added are
			pruned. History keeps every revision.`),
		Example: templates.Examples(`
			kubectl sherpack rollback shop -n prod
			kubectl sherpack rollback shop 3 -n prod --wait=false`),
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Op.Validate(); err != nil {
				return err
			}
			if err := o.Output.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Op.AddFlags(cmd, false)
	addWaitForJobsFlag(cmd, &o.Op)
	o.Output.AddResultFlags(cmd)
	cmd.ValidArgsFunction = g.completeReleaseArgs(1, false)
	return cmd
}

// Complete reads arguments and namespace.
func (o *RollbackOptions) Complete(args []string) error {
	o.Name = args[0]
	if err := validateReleaseName(o.Name); err != nil {
		return err
	}
	if len(args) > 1 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			return Usagef("REVISION %q: must be a revision number (see: kubectl sherpack history %s)", args[1], o.Name)
		}
		o.Revision = n
	}
	ns, err := o.Globals.Namespace()
	o.Namespace = ns
	return err
}

// Run rolls back.
func (o *RollbackOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	lc, err := o.Globals.Lifecycle()
	if err != nil {
		return err
	}
	o.Op.configure(lc)
	lc.Observer = o.Globals.observer(o.Op.Progress, o.ErrOut)
	lc.Store.HistoryMax = o.Op.HistoryMax
	out, err := lc.Rollback(ctx, lifecycle.RollbackOptions{CommonOptions: o.Op.common(false), Name: o.Name, Namespace: o.Namespace, Revision: o.Revision})
	finishProgress(lc.Observer)
	if err != nil {
		return err
	}
	if !o.Output.Human() {
		return o.Output.PrintRelease(o.Out, out.Release)
	}
	printSummary(o.Out, "rolled back ("+out.Release.Description+")", out)
	return nil
}
