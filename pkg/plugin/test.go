package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// TestOptions is `kubectl sherpack test NAME`.
type TestOptions struct {
	Globals  *Globals
	Timeout  time.Duration
	Logs     bool
	Progress string
	genericiooptions.IOStreams
}

// NewCmdTest builds the test command.
func NewCmdTest(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TestOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Run the release's test hooks and report PASS/FAIL for each",
		Long: templates.LongDesc(`
			Run every hook of phase test of the deployed revision (all of them, even after a
			failure), print PASS or FAIL with the duration of each, record the results on the
			revision, and exit non-zero if any failed.`),
		Example: templates.Examples(`
			kubectl sherpack test shop -n prod
			kubectl sherpack test shop -n prod --logs`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateReleaseName(args[0]); err != nil {
				return err
			}
			return o.Run(cmd.Context(), args[0])
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Minute, "Time all the tests may take")
	cmd.Flags().BoolVar(&o.Logs, "logs", false, "Print the logs of the tests' pods")
	cmd.Flags().StringVar(&o.Progress, "progress", "none", "Progress on stderr: auto, plain, json or none")
	return cmd
}

// Run runs the tests.
func (o *TestOptions) Run(ctx context.Context, name string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns, err := o.Globals.Namespace()
	if err != nil {
		return err
	}
	lc, err := o.Globals.Lifecycle()
	if err != nil {
		return err
	}
	lc.Observer = o.Globals.observer(o.Progress, o.ErrOut)
	outcomes, err := lc.Test(ctx, lifecycle.TestOptions{Name: name, Namespace: ns, Timeout: o.Timeout, Logs: o.Logs})
	finishProgress(lc.Observer)
	for _, oc := range outcomes {
		verdict := "PASS"
		if !oc.Succeeded {
			verdict = "FAIL"
		}
		fmt.Fprintf(o.Out, "%s  %s/%s  %s", verdict, oc.Kind, oc.Name, oc.Finished.Sub(oc.Started).Round(100*time.Millisecond))
		if !oc.Succeeded {
			fmt.Fprintf(o.Out, "  %s", oc.Message)
		}
		fmt.Fprintln(o.Out)
		if oc.Logs != "" && (o.Logs || !oc.Succeeded) {
			fmt.Fprintln(o.Out, oc.Logs)
		}
	}
	if err == nil && len(outcomes) == 0 {
		fmt.Fprintf(o.Out, "%s has no test hooks.\n", name)
	}
	return err
}
