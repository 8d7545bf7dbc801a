package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/hooks"
	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// TestOptions is `kubectl sherpack test NAME`.
type TestOptions struct {
	Globals  *Globals
	Timeout  time.Duration
	Logs     bool
	Progress string
	Output   OutputFlags
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
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeReleaseArgs(0, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateReleaseName(args[0]); err != nil {
				return err
			}
			if err := o.Output.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context(), args[0])
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Minute, "Time all the tests may take")
	cmd.Flags().BoolVar(&o.Logs, "logs", false, "Print the logs of the tests' pods")
	cmd.Flags().StringVar(&o.Progress, "progress", "none", "Progress on stderr: auto, plain, json or none")
	o.Output.AddResultFlags(cmd)
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
	if !o.Output.Human() {
		if perr := o.printResult(ctx, lc, ns, name, outcomes); perr != nil {
			return perr
		}
		return err
	}
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

// printResult prints the tested revision (its hooks carry the runs just made) with a tests list:
// each test's kind, name, result, times and message.
func (o *TestOptions) printResult(ctx context.Context, lc *lifecycle.Client, ns, name string, outcomes []hooks.Outcome) error {
	r, err := lc.Store.LastDeployed(ctx, ns, name)
	if err != nil {
		return err
	}
	u, err := releaseObject(r, nil)
	if err != nil {
		return err
	}
	tests := make([]any, 0, len(outcomes))
	for _, oc := range outcomes {
		result := "succeeded"
		if !oc.Succeeded {
			result = "failed"
		}
		t := map[string]any{"kind": oc.Kind, "name": oc.Name, "result": result,
			"started": oc.Started.UTC().Format(time.RFC3339), "finished": oc.Finished.UTC().Format(time.RFC3339)}
		if oc.Message != "" {
			t["message"] = oc.Message
		}
		tests = append(tests, t)
	}
	u.Object["tests"] = tests
	return o.Output.PrintObjects(o.Out, []*unstructured.Unstructured{u}, true)
}
