package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kdiff "k8s.io/kubectl/pkg/cmd/diff"
	"k8s.io/kubectl/pkg/util/templates"
	"k8s.io/utils/exec"

	"github.com/sherpack/kubectl-sherpack/pkg/diff"
	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// DiffOptions is `kubectl sherpack diff upgrade|revisions|drift`.
type DiffOptions struct {
	Globals          *Globals
	Source           SourceFlags
	Output           string
	Context          int
	DetailedExitCode bool
	ShowSecrets      bool
	AllFields        bool
	ReuseValues      bool
	ResetValues      bool
	ResetThenReuse   bool
	// release and namespace of the diff, for -o json.
	release, namespace string
	genericiooptions.IOStreams
}

// silentExit ends the process with a code and nothing more to say (diff --detailed-exitcode).
type silentExit struct{ code int }

func (e *silentExit) Error() string { return "" }
func (e *silentExit) ExitCode() int { return e.code }

// NewCmdDiff builds the diff command.
func NewCmdDiff(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &DiffOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "diff upgrade|revisions|drift",
		Short: "Show what an upgrade would change, what changed between revisions, or what drifted in the cluster",
		Long: templates.LongDesc(`
			diff upgrade sends every object of the new revision as a server-side dry run and compares
			the result with the live object, so defaults, admission webhooks and other managers'
			fields are accounted for; fields of the release changed by hand are marked DRIFT.
			diff revisions compares two stored revisions; diff drift compares the deployed revision
			with the cluster. Nothing is changed, in the cluster or in the release records.
			Secret values are never printed (--show-secrets to see them). KUBECTL_EXTERNAL_DIFF is
			honoured as kubectl diff does.`),
		Example: templates.Examples(`
			kubectl sherpack diff upgrade shop ./examples/webapp -n prod --set replicas=4
			kubectl sherpack diff revisions shop 2 3 -n prod
			kubectl sherpack diff drift shop -n prod --detailed-exitcode`),
	}
	addCommon := func(c *cobra.Command) {
		f := c.Flags()
		f.StringVarP(&o.Output, "output", "o", "diff", "Output: diff (unified, coloured on a terminal), json or name")
		_ = c.RegisterFlagCompletionFunc("output", fixedCompletion("diff", "json", "name"))
		// -U/--unified as diff(1) and git: --context is kubectl's (the kubeconfig context).
		f.IntVarP(&o.Context, "unified", "U", 3, "Lines of context in unified diffs")
		f.BoolVar(&o.DetailedExitCode, "detailed-exitcode", false, "Exit 0 when nothing differs, 2 when something does, 1 on error")
		f.BoolVar(&o.ShowSecrets, "show-secrets", false, "Print Secret values instead of masking them")
	}
	up := &cobra.Command{
		Use:   "upgrade NAME (PACK | -f FILENAME)",
		Short: "What an upgrade would do: objects added, changed, pruned; drift; hooks that would run",
		Example: templates.Examples(`
			kubectl sherpack diff upgrade shop ./examples/webapp -n prod --set replicas=4
			kubectl sherpack diff upgrade shop ./examples/webapp -n prod --values prod.yaml -U 1 --detailed-exitcode
			kubectl sherpack diff upgrade shop ./examples/webapp -n prod -o json`),
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pk := ""
			if len(args) > 1 {
				pk = args[1]
			}
			if err := o.Source.ValidateArgs(pk); err != nil {
				return err
			}
			return o.run(cmd.Context(), "upgrade", args[0], func(lc *lifecycle.Client, do lifecycle.DiffOptions) (*diff.Report, error) {
				do.Render = o.Globals.renderFunc(cmd.Context(), &o.Source, pk, lc)
				do.UserGaveValues = o.Source.GaveValues()
				do.ValuesMode = (&UpgradeOptions{ReuseValues: o.ReuseValues, ResetValues: o.ResetValues, ResetThenReuse: o.ResetThenReuse}).valuesMode()
				return lc.DiffUpgrade(ctxOr(cmd.Context()), do)
			})
		},
	}
	up.ValidArgsFunction = g.completeReleaseThenFiles
	o.Source.AddFlags(up)
	up.Flags().BoolVar(&o.ReuseValues, "reuse-values", false, "As upgrade --reuse-values")
	up.Flags().BoolVar(&o.ResetValues, "reset-values", false, "As upgrade --reset-values")
	up.Flags().BoolVar(&o.ResetThenReuse, "reset-then-reuse-values", false, "As upgrade --reset-then-reuse-values")
	addCommon(up)
	revs := &cobra.Command{
		Use:   "revisions NAME R1 R2",
		Short: "What changed between two stored revisions: objects, values, hooks",
		Example: templates.Examples(`
			kubectl sherpack diff revisions shop 2 3 -n prod
			kubectl sherpack diff revisions shop 1 4 -n prod -o name`),
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			r1, e1 := strconv.Atoi(args[1])
			r2, e2 := strconv.Atoi(args[2])
			if e1 != nil || e2 != nil || r1 < 1 || r2 < 1 {
				return Usagef("R1 and R2 must be revision numbers (see: kubectl sherpack history %s)", args[0])
			}
			return o.run(cmd.Context(), "revisions", args[0], func(lc *lifecycle.Client, do lifecycle.DiffOptions) (*diff.Report, error) {
				return lc.DiffRevisions(ctxOr(cmd.Context()), do, r1, r2)
			})
		},
	}
	revs.ValidArgsFunction = g.completeReleaseArgs(2, false)
	addCommon(revs)
	drift := &cobra.Command{
		Use:   "drift NAME",
		Short: "What changed in the cluster since the deployed revision: fields edited by hand, objects deleted",
		Example: templates.Examples(`
			kubectl sherpack diff drift shop -n prod
			kubectl sherpack diff drift shop -n prod --all-fields --detailed-exitcode`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), "drift", args[0], func(lc *lifecycle.Client, do lifecycle.DiffOptions) (*diff.Report, error) {
				return lc.DiffDrift(ctxOr(cmd.Context()), do)
			})
		},
	}
	drift.ValidArgsFunction = g.completeReleaseArgs(0, false)
	addCommon(drift)
	drift.Flags().BoolVar(&o.AllFields, "all-fields", false, "Show every difference, not only the fields the release sets")
	cmd.AddCommand(up, revs, drift)
	return cmd
}

