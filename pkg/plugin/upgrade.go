package plugin

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// UpgradeOptions is `kubectl sherpack upgrade`.
type UpgradeOptions struct {
	Globals                  *Globals
	Source                   SourceFlags
	Op                       OperationFlags
	Install                  bool
	CreateNamespace          bool
	ReuseValues, ResetValues bool
	ResetThenReuse           bool
	CleanupOnFail            bool
	ShowDiff                 bool
	Output                   OutputFlags

	Name, PackArg, Namespace string
	genericiooptions.IOStreams
}

// NewCmdUpgrade builds the upgrade command.
func NewCmdUpgrade(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &UpgradeOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "upgrade NAME (PACK | -f FILENAME)",
		Short: "Upgrade a release to a new revision",
		Long: templates.LongDesc(`
			Upgrade a release: the new revision is recorded as pending-upgrade, the pre-upgrade
			hooks run, objects are applied wave by wave and awaited, objects that left the release
			are pruned, the post-upgrade hooks run; then the new revision is deployed and only then
			is the previous one superseded.

			Values: with no value flag the previous user values are reused; with value flags only
			the new ones count, unless --reuse-values (previous merged values, then the new ones)
			or --reset-then-reuse-values (new pack defaults, previous user values, new ones).`),
		Example: templates.Examples(`
			kubectl sherpack upgrade shop ./examples/webapp -n prod --set replicas=3
			kubectl sherpack upgrade shop ./examples/webapp --install --atomic --timeout 10m
			kubectl sherpack upgrade shop ./examples/webapp --dry-run=server`),
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Source.AddFlags(cmd)
	o.Op.AddFlags(cmd, true)
	addWaitForJobsFlag(cmd, &o.Op)
	cmd.Flags().BoolVar(&o.Op.DeleteCRDs, "delete-crds", false, "Let pruning delete CustomResourceDefinitions that left the release (and every custom resource of their kinds); kept otherwise")
	f := cmd.Flags()
	f.StringVar(&o.Op.DryRun, "dry-run", "none", "none; client: render and print the plan; server: send every object with dryRun=All")
	f.Lookup("dry-run").NoOptDefVal = "client"
	f.BoolVarP(&o.Install, "install", "i", false, "Install the release if it does not exist")
	f.BoolVar(&o.CreateNamespace, "create-namespace", false, "With --install, create the release namespace if needed")
	f.BoolVar(&o.ReuseValues, "reuse-values", false, "Start from the previous release's merged values, then apply the new value flags")
	f.BoolVar(&o.ResetValues, "reset-values", false, "Use only the pack's defaults and the new value flags")
	f.BoolVar(&o.ResetThenReuse, "reset-then-reuse-values", false, "Start from the new pack's defaults plus the previous user values, then the new value flags")
	f.BoolVar(&o.CleanupOnFail, "cleanup-on-fail", false, "Delete the objects a failed upgrade created")
	f.BoolVar(&o.ShowDiff, "diff", false, "Print what the upgrade will change (as diff upgrade) before applying it")
	o.Output.AddResultFlags(cmd)
	o.Op.addLabelsFlag(cmd, true)
	f.BoolVar(&o.Source.SkipCRDs, "skip-crds", false, "Do not apply the CustomResourceDefinitions of the pack's crds/")
	cmd.ValidArgsFunction = g.completeReleaseThenFiles
	return cmd
}

// Complete reads arguments and namespace.
func (o *UpgradeOptions) Complete(args []string) error {
	o.Name = args[0]
	if len(args) > 1 {
		o.PackArg = args[1]
	}
	ns, err := o.Globals.Namespace()
	o.Namespace = ns
	return err
}

// Validate refuses bad input.
func (o *UpgradeOptions) Validate() error {
	if err := validateReleaseName(o.Name); err != nil {
		return err
	}
	if err := o.Source.ValidateArgs(o.PackArg); err != nil {
		return err
	}
	n := 0
	for _, b := range []bool{o.ReuseValues, o.ResetValues, o.ResetThenReuse} {
		if b {
			n++
		}
	}
	if n > 1 {
		return Usagef("--reuse-values, --reset-values and --reset-then-reuse-values exclude each other")
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.ShowDiff && !o.Output.Human() {
		return Usagef("--diff prints a diff on stdout, -o %s an object: use one of them (diff upgrade -o json gives the diff as JSON)", o.Output.Output)
	}
	return o.Op.Validate()
}

func (o *UpgradeOptions) valuesMode() string {
	switch {
	case o.ReuseValues:
		return lifecycle.ValuesReuse
	case o.ResetValues:
		return lifecycle.ValuesReset
	case o.ResetThenReuse:
		return lifecycle.ValuesResetThenReuse
	}
	return lifecycle.ValuesDefault
}

// Run upgrades.
func (o *UpgradeOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	lc, err := o.Globals.Lifecycle()
	if err != nil {
		return err
	}
	if o.ShowDiff {
		d := &DiffOptions{Globals: o.Globals, Source: o.Source, Output: "diff", Context: 3, IOStreams: o.IOStreams}
		rep, err := lc.DiffUpgrade(ctx, lifecycle.DiffOptions{Name: o.Name, Namespace: o.Namespace, Context: 3,
			Render: o.Globals.renderFunc(ctx, &o.Source, o.PackArg, lc), ValuesMode: o.valuesMode(), UserGaveValues: o.Source.GaveValues()})
		if err != nil {
			return err
		}
		if err := d.print(rep, "upgrade"); err != nil {
			return err
		}
	}
	o.Op.configure(lc)
	lc.Observer = o.Globals.observer(o.Op.Progress, o.ErrOut)
	lc.Store.HistoryMax = o.Op.HistoryMax
	prevLabels, err := previousLabels(ctx, lc, o.Namespace, o.Name)
	if err != nil {
		return err
	}
	out, err := lc.Upgrade(ctx, lifecycle.UpgradeOptions{CommonOptions: o.Op.common(o.CreateNamespace), Name: o.Name, Namespace: o.Namespace,
		Render: withLabels(o.Globals.renderFunc(ctx, &o.Source, o.PackArg, lc), o.Op.labelsOnto(prevLabels)), ValuesMode: o.valuesMode(), UserGaveValues: o.Source.GaveValues(),
		Install: o.Install, CleanupOnFail: o.CleanupOnFail})
	finishProgress(lc.Observer)
	if err != nil {
		return err
	}
	if !o.Output.Human() {
		return o.Output.PrintRelease(o.Out, out.Release)
	}
	if out.Plan != nil {
		printDryRun(o.Out, out, o.Op.DryRun)
		return nil
	}
	verb := "upgraded"
	if out.Release.Revision == 1 {
		verb = "installed"
	}
	if o.Op.HideNotes {
		out.Notes = ""
	}
	printSummary(o.Out, verb, out)
	return nil
}
