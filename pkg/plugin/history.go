package plugin

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/printers"
)

// HistoryOptions is `kubectl sherpack history NAME`.
type HistoryOptions struct {
	Globals *Globals
	Out     OutputFlags
	Max     int
	genericiooptions.IOStreams
}

// NewCmdHistory builds the history command.
func NewCmdHistory(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &HistoryOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "history NAME",
		Aliases: []string{"hist"},
		Short:   "Show the revisions of a release",
		Example: templates.Examples(`
			kubectl sherpack history shop -n prod
			kubectl sherpack history shop -n prod --max 3 -o yaml`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateReleaseName(args[0]); err != nil {
				return err
			}
			if err := o.Out.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context(), args[0])
		},
	}
	o.Out.AddFlags(cmd, "table")
	cmd.Flags().IntVar(&o.Max, "max", 256, "Show at most this many of the latest revisions")
	cmd.ValidArgsFunction = g.completeReleaseArgs(0, false)
	return cmd
}

// Run prints the history.
func (o *HistoryOptions) Run(ctx context.Context, name string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns, store, err := o.Globals.NamespaceAndStore()
	if err != nil {
		return err
	}
	lc := &lifecycle.Client{Store: store}
	h, err := lc.History(ctx, ns, name, o.Max)
	if err != nil {
		return err
	}
	if table, _ := o.Out.IsTable(); table {
		return printers.HistoryTable(o.IOStreams.Out, h, o.Out.NoHeaders)
	}
	objs := make([]*unstructured.Unstructured, len(h))
	for i, m := range h {
		objs[i] = summaryObject(m)
	}
	return o.Out.PrintObjects(o.IOStreams.Out, objs, false)
}