func ctxOr(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

func (o *DiffOptions) run(ctx context.Context, mode, name string, f func(*lifecycle.Client, lifecycle.DiffOptions) (*diff.Report, error)) error {
	if err := validateReleaseName(name); err != nil {
		return err
	}
	switch o.Output {
	case "diff", "json", "name":
	default:
		return Usagef("--output %q: must be diff, json or name", o.Output)
	}
	ns, err := o.Globals.Namespace()
	if err != nil {
		return err
	}
	lc, err := o.Globals.Lifecycle()
	if err != nil {
		return err
	}
	o.release, o.namespace = name, ns
	rep, err := f(lc, lifecycle.DiffOptions{Name: name, Namespace: ns, ShowSecrets: o.ShowSecrets, Context: o.Context, AllFields: o.AllFields})
	if err != nil {
		return err
	}
	if prog := os.Getenv("KUBECTL_EXTERNAL_DIFF"); prog != "" && o.Output == "diff" && mode != "drift" {
		if err := o.external(rep); err != nil {
			return err
		}
	} else if err := o.print(rep, mode); err != nil {
		return err
	}
	if o.DetailedExitCode && rep.HasChanges() {
		return &silentExit{code: ExitChanges}
	}
	return nil
}

func (o *DiffOptions) print(rep *diff.Report, mode string) error {
	switch o.Output {
	case "json":
		b, err := json.MarshalIndent(diffDocument{APIVersion: OutputAPIVersion, Kind: KindDiff, Release: o.release, Namespace: o.namespace,
			Mode: mode, HasChanges: rep.HasChanges(), Report: rep}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(o.Out, string(b))
		return nil
	case "name":
		for _, c := range rep.Changes {
			if c.Type != diff.Unchanged || len(c.Drift) > 0 {
				fmt.Fprintln(o.Out, c.Object)
			}
		}
		return nil
	}
	color := false
	if f, ok := o.Out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		color = true
	}
	unchanged := 0
	for _, c := range rep.Changes {
		switch c.Type {
		case diff.Unchanged:
			if len(c.Drift) == 0 {
				unchanged++
				continue
			}
			fmt.Fprintf(o.Out, "~ %s\n", c.Object)
		case diff.Changed:
			fmt.Fprintf(o.Out, "~ %s\n", c.Object)
		case diff.Added:
			fmt.Fprintf(o.Out, "+ %s\n", c.Object)
		case diff.Pruned:
			fmt.Fprintf(o.Out, "- %-40s (pruned)\n", c.Object)
		case diff.Deleted:
			fmt.Fprintf(o.Out, "- %-40s (deleted from the cluster by hand)\n", c.Object)
		}
		if c.Diff != "" && (c.Type == diff.Changed || c.Type == diff.Added && o.Context > 0) {
			writeDiff(o.Out, c.Diff, color)
		}
		for _, d := range c.Drift {
			who := ""
			if d.Managers != "" {
				who = " (" + d.Managers + ")"
			}
			fmt.Fprintf(o.Out, "  DRIFT  %s was changed by hand%s: %s -> %s\n", d.Path, who, d.Release, d.Live)
		}
	}
	if unchanged > 0 {
		fmt.Fprintf(o.Out, "= %d unchanged\n", unchanged)
	}
	if len(rep.Hooks) > 0 {
		fmt.Fprintf(o.Out, "Hooks that would run: %s\n", strings.Join(rep.Hooks, ", "))
	}
	if !rep.HasChanges() {
		switch mode {
		case "drift":
			fmt.Fprintln(o.Out, "No drift: the cluster matches the deployed revision.")
		default:
			fmt.Fprintln(o.Out, "No changes.")
		}
	}
	return nil
}

func writeDiff(w io.Writer, d string, color bool) {
	for _, l := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "+++") {
			continue
		}
		switch {
		case color && strings.HasPrefix(l, "+"):
			fmt.Fprintf(w, "    \x1b[32m%s\x1b[0m\n", l)
		case color && strings.HasPrefix(l, "-"):
			fmt.Fprintf(w, "    \x1b[31m%s\x1b[0m\n", l)
		default:
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

// external writes before/after files for each changed object and runs KUBECTL_EXTERNAL_DIFF
// on the two directories, as kubectl diff does.
func (o *DiffOptions) external(rep *diff.Report) error {
	from, err := os.MkdirTemp("", "sherpack-diff-from")
	if err != nil {
		return err
	}
	defer os.RemoveAll(from)
	to, err := os.MkdirTemp("", "sherpack-diff-to")
	if err != nil {
		return err
	}
	defer os.RemoveAll(to)
	for _, c := range rep.Changes {
		if c.Type == diff.Unchanged {
			continue
		}
		before, after := splitUnified(c.Diff)
		name := strings.NewReplacer("/", ".").Replace(c.Object)
		if err := os.WriteFile(filepath.Join(from, name), []byte(before), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, name), []byte(after), 0o600); err != nil {
			return err
		}
	}
	prog := &kdiff.DiffProgram{Exec: exec.New(), IOStreams: o.IOStreams}
	err = prog.Run(from, to)
	if ee, ok := err.(exec.ExitError); ok && ee.ExitStatus() <= 1 {
		return nil // diff programs exit 1 when the files differ
	}
	return err
}

// splitUnified rebuilds the two sides (context and changed lines only) of a unified diff.
func splitUnified(d string) (string, string) {
	var a, b strings.Builder
	for _, l := range strings.Split(d, "\n") {
		switch {
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "@@"):
		case strings.HasPrefix(l, "-"):
			a.WriteString(l[1:] + "\n")
		case strings.HasPrefix(l, "+"):
			b.WriteString(l[1:] + "\n")
		case strings.HasPrefix(l, " "):
			a.WriteString(l[1:] + "\n")
			b.WriteString(l[1:] + "\n")
		}
	}
	return a.String(), b.String()
}
