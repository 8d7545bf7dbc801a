// Package plugin holds the cobra commands of `kubectl sherpack`, one file per verb, in kubectl's
// Options pattern (NewXOptions / Complete / Validate / Run). Business logic lives in pkg/lifecycle.
package plugin

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/retry"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// Globals are the flags every command takes: kubectl's own (--kubeconfig, --context, -n, --as, ...)
// plus where releases are stored.
type Globals struct {
	ConfigFlags *genericclioptions.ConfigFlags
	Storage     StorageFlags
	QPS         float32
	Burst       int
	Verbosity   int
	// Outage is shared by every client of the process: an API server that answered and then
	// stops answering is waited for (and the user told) instead of failing the operation.
	Outage *retry.Outage
	// Grace is --interrupt-grace (see Signals).
	Grace time.Duration
	// Warn is where warnings that do not stop a command go (stderr).
	Warn io.Writer
}

// MaxLogVerbosity is the highest client log level used: from 8 on, client-go logs request and
// response bodies, which hold release payloads and Secrets.
const MaxLogVerbosity = 7

// setupLogging sends client logs (API requests at -v 6, their headers at 7) to stderr, never
// bodies: a higher -v is capped, and said so.
func (g *Globals) setupLogging(errOut interface{ Write([]byte) (int, error) }) error {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	klog.SetOutput(errOut)
	v := min(g.Verbosity, MaxLogVerbosity)
	if g.Verbosity > MaxLogVerbosity {
		fmt.Fprintf(errOut, "Warning: -v=%d capped at %d: higher levels log request bodies, which hold release data and Secrets\n", g.Verbosity, MaxLogVerbosity)
	}
	for k, val := range map[string]string{"v": strconv.Itoa(max(v, 0)), "logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL"} {
		if err := fs.Set(k, val); err != nil {
			return err
		}
	}
	return nil
}

// NewRootCommand builds `kubectl sherpack` with every verb.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	g := &Globals{ConfigFlags: genericclioptions.NewConfigFlags(true), Warn: streams.ErrOut}
	g.Outage = &retry.Outage{Notify: func(msg string) { fmt.Fprintf(streams.ErrOut, "Warning: %s\n", msg) }}
	cmd := &cobra.Command{
		Use:   "sherpack",
		Short: "Release manager for Kubernetes: packs, server-side apply, hooks, waits, diff and rollback",
		Long: templates.LongDesc(`
			Sherpack turns a pack (Pack.yaml, values and Jinja2 templates) or plain manifests into a
			release: applied with server-side apply in a planned order, awaited until healthy, and
			recorded revision by revision in the cluster so that it can be diffed, rolled back,
			recovered and uninstalled.`),
		Example: templates.Examples(`
			# Render a pack without a cluster
			kubectl sherpack template shop ./examples/webapp

			# Install it, then see what an upgrade would change
			kubectl sherpack install shop ./examples/webapp -n prod
			kubectl sherpack diff upgrade shop ./examples/webapp -n prod --set replicas=3`),
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl sherpack"},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	flags := cmd.PersistentFlags()
	g.ConfigFlags.AddFlags(flags)
	g.Storage.AddFlags(flags)
	// High enough that a 500-object release is never throttled by the client; the API server's
	// priority and fairness protects it.
	flags.Float32Var(&g.QPS, "qps", 1000, "Client-side limit of requests per second to the API server")
	flags.IntVar(&g.Burst, "burst", 2000, "Client-side burst of requests to the API server")
	flags.IntVarP(&g.Verbosity, "v", "v", 0, sprintf("Log level of API requests: 6 shows each request and its timing, 7 its headers (capped at %d: request bodies are never logged)", MaxLogVerbosity))
	g.addGraceFlag(flags)
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		g.applyGrace(c.Context())
		return g.setupLogging(streams.ErrOut)
	}
	// kubectl's help layout: each command shows its own flags; the global ones are listed once,
	// by `kubectl sherpack options`.
	templates.ActsAsRootCommand(cmd, nil)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })

	cmd.AddCommand(
		NewCmdVersion(streams),
		NewCmdCompletion(streams),
		NewCmdTemplate(g, streams),
		NewCmdLint(g, streams),
		NewCmdInstall(g, streams),
		NewCmdUpgrade(g, streams),
		NewCmdRollback(g, streams),
		NewCmdUninstall(g, streams),
		NewCmdList(g, streams),
		NewCmdHistory(g, streams),
		NewCmdStatus(g, streams),
		NewCmdGet(g, streams),
		NewCmdRecover(g, streams),
		NewCmdTest(g, streams),
		NewCmdDiff(g, streams),
		NewCmdImport(g, streams),
		NewCmdOptions(streams),
	)
	registerGlobalCompletions(cmd, g)
	return cmd
}

// RESTConfig is the client configuration from kubectl's flags, with client-side throttling set
// high enough that a large release is never throttled by the client (--qps/--burst to change).
func (g *Globals) RESTConfig() (*rest.Config, error) {
	cfg, err := g.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = g.QPS, g.Burst
	// Busy, flaky or restarting API servers: retry what is safe to retry.
	if g.Outage != nil {
		cfg.Wrap(retry.WrapWith(g.Outage))
	} else {
		cfg.Wrap(retry.Wrap)
	}
	return cfg, nil
}
