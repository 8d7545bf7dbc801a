package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/lint"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// LintOptions is `kubectl sherpack lint PACK`.
type LintOptions struct {
	Globals *Globals
	Values  pack.Options
	Strict  bool
	Output  string
	Offline bool

	PackArg, Namespace string
	// Kinds answers which kinds exist; nil: the cluster's discovery when it answers, else the
	// offline list.
	Kinds lint.Kinds
	genericiooptions.IOStreams
}

// lintFailed carries lint's exit code: 1 when there are findings that fail the run.
type lintFailed struct{ errors, warnings int }

func (e *lintFailed) Error() string {
	return fmt.Sprintf("lint found %d error(s) and %d warning(s)", e.errors, e.warnings)
}
func (e *lintFailed) ExitCode() int { return ExitFailed }

// NewCmdLint builds the lint command.
func NewCmdLint(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &LintOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "lint PACK",
		Short: "Check a pack as a CI gate: render it, validate its values and objects, report every problem with file:line",
		Long: templates.LongDesc(`
			Render the pack with its default values, and again with the values given (--values,
			--set...), validate them against the pack's schema and check every document: objects
			without apiVersion, kind or name, objects defined twice, invalid sherpack.io/*
			annotations (hook phase, weight, policies, sync wave, health checks), kinds the
			cluster does not serve (the cluster's discovery when it answers, an offline list of
			Kubernetes v1.37 kinds otherwise), objects outside the release namespace, unknown
			Pack.yaml keys.

			Exit status: 0 when clean or with warnings only, 1 with errors (or with warnings
			under --strict), 3 for bad input.`),
		Example: templates.Examples(`
			kubectl sherpack lint ./examples/webapp
			kubectl sherpack lint ./examples/webapp --values prod.yaml --set replicas=3 --strict
			kubectl sherpack lint ./examples/webapp -o json`),
		Args: cobra.ExactArgs(1),
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
	f := cmd.Flags()
	f.StringArrayVar(&o.Values.ValuesFiles, "values", nil, "Values file (repeatable; - is stdin). Later files win")
	f.StringArrayVar(&o.Values.Set, "set", nil, "Set values: a.b=c (repeatable; JSON when the value starts with [ or {)")
	f.StringArrayVar(&o.Values.SetString, "set-string", nil, "Set values, always as strings (repeatable)")
	f.StringArrayVar(&o.Values.SetFile, "set-file", nil, "Set a value to the content of a file: key=path (repeatable)")
	f.StringArrayVar(&o.Values.SetJSON, "set-json", nil, "Set a value from JSON: key=<json> (repeatable)")
	f.BoolVar(&o.Strict, "strict", false, "Fail (exit 1) on warnings too")
	f.StringVarP(&o.Output, "output", "o", "", "Output format: text (default) or json")
	f.BoolVar(&o.Offline, "offline", false, "Do not ask a cluster which kinds it serves: use the offline list of Kubernetes v1.37 kinds")
	return cmd
}

// Complete reads the pack argument and the namespace.
func (o *LintOptions) Complete(args []string) error {
	o.PackArg = args[0]
	ns, err := o.Globals.Namespace()
	if err != nil {
		return err
	}
	o.Namespace = ns
	o.Values.Stdin = o.In
	return nil
}

// Validate refuses bad flags.
func (o *LintOptions) Validate() error {
	switch o.Output {
	case "", "text", "json":
	default:
		return Usagef("--output %q: use text or json", o.Output)
	}
	return nil
}

// Run lints and prints the findings.
func (o *LintOptions) Run(ctx context.Context) error {
	user, err := o.Values.Layers()
	if err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if o.Kinds == nil {
		o.Kinds = o.clusterKinds(ctx)
	}
	rep := lint.Run(o.PackArg, lint.Options{User: user, Namespace: o.Namespace, Kinds: o.Kinds})
	if o.Strict { // warnings become errors
		for i := range rep.Findings {
			rep.Findings[i].Severity = lint.Error
		}
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, f := range rep.Findings {
			fmt.Fprintln(o.Out, f.String())
		}
		fmt.Fprintf(o.ErrOut, "%s: %d error(s), %d warning(s) (kinds checked against the %s)\n", o.PackArg, rep.Errors(), rep.Warnings(), rep.Kinds)
	}
	if rep.Errors() > 0 {
		return &lintFailed{errors: rep.Errors(), warnings: rep.Warnings()}
	}
	return nil
}

// clusterKinds is the cluster's discovery when a cluster answers within a few seconds, else
// the offline list.
func (o *LintOptions) clusterKinds(ctx context.Context) lint.Kinds {
	if o.Offline {
		return lint.OfflineKinds()
	}
	raw, err := o.Globals.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil || len(raw.Clusters) == 0 {
		return lint.OfflineKinds() // no cluster configured
	}
	base, err := o.Globals.ConfigFlags.ToRESTConfig()
	if err != nil {
		return lint.OfflineKinds()
	}
	cfg := rest.CopyConfig(base)
	cfg.Timeout = 5 * time.Second
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return lint.OfflineKinds()
	}
	done := make(chan lint.Kinds, 1)
	go func() {
		groups, err := restmapper.GetAPIGroupResources(dc)
		if err != nil {
			done <- nil
			return
		}
		done <- lint.MapperKinds(restmapper.NewDiscoveryRESTMapper(groups))
	}()
	select {
	case k := <-done:
		if k != nil {
			return k
		}
	case <-ctx.Done():
	case <-time.After(6 * time.Second):
	}
	return lint.OfflineKinds()
}
