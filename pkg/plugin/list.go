package plugin

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/printers"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// ListOptions is `kubectl sherpack list`.
type ListOptions struct {
	Globals       *Globals
	Out           OutputFlags
	AllNamespaces bool
	Selector      string
	Status        []string
	Max           int

	genericiooptions.IOStreams
}

// NewCmdList builds the list command.
func NewCmdList(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ListOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List releases (their latest revision)",
		Long: templates.LongDesc(`
			List releases. Only the labels and annotations of the release records are read: no
			payload is fetched or decoded, so listing stays fast with long histories.
			-l selects on the fields name, namespace, status, pack and version.`),
		Example: templates.Examples(`
			kubectl sherpack list -A
			kubectl sherpack list --status failed,pending
			kubectl sherpack list -o jsonpath='{.items[*].metadata.name}'
			kubectl sherpack list -o custom-columns=NAME:.metadata.name,REV:.revision`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Out.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Out.AddFlags(cmd, "table")
	f := cmd.Flags()
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List releases of every namespace")
	f.StringVarP(&o.Selector, "selector", "l", "", "Selector on name, namespace, status, pack, version (e.g. status=deployed,pack=webapp)")
	f.StringSliceVar(&o.Status, "status", nil, "Only releases in these states: deployed, failed, pending, superseded, uninstalled, pending-install, ...")
	f.IntVar(&o.Max, "max", 0, "Print at most this many releases (0 = all)")
	return cmd
}

// Run lists.
func (o *ListOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	states, err := releases.ParseStates(o.Status)
	if err != nil {
		return &UsageError{Msg: "--status: " + err.Error()}
	}
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return Usagef("--selector %q: %v", o.Selector, err)
	}
	ns, err := o.Globals.Namespace()
	if err != nil {
		return err
	}
	store, err := o.Globals.Store()
	if err != nil {
		return err
	}
	ms, err := store.List(ctx, releases.ListOptions{Namespace: ns, AllNamespaces: o.AllNamespaces, States: states})
	if err != nil {
		return err
	}
	var kept []releases.Meta
	for _, m := range ms {
		if sel.Matches(labels.Set{"name": m.Name, "namespace": m.Namespace, "status": string(m.State), "pack": m.Pack, "version": m.PackVersion}) {
			kept = append(kept, m)
		}
	}
	if o.Max > 0 && len(kept) > o.Max {
		kept = kept[:o.Max]
	}
	if table, wide := o.Out.IsTable(); table {
		if len(kept) == 0 {
			where := "namespace " + ns
			if o.AllNamespaces {
				where = "any namespace"
			}
			o.ErrOut.Write([]byte("No releases found in " + where + ".\n"))
			return nil
		}
		return printers.ReleaseTable(o.IOStreams.Out, kept, wide, o.AllNamespaces, o.Out.NoHeaders)
	}
	objs := make([]*unstructured.Unstructured, len(kept))
	for i, m := range kept {
		objs[i] = lifecycle.AsUnstructured(m)
	}
	return o.Out.PrintObjects(o.IOStreams.Out, objs, false)
}
