package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/helmimport"
)

// KindImport is what import -o json|yaml prints.
const KindImport = "Import"

// ImportHelmOptions is `kubectl sherpack import helm RELEASE`.
type ImportHelmOptions struct {
	Globals *Globals
	helmimport.Options
	Output OutputFlags
	// Importer is built by Run from the global flags unless a test set it.
	Importer *helmimport.Importer
	genericiooptions.IOStreams
}

// NewCmdImport builds `import` and its subcommand `helm`.
func NewCmdImport(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import helm RELEASE",
		Short: "Adopt a release another tool manages, in place: history kept, nothing redeployed",
		Long: templates.LongDesc(`
			Take over a release that another tool installed, without redeploying it: its history
			becomes sherpack revisions and its objects become the release's, unchanged.`),
		Example: templates.Examples(`
			kubectl sherpack import helm shop -n prod --dry-run
			kubectl sherpack import helm shop -n prod`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Usagef("import needs a source: kubectl sherpack import helm RELEASE -n NAMESPACE")
		},
	}
	cmd.AddCommand(NewCmdImportHelm(g, streams))
	return cmd
}

// NewCmdImportHelm builds `import helm`.
func NewCmdImportHelm(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ImportHelmOptions{Globals: g, IOStreams: streams}
	var storage string
	cmd := &cobra.Command{
		Use:   "helm RELEASE",
		Short: "Adopt a live Helm release: its revisions, values and notes kept, its objects taken over unchanged",
		Long: templates.LongDesc(`
			Import a Helm release in place. Helm's release records (Secrets, or ConfigMaps with
			--helm-storage configmap) are read and written as sherpack revisions with the same
			numbers, manifests, hooks, notes, user-supplied values, statuses, descriptions and
			times; the chart's name and version become the pack's.

			The release's objects are taken over without being changed: sherpack's release labels
			are added and field ownership moves from Helm's field managers to sherpack's, so that
			the next kubectl sherpack upgrade from the same chart changes nothing and meets no
			conflict. Pod templates are not touched: no pod restarts. A server dry run proves
			each object unchanged before anything is written.

			A release whose latest Helm revision is pending (an operation running, or one that
			died) is refused, with how to recover it. Helm's records are left as they are unless
			--delete-helm-records. Running the import again says it is already done. See
			docs/import.md.`),
		Example: templates.Examples(`
			# See what would change, change nothing
			kubectl sherpack import helm shop -n prod --dry-run

			# Import, then upgrade from the same chart: nothing changes
			kubectl sherpack import helm shop -n prod
			kubectl sherpack upgrade shop ./charts/shop -n prod

			# A release Helm stored in ConfigMaps (HELM_DRIVER=configmap), Helm's records deleted after
			kubectl sherpack import helm shop -n prod --helm-storage configmap --delete-helm-records`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: noCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The flags are checked before anything is read from the environment.
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(args, storage); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&storage, "helm-storage", "secret", "Where Helm keeps its release records: secret (Helm's default) or configmap (HELM_DRIVER=configmap)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "Print what the import would change (revisions to write, objects to relabel, field managers to move) and change nothing")
	fl.BoolVar(&o.DeleteHelmRecords, "delete-helm-records", false, "Once the import succeeded, delete Helm's release records (helm list then no longer shows the release)")
	fl.StringSliceVar(&o.HelmManagers, "helm-field-manager", nil, "More field managers to take over as Helm's (repeatable; \"helm\" and every manager named helm* always are)")
	_ = cmd.RegisterFlagCompletionFunc("helm-storage", fixedCompletion("secret", "configmap"))
	o.Output.addOutput(cmd, "a human summary; with -o, the import report, see docs/json.md")
	return cmd
}

func noCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// Complete reads the release and the namespace.
func (o *ImportHelmOptions) Complete(args []string, storage string) error {
	o.Name = args[0]
	if err := validateReleaseName(o.Name); err != nil {
		return err
	}
	st, err := helmimport.NormalizeStorage(storage)
	if err != nil {
		return Usagef("%v", err)
	}
	o.Storage = st
	o.Namespace, err = o.Globals.Namespace()
	return err
}

// Validate refuses bad flags.
func (o *ImportHelmOptions) Validate() error {
	for _, m := range o.HelmManagers {
		if m == "" || m == "sherpack" {
			return Usagef("--helm-field-manager %q: name a field manager of Helm's (not empty, not sherpack's own)", m)
		}
	}
	if o.DryRun && o.DeleteHelmRecords {
		return Usagef("--dry-run and --delete-helm-records: a dry run deletes nothing; give one of them")
	}
	return o.Output.Validate()
}

// Run imports and prints the report.
func (o *ImportHelmOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Importer == nil {
		lc, err := o.Globals.Lifecycle()
		if err != nil {
			return err
		}
		o.Importer = &helmimport.Importer{Store: lc.Store, Apply: lc.Apply, Typed: lc.Typed}
	}
	rep, err := o.Importer.Run(ctx, o.Options)
	if rep != nil {
		for _, w := range rep.Warnings {
			fmt.Fprintf(o.ErrOut, "Warning: %s\n", w)
		}
	}
	if err != nil {
		if rep != nil && o.Output.Human() {
			var taken []string
			for _, ob := range rep.Objects {
				if ob.Action == "taken-over" {
					taken = append(taken, ob.Object)
				}
			}
			if len(taken) > 0 {
				fmt.Fprintf(o.ErrOut, "Taken over before the import stopped: %s\n", strings.Join(taken, ", "))
			}
		}
		return err
	}
	if !o.Output.Human() {
		u, err := importObject(rep)
		if err != nil {
			return err
		}
		return o.Output.PrintObjects(o.Out, []*unstructured.Unstructured{u}, true)
	}
	printImport(o.Out, rep)
	return nil
}

// importObject is the report as a sherpack.io/v1 Import object.
func importObject(rep *helmimport.Report) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["apiVersion"], m["kind"] = OutputAPIVersion, KindImport
	m["metadata"] = map[string]any{"name": rep.Name, "namespace": rep.Namespace}
	m["source"] = "helm"
	return &unstructured.Unstructured{Object: m}, nil
}

func printImport(w io.Writer, rep *helmimport.Report) {
	from := "Secrets"
	if rep.Storage == helmimport.StorageCM {
		from = "ConfigMaps"
	}
	if rep.AlreadyImported {
		fmt.Fprintf(w, "✓ %s was already imported from Helm (%s): nothing to do.\n", rep.Name, count(len(rep.Revisions), "revision"))
		if len(rep.DeletedHelmRecords) > 0 {
			fmt.Fprintf(w, "  Helm's records deleted: %s\n", strings.Join(rep.DeletedHelmRecords, ", "))
		}
		return
	}
	fmt.Fprintf(w, "Helm release %s in namespace %s: %s, read from %s\n", rep.Name, rep.Namespace, count(len(rep.Revisions), "revision"), from)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  REVISION\tHELM STATUS\tSTATE\tCHART\tAPP VERSION\tDESCRIPTION")
	for _, r := range rep.Revisions {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", r.Revision, r.HelmStatus, r.State, r.Chart, r.AppVersion, oneLine(r.Description))
	}
	_ = tw.Flush()
	printImportObjects(w, rep)
	written, taken, missing := 0, 0, 0
	for _, r := range rep.Revisions {
		if r.Action == "written" || r.Action == "would-write" {
			written++
		}
	}
	for _, ob := range rep.Objects {
		switch ob.Action {
		case "taken-over", "would-take-over":
			taken++
		case "missing":
			missing++
		}
	}
	if rep.DryRun {
		fmt.Fprintf(w, "Dry run: nothing was changed. The import would write %s and take %s over (server dry runs: each stays as it is but for our labels and its field managers).\n", count(written, "revision"), count(taken, "object"))
		return
	}
	fmt.Fprintf(w, "✓ %s imported from Helm: %s written, %s taken over; nothing else changed, no pod restarted.\n", rep.Name, count(written, "revision"), count(taken, "object"))
	if missing > 0 {
		fmt.Fprintf(w, "  %s of the release not in the cluster: the next upgrade creates them again.\n", count(missing, "object"))
	}
	if len(rep.DeletedHelmRecords) > 0 {
		fmt.Fprintf(w, "  Helm's records deleted: %s\n", strings.Join(rep.DeletedHelmRecords, ", "))
	} else {
		fmt.Fprintln(w, "  Helm's records were left as they are (--delete-helm-records removes them).")
	}
	fmt.Fprintf(w, "  Next: kubectl sherpack history %s -n %s, then kubectl sherpack upgrade %s <chart> -n %s\n", rep.Name, rep.Namespace, rep.Name, rep.Namespace)
}

func printImportObjects(w io.Writer, rep *helmimport.Report) {
	if len(rep.Objects) == 0 {
		return
	}
	fmt.Fprintln(w, "Objects:")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, ob := range rep.Objects {
		name := ob.Object
		if ob.Hook {
			name += " (hook)"
		}
		var what []string
		switch ob.Action {
		case "missing":
			what = append(what, "not in the cluster")
		case "already":
			what = append(what, "already taken over")
		}
		if len(ob.Labels) > 0 {
			what = append(what, "labels "+strings.Join(ob.Labels, ", "))
		}
		if len(ob.ManagersRemoved) > 0 {
			what = append(what, "field ownership moved to sherpack from "+strings.Join(ob.ManagersRemoved, ", "))
		}
		if (ob.Action == "taken-over" || ob.Action == "would-take-over") && !ob.InSync && !ob.Hook {
			what = append(what, "differs from Helm's manifest (the next upgrade applies the chart)")
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, strings.Join(what, "; "))
	}
	_ = tw.Flush()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// count is "1 revision", "2 revisions".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
