package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/printers"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// Lifecycle builds the library client: release store, apply client, typed client.
func (g *Globals) Lifecycle() (*lifecycle.Client, error) {
	store, err := g.Store()
	if err != nil {
		return nil, err
	}
	cfg, err := g.RESTConfig()
	if err != nil {
		return nil, err
	}
	ac, err := apply.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &lifecycle.Client{Store: store, Apply: ac, Typed: typed, Config: cfg, Grace: g.Grace}, nil
}

// OperationFlags are the flags of install, upgrade and rollback: the lifecycle's common options,
// bound to flags, and how to show progress.
type OperationFlags struct {
	lifecycle.CommonOptions
	Progress  string
	HideNotes bool
	// Apply are --field-manager and --force-replace, handed to the apply client.
	Apply apply.CLIOptions
	// Labels are --labels (install, upgrade).
	Labels map[string]string
}

// AddFlags registers them; withDryRun adds --dry-run.
func (f *OperationFlags) AddFlags(cmd *cobra.Command, withAtomic bool) {
	fl := cmd.Flags()
	addWaitFlag(fl, &f.Wait, true, "Wait until every object is ready (kstatus), wave by wave")
	fl.DurationVar(&f.Timeout, "timeout", 5*time.Minute, "Time the whole operation may take (hooks and waits included)")
	if withAtomic {
		fl.BoolVar(&f.Atomic, "atomic", false, "On failure, undo: uninstall a failed install, roll a failed upgrade back to the last deployed revision")
		f.addHelmOperationFlags(cmd)
	}
	fl.BoolVar(&f.NoHooks, "no-hooks", false, "Do not run the release's hooks")
	fl.BoolVar(&f.ForceConflicts, "force-conflicts", false, "Take fields that other field managers own (server-side apply force)")
	fl.BoolVar(&f.TakeOwnership, "take-ownership", false, "Adopt objects that exist but belong to no release or to another one")
	fl.StringVar(&f.Description, "description", "", "Description recorded with the revision")
	fl.IntVar(&f.HistoryMax, "history-max", 10, "Revisions kept, failed ones included, pruned after every operation (0 = all); the last deployed one is always kept")
	fl.StringVar(&f.Progress, "progress", "auto", "Progress on stderr: auto (plain lines), plain, json or none")
	f.addApplyFlags(cmd)
}

// Validate checks the values.
func (f *OperationFlags) Validate() error {
	switch f.DryRun {
	case "", "none", "client", "server":
	default:
		return Usagef("--dry-run %q: must be none, client or server", f.DryRun)
	}
	switch f.Progress {
	case "auto", "plain", "json", "none", "quiet":
	default:
		return Usagef("--progress %q: must be auto, plain, json or none", f.Progress)
	}
	if f.Timeout <= 0 {
		return Usagef("--timeout must be positive")
	}
	if f.HistoryMax < 0 {
		return Usagef("--history-max must be 0 (keep all) or more")
	}
	if err := f.validateLabels(); err != nil {
		return err
	}
	if f.Apply.FieldManager == "" || len(f.Apply.FieldManager) > 128 {
		return Usagef("--field-manager %q: give a name of 1 to 128 characters", f.Apply.FieldManager)
	}
	return nil
}

func (f *OperationFlags) common(createNS bool) lifecycle.CommonOptions {
	o := f.CommonOptions
	if o.DryRun == "" {
		o.DryRun = lifecycle.DryRunNone
	}
	o.CreateNamespace = createNS
	return o
}

// observer picks the progress reporter for --progress, and has it tell of API server outages
// too (so that --progress=json stays JSON and the live view is not torn by a stray line).
func (g *Globals) observer(mode string, errOut io.Writer) lifecycle.Observer {
	obs := pickObserver(mode, errOut)
	if _, quiet := obs.(printers.NoProgress); !quiet && g.Outage != nil {
		g.Outage.SetNotify(func(msg string) {
			obs.Event(lifecycle.Event{Time: time.Now(), Type: "api", Action: "warning", Detail: msg})
		})
	}
	return obs
}

func pickObserver(mode string, errOut io.Writer) lifecycle.Observer {
	switch mode {
	case "json":
		return &printers.JSONProgress{W: errOut}
	case "none", "quiet":
		return printers.NoProgress{}
	case "plain":
		return &printers.PlainProgress{W: errOut}
	}
	if f, ok := errOut.(*os.File); ok && isatty.IsTerminal(f.Fd()) && os.Getenv("TERM") != "dumb" {
		return printers.NewLiveProgress(f)
	}
	return &printers.PlainProgress{W: errOut}
}

