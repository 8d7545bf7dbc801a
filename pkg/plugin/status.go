package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/printers"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// StatusOptions is `kubectl sherpack status NAME`.
type StatusOptions struct {
	Globals       *Globals
	Out           OutputFlags
	Revision      int
	ShowResources bool
	genericiooptions.IOStreams
}

// NewCmdStatus builds the status command.
func NewCmdStatus(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &StatusOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a release: revision, state, times, description, hooks, notes, and its objects' health",
		Example: templates.Examples(`
			kubectl sherpack status shop -n prod
			kubectl sherpack status shop -n prod --show-resources
			kubectl sherpack status shop -n prod --revision 2 -o json`),
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
	o.Out.AddFlags(cmd, "text")
	cmd.Flags().IntVar(&o.Revision, "revision", 0, "Show this revision (default: the latest)")
	cmd.ValidArgsFunction = g.completeReleaseArgs(0, false)
	g.registerRevisionFlag(cmd)
	cmd.Flags().BoolVar(&o.ShowResources, "show-resources", false, "Read each object from the cluster and show its health (kstatus)")
	return cmd
}

// Run prints the status.
func (o *StatusOptions) Run(ctx context.Context, name string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns, err := o.Globals.Namespace()
	if err != nil {
		return err
	}
	var lc *lifecycle.Client
	if o.ShowResources {
		lc, err = o.Globals.Lifecycle()
	} else {
		var store *releases.Store
		store, err = o.Globals.Store()
		lc = &lifecycle.Client{Store: store}
	}
	if err != nil {
		return err
	}
	r, err := lc.Get(ctx, ns, name, o.Revision)
	if err != nil {
		return err
	}
	var res []lifecycle.ResourceStatus
	if o.ShowResources {
		if res, err = lc.Resources(ctx, r); err != nil {
			return err
		}
	}
	if table, _ := o.Out.IsTable(); !table {
		u, err := releaseObject(r, res)
		if err != nil {
			return err
		}
		return o.Out.PrintObjects(o.IOStreams.Out, []*unstructured.Unstructured{u}, true)
	}
	printStatus(o.IOStreams.Out, r, res, o.ShowResources)
	return nil
}

func printStatus(w io.Writer, r *releases.Release, res []lifecycle.ResourceStatus, showRes bool) {
	fmt.Fprintf(w, "NAME: %s\nNAMESPACE: %s\nREVISION: %d\nSTATUS: %s\n", r.Name, r.Namespace, r.Revision, r.State)
	pk := r.Pack.Name
	if r.Pack.Version != "" {
		pk += "-" + r.Pack.Version
	}
	if r.Pack.AppVersion != "" {
		pk += " (app " + r.Pack.AppVersion + ")"
	}
	fmt.Fprintf(w, "PACK: %s\n", pk)
	fmt.Fprintf(w, "UPDATED: %s (%s ago)\n", r.UpdatedAt.Local().Format("2006-01-02 15:04:05"), printers.Age(r.UpdatedAt))
	if r.State == releases.StateFailed && r.Reason != "" {
		fmt.Fprintf(w, "REASON: %s\n", r.Reason)
	}
	if r.Description != "" {
		fmt.Fprintf(w, "DESCRIPTION: %s\n", r.Description)
	}
	if r.Holder != nil && r.State.IsPending() {
		fmt.Fprintf(w, "OPERATION: %s\n", r.Holder)
	}
	if showRes {
		fmt.Fprintln(w, "RESOURCES:")
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		for _, s := range res {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Object, s.Status, s.Message)
		}
		tw.Flush()
	}
	if len(r.Hooks) > 0 {
		fmt.Fprintln(w, "HOOKS:")
		for _, h := range r.Hooks {
			last := "never run"
			if h.LastRun != nil {
				last = fmt.Sprintf("%s %s, %s", h.LastRun.Phase, h.LastRun.Result, h.LastRun.Finished.Sub(h.LastRun.Started).Round(100_000_000))
			}
			fmt.Fprintf(w, "  %s/%s [%s] weight %d: %s\n", h.Kind, h.Name, strings.Join(h.Phases, ","), h.Weight, last)
		}
	}
	if r.Notes != "" {
		fmt.Fprintln(w, "NOTES:")
		for _, l := range strings.Split(r.Notes, "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
}
