package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

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
	Offset        int
	Filter        string
	Short         bool
	ByDate        bool
	Reverse       bool

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
			-l selects on the fields name, namespace, status, pack and version, and on the
			labels given with --labels at install or upgrade.
			Sorted by namespace and name (-d: by date of the latest revision, oldest first;
			-r reverses); --filter, --offset and -m/--max apply in that order.`),
		Example: templates.Examples(`
			kubectl sherpack list -A
			kubectl sherpack list --status failed,pending
			kubectl sherpack list --filter '^shop' -d -r -m 5
			kubectl sherpack list -q -l status=deployed
			kubectl sherpack list -o jsonpath='{.items[*].metadata.name}'
			kubectl sherpack list -o custom-columns=NAME:.metadata.name,REV:.revision`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Out.Validate(); err != nil {
				return err
			}
			if o.Max < 0 || o.Offset < 0 {
				return Usagef("--max and --offset must be 0 or more")
			}
			return o.Run(cmd.Context())
		},
	}
	o.Out.AddFlags(cmd, "table")
	f := cmd.Flags()
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List releases of every namespace")
	f.StringVarP(&o.Selector, "selector", "l", "", "Selector on name, namespace, status, pack, version (e.g. status=deployed,pack=webapp)")
	f.StringSliceVar(&o.Status, "status", nil, "Only releases in these states: deployed, failed, pending, superseded, uninstalled, pending-install, ...")
	f.IntVarP(&o.Max, "max", "m", 0, "Print at most this many releases (0 = all)")
	f.IntVar(&o.Offset, "offset", 0, "Skip this many releases first (with --max: pages)")
	f.StringVar(&o.Filter, "filter", "", "Only releases whose name matches this regular expression (Go syntax, as Helm)")
	f.BoolVarP(&o.Short, "short", "q", false, "Print only the release names, one a line")
	f.BoolVarP(&o.ByDate, "date", "d", false, "Sort by the date of the latest revision, oldest first")
	f.BoolVarP(&o.Reverse, "reverse", "r", false, "Reverse the sort order")
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion(stateNames()...))
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
	filter, err := compileFilter(o.Filter)
	if err != nil {
		return err
	}
	var kept []releases.Meta
	for _, m := range ms {
		if filter != nil && !filter.MatchString(m.Name) {
			continue
		}
		if sel.Matches(listFields(m)) {
			kept = append(kept, m)
		}
	}
	kept = o.page(sortReleases(kept, o.ByDate, o.Reverse))
	if o.Short && o.Out.Human() {
		for _, m := range kept {
			fmt.Fprintln(o.IOStreams.Out, m.Name)
		}
		return nil
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
		objs[i] = summaryObject(m)
	}
	return o.Out.PrintObjects(o.IOStreams.Out, objs, false)
}