// renderFunc makes the lifecycle's RenderFunc from the source flags.
func (g *Globals) renderFunc(ctx context.Context, src *SourceFlags, packArg string, lc *lifecycle.Client) lifecycle.RenderFunc {
	warned := false
	return func(info render.ReleaseInfo, previous []pack.Layer) (*lifecycle.Rendered, error) {
		opts := render.Options{Release: info, Capabilities: capabilities(lc), Lookup: lookup(ctx, lc)}
		r, err := src.Load(g.ConfigFlags, packArg, previous, opts)
		if err != nil {
			return nil, err
		}
		// Pack.yaml's unknown keys (file:line, closest known key), once per command however
		// often the operation renders.
		if r.Pack != nil && g.Warn != nil && !warned {
			warned = true
			for _, w := range r.Pack.Warnings {
				fmt.Fprintf(g.Warn, "warning: %s\n", w)
			}
		}
		return &lifecycle.Rendered{Result: r.Result, Pack: r.Pack, Values: r.Values}, nil
	}
}

// capabilities come from discovery when the cluster answers: every group/version, and every
// group/version/Kind (what a Helm chart's .Capabilities.APIVersions.Has checks for).
func capabilities(lc *lifecycle.Client) *render.Capabilities {
	if lc == nil || lc.Apply == nil {
		return nil
	}
	v, err := lc.Apply.Discovery.ServerVersion()
	if err != nil {
		return nil
	}
	caps := &render.Capabilities{KubeVersion: v.GitVersion, FromCluster: true}
	_, lists, err := lc.Apply.Discovery.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		return render.DefaultCapabilities()
	}
	for _, l := range lists {
		caps.APIVersions = append(caps.APIVersions, l.GroupVersion)
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") { // subresources are not kinds of their own
				caps.APIVersions = append(caps.APIVersions, l.GroupVersion+"/"+r.Kind)
			}
		}
	}
	return caps
}

// printSummary prints the one-line result and the notes on stdout.
func printSummary(w io.Writer, verb string, out *lifecycle.Outcome) {
	r := out.Release
	s := out.Stats
	parts := []string{fmt.Sprintf("revision %d", r.Revision)}
	if n := s.Created + s.Configured + s.Unchanged; n > 0 {
		parts = append(parts, fmt.Sprintf("%d objects (%d created, %d changed, %d unchanged)", n, s.Created, s.Configured, s.Unchanged))
	}
	if s.Pruned > 0 {
		parts = append(parts, fmt.Sprintf("%d pruned", s.Pruned))
	}
	if s.HooksRun > 0 {
		parts = append(parts, fmt.Sprintf("%d hook runs", s.HooksRun))
	}
	fmt.Fprintf(w, "✓ %s %s: %s in %s\n", r.Name, verb, strings.Join(parts, ", "), out.Duration.Round(100*time.Millisecond))
	if out.Notes != "" {
		fmt.Fprintln(w, "NOTES:")
		for _, l := range strings.Split(out.Notes, "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

// printDryRun prints what a dry run found.
func printDryRun(w io.Writer, out *lifecycle.Outcome, mode string) {
	if mode == lifecycle.DryRunClient {
		fmt.Fprintf(w, "Plan of %s revision %d (dry run, nothing sent to the cluster):\n", out.Release.Name, out.Release.Revision)
		fmt.Fprint(w, out.Plan.String())
		if len(out.Release.Hooks) > 0 {
			fmt.Fprintln(w, "hooks (by phase, in run order within each):")
			for _, h := range out.Release.Hooks {
				fmt.Fprintf(w, "  %s/%s  phases %s  weight %d\n", h.Kind, h.Name, strings.Join(h.Phases, ","), h.Weight)
			}
		}
		return
	}
	fmt.Fprintf(w, "Server dry run of %s revision %d (admission and validation ran; nothing was stored):\n", out.Release.Name, out.Release.Revision)
	for _, r := range out.DryRunResults {
		fmt.Fprintf(w, "  %-10s %s\n", r.Action, r.Key)
	}
}

// finishProgress lets a live view draw its last state before the summary is printed.
func finishProgress(o lifecycle.Observer) {
	if f, ok := o.(interface{ Finish() }); ok {
		f.Finish()
	}
}
