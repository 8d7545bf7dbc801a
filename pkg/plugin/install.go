package plugin

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// InstallOptions is `kubectl sherpack install`.
type InstallOptions struct {
	Globals         *Globals
	Source          SourceFlags
	Op              OperationFlags
	CreateNamespace bool
	Output          OutputFlags

	Name, PackArg, Namespace string
	genericiooptions.IOStreams
}

// NewCmdInstall builds the install command.
func NewCmdInstall(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &InstallOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "install NAME (PACK | -f FILENAME)",
		Short: "Install a pack (or plain manifests) as a new release",
		Long: templates.LongDesc(`
			Install a release: render the pack, take the release lock, record revision 1 as
			pending-install, run the pre-install hooks, apply every object with server-side apply
			wave by wave (waiting for health between waves), run the post-install hooks, and mark
			the revision deployed. A failed or uninstalled release of that name is replaced.`),
		Example: templates.Examples(`
			kubectl sherpack install shop ./examples/webapp -n prod --create-namespace
			kubectl sherpack install shop ./examples/webapp --values prod.yaml --set replicas=3 --atomic
			kubectl sherpack install shop ./examples/webapp --dry-run=server
			kubectl sherpack install plain -f ./manifests/ -R`),
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
	cmd.Flags().StringVar(&o.Op.DryRun, "dry-run", "none", "none; client: render and print the plan; server: send every object with dryRun=All")
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
	cmd.Flags().BoolVar(&o.CreateNamespace, "create-namespace", false, "Create the release namespace if it does not exist")
	o.Output.AddResultFlags(cmd)
	o.Op.addLabelsFlag(cmd, false)
	cmd.Flags().BoolVar(&o.Source.SkipCRDs, "skip-crds", false, "Do not apply the CustomResourceDefinitions of the pack's crds/")
	cmd.ValidArgsFunction = g.completeReleaseThenFiles
	return cmd
}

// Complete reads arguments and namespace.
func (o *InstallOptions) Complete(args []string) error {
	o.Name = args[0]
	if len(args) > 1 {
		o.PackArg = args[1]
	}
	ns, err := o.Globals.Namespace()
	o.Namespace = ns
	return err
}

// Validate refuses bad input before anything is read from the cluster.
func (o *InstallOptions) Validate() error {
	if err := validateReleaseName(o.Name); err != nil {
		return err
	}
	if err := o.Source.ValidateArgs(o.PackArg); err != nil {
		return err
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	return o.Op.Validate()
}

// Run installs.
func (o *InstallOptions) Run(ctx context.Context) error {
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
	out, err := lc.Install(ctx, lifecycle.InstallOptions{CommonOptions: o.Op.common(o.CreateNamespace), Name: o.Name, Namespace: o.Namespace,
		Render: withLabels(o.Globals.renderFunc(ctx, &o.Source, o.PackArg, lc), o.Op.labelsOnto(nil))})
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
	if o.Op.HideNotes {
		out.Notes = ""
	}
	printSummary(o.Out, "installed", out)
	return nil
}
