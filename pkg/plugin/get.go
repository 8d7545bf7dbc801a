package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// GetOptions is `kubectl sherpack get values|manifest|hooks|notes|all NAME`.
type GetOptions struct {
	Globals     *Globals
	Revision    int
	All         bool
	ShowSources bool
	Output      string
	Meta        OutputFlags
	genericiooptions.IOStreams
}

// NewCmdGet builds the get command and its subcommands.
func NewCmdGet(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &GetOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "get values|metadata|manifest|hooks|notes|all NAME",
		Short: "Print what a revision recorded: values (with their sources), manifest, hooks, notes",
		Example: templates.Examples(`
			kubectl sherpack get values shop -n prod
			kubectl sherpack get values shop -n prod --all --show-sources
			kubectl sherpack get metadata shop -n prod -o json
			kubectl sherpack get manifest shop -n prod --revision 2`),
	}
	examples := map[string]string{
		"values":   "kubectl sherpack get values shop -n prod -o jsonpath='{.replicas}'",
		"metadata": "kubectl sherpack get metadata shop -n prod -o jsonpath='{.revision}'",
		"manifest": "kubectl sherpack get manifest shop -n prod --revision 2",
		"hooks":    "kubectl sherpack get hooks shop -n prod",
		"notes":    "kubectl sherpack get notes shop -n prod",
		"all":      "kubectl sherpack get all shop -n prod --revision 1",
	}
	for _, what := range []string{"values", "metadata", "manifest", "hooks", "notes", "all"} {
		sub := &cobra.Command{
			Use:               what + " NAME",
			Short:             "Print the " + what + " of a release revision",
			Example:           templates.Examples(examples[what]),
			Args:              cobra.ExactArgs(1),
			ValidArgsFunction: g.completeReleaseArgs(0, false),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := validateReleaseName(args[0]); err != nil {
					return err
				}
				return o.Run(cmd.Context(), what, args[0])
			},
		}
		sub.Flags().IntVar(&o.Revision, "revision", 0, "Revision to read (default: the latest)")
		g.registerRevisionFlag(sub)
		switch what {
		case "values":
			sub.Flags().BoolVarP(&o.All, "all", "a", false, "Print the merged values (pack defaults included), not only what the user set")
			sub.Flags().BoolVar(&o.ShowSources, "show-sources", false, "Print, for each value, the source that set it")
			sub.Flags().StringVarP(&o.Output, "output", "o", "yaml", "Output format: yaml, json, jsonpath=... or go-template=...")
			_ = sub.RegisterFlagCompletionFunc("output", fixedCompletion("yaml", "json", "jsonpath=", "go-template="))
		case "metadata":
			o.Meta.AddResultFlags(sub)
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

// Run prints what was asked.
func (o *GetOptions) Run(ctx context.Context, what, name string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns, store, err := o.Globals.NamespaceAndStore()
	if err != nil {
		return err
	}
	var r *releases.Release
	if o.Revision > 0 {
		r, err = store.Get(ctx, ns, name, o.Revision)
	} else {
		r, err = store.Latest(ctx, ns, name)
	}
	if err != nil {
		return err
	}
	switch what {
	case "values":
		return o.printValues(r)
	case "metadata":
		return o.printMetadata(r)
	case "manifest":
		fmt.Fprint(o.Out, r.Manifest)
	case "hooks":
		for _, h := range r.Hooks {
			fmt.Fprintf(o.Out, "---\n# Hook: %s/%s [%v] weight %d\n%s", h.Kind, h.Name, h.Phases, h.Weight, h.Manifest)
		}
	case "notes":
		fmt.Fprintln(o.Out, r.Notes)
	case "all":
		fmt.Fprintf(o.Out, "REVISION: %d\nSTATUS: %s\n\nUSER-SUPPLIED VALUES:\n", r.Revision, r.State)
		o.printYAML(r.UserValues)
		fmt.Fprintln(o.Out, "\nCOMPUTED VALUES:")
		o.printYAML(r.Values)
		fmt.Fprintf(o.Out, "\nMANIFEST:\n%s", r.Manifest)
		if len(r.Hooks) > 0 {
			fmt.Fprintln(o.Out, "\nHOOKS:")
			for _, h := range r.Hooks {
				fmt.Fprint(o.Out, "---\n"+h.Manifest)
			}
		}
		if r.Notes != "" {
			fmt.Fprintf(o.Out, "\nNOTES:\n%s\n", r.Notes)
		}
	}
	return nil
}

func (o *GetOptions) printValues(r *releases.Release) error {
	vals := r.UserValues
	if o.All {
		vals = r.Values
	}
	if o.ShowSources {
		tw := tabwriter.NewWriter(o.Out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
		prov := pack.Provenance{}
		for k, s := range r.Provenance {
			prov[k] = pack.Source{Kind: s.Kind, Name: s.Source}
		}
		for _, k := range prov.SortedPaths() {
			if !o.All && !userKind(prov[k].Kind) {
				continue
			}
			v := lookupPath(r.Values, k)
			src := prov[k].Kind
			if prov[k].Name != "" {
				src += " (" + prov[k].Name + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k, v, src)
		}
		return tw.Flush()
	}
	if o.Output == "json" {
		b, err := json.MarshalIndent(vals, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(o.Out, string(b))
		return nil
	}
	if strings.HasPrefix(o.Output, "jsonpath") || strings.HasPrefix(o.Output, "go-template") {
		p := OutputFlags{Output: o.Output, print: genericclioptions.NewPrintFlags("")}
		pr, err := p.printer()
		if err != nil {
			return Usagef("--output %q: %v", o.Output, err)
		}
		return pr.PrintObj(&unstructured.Unstructured{Object: pack.DeepCopy(vals)}, o.Out)
	}
	if o.Output != "yaml" {
		return Usagef("--output %q: must be yaml, json, jsonpath=... or go-template=...", o.Output)
	}
	o.printYAML(vals)
	return nil
}

func userKind(k string) bool {
	switch k {
	case "values-file", "set", "set-string", "set-file", "set-json", "set-literal", "previous-release":
		return true
	}
	return false
}

func (o *GetOptions) printYAML(v map[string]any) {
	if len(v) == 0 {
		fmt.Fprintln(o.Out, "{}")
		return
	}
	b, _ := pack.MarshalYAML(pack.Normalize(pack.DeepCopy(v)))
	fmt.Fprint(o.Out, string(b))
}

// lookupPath prints the value at a provenance path (a.b[0].c), or "" if not found.
func lookupPath(values map[string]any, p string) string {
	var cur any = values
	for _, seg := range splitProvPath(p) {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg.key]
		case []any:
			if seg.index < 0 || seg.index >= len(c) {
				return ""
			}
			cur = c[seg.index]
		default:
			return ""
		}
	}
	b, _ := json.Marshal(cur)
	return string(b)
}

type pathSeg struct {
	key   string
	index int
}

func splitProvPath(p string) []pathSeg {
	var out []pathSeg
	i := 0
	for i < len(p) {
		switch p[i] {
		case '.':
			i++
		case '[':
			j := i + 1
			n := 0
			for j < len(p) && p[j] != ']' {
				n = n*10 + int(p[j]-'0')
				j++
			}
			out = append(out, pathSeg{index: n})
			i = j + 1
		case '"':
			j := i + 1
			for j < len(p) && p[j] != '"' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			out = append(out, pathSeg{key: p[i+1 : min(j, len(p))], index: -1})
			i = j + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			out = append(out, pathSeg{key: p[i:j], index: -1})
			i = j
		}
	}
	return out
}

// printMetadata prints what identifies a revision, as helm get metadata does (-o for machines).
func (o *GetOptions) printMetadata(r *releases.Release) error {
	if err := o.Meta.Validate(); err != nil {
		return err
	}
	u := metadataObject(r)
	if !o.Meta.Human() {
		return o.Meta.PrintObjects(o.Out, []*unstructured.Unstructured{u}, true)
	}
	tw := tabwriter.NewWriter(o.Out, 0, 8, 1, ' ', 0)
	for _, k := range []string{"name", "namespace", "revision", "status", "pack", "packVersion", "appVersion", "createdAt", "updatedAt", "description", "reason"} {
		if v, ok := u.Object[k]; ok && fmt.Sprint(v) != "" {
			fmt.Fprintf(tw, "%s:\t%v\n", strings.ToUpper(k), v)
		}
	}
	if len(r.Labels) > 0 {
		var ls []string
		for k, v := range r.Labels {
			ls = append(ls, k+"="+v)
		}
		sort.Strings(ls)
		fmt.Fprintf(tw, "LABELS:\t%s\n", strings.Join(ls, ","))
	}
	return tw.Flush()
}
