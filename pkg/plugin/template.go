package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/helmchart"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// TemplateOptions is `kubectl sherpack template NAME (PACK | -f ...)`.
type TemplateOptions struct {
	Globals     *Globals
	Source      SourceFlags
	ShowOnly    []string
	OutputDir   string
	IncludeCRDs bool
	Validate    bool
	Caps        TemplateCapabilityFlags

	Name, PackArg, Namespace string
	genericiooptions.IOStreams
}

// NewCmdTemplate builds the template command.
func NewCmdTemplate(g *Globals, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TemplateOptions{Globals: g, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "template NAME (PACK | -f FILENAME)",
		Short: "Render a pack (or read manifests) and print the objects, without a cluster",
		Long: templates.LongDesc(`
			Render a pack locally and print every document its templates make, as the template
			wrote it (key order and comments kept), each under a "# Source:" line naming its
			template. No cluster is needed, unless --validate asks the API server to check the
			objects with a server-side dry run.`),
		Example: templates.Examples(`
			kubectl sherpack template shop ./examples/webapp --set replicas=3
			kubectl sherpack template shop ./examples/webapp --show-only templates/deployment.yaml
			kubectl sherpack template shop ./examples/webapp --show-only deploy
			kubectl sherpack template shop ./examples/webapp --output-dir ./rendered
			kubectl sherpack template shop -f ./manifests/ -R`),
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate_(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Source.AddFlags(cmd)
	cmd.Flags().StringArrayVar(&o.ShowOnly, "show-only", nil, "Only print the output of this template: its path in the pack (templates/x.yaml) or a part of it (repeatable)")
	cmd.Flags().StringVar(&o.OutputDir, "output-dir", "", "Write each template's output to a file under this directory instead of stdout")
	cmd.Flags().BoolVar(&o.IncludeCRDs, "include-crds", false, "Also print the CustomResourceDefinitions of crds/")
	o.Caps.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.Validate, "validate", false, "Send every object to the API server as a server-side dry run (needs a cluster)")
	return cmd
}

// Complete reads the arguments and the namespace.
func (o *TemplateOptions) Complete(args []string) error {
	o.Name = args[0]
	if len(args) > 1 {
		o.PackArg = args[1]
	}
	ns, err := o.Globals.Namespace()
	if err != nil {
		return err
	}
	o.Namespace = ns
	return nil
}

// Validate_ refuses contradictory input (named so as not to clash with the --validate flag field).
func (o *TemplateOptions) Validate_() error {
	if err := validateReleaseName(o.Name); err != nil {
		return err
	}
	if err := o.Source.ValidateArgs(o.PackArg); err != nil {
		return err
	}
	if err := refuseServerAsShowOnly(*o.Globals.ConfigFlags.APIServer); err != nil {
		return err
	}
	if o.OutputDir != "" && len(o.ShowOnly) > 0 {
		return Usagef("--output-dir and --show-only cannot be used together")
	}
	return nil
}

// Run renders and prints.
func (o *TemplateOptions) Run(ctx context.Context) error {
	caps, err := o.Caps.Capabilities()
	if err != nil {
		return err
	}
	rel := o.Caps.Release(o.Name, o.Namespace)
	if helmchart.IsChart(o.PackArg) {
		rel.Revision = 1 // helm template renders every release, an upgrade too, as revision 1
	}
	out, err := o.Source.Load(o.Globals.ConfigFlags, o.PackArg, nil, render.Options{Release: rel, Capabilities: caps})
	if err != nil {
		return err
	}
	var objs []*manifest.Object
	if o.IncludeCRDs {
		objs = append(objs, out.CRDs...)
	}
	objs = append(objs, out.Objects...)
	objs = append(objs, out.Hooks...)
	if out.Pack != nil {
		for _, w := range out.Pack.Warnings {
			fmt.Fprintf(o.ErrOut, "warning: %s\n", w)
		}
	}
	// As written: key order and comments kept. A post-renderer's output is what would be
	// applied, so then the objects it printed are shown instead.
	if out.Pack != nil && !o.Validate && o.Source.PostRender.Exe == "" {
		return o.printAsWritten(out)
	}
	if len(o.ShowOnly) > 0 {
		objs, err = o.filter(objs)
		if err != nil {
			return err
		}
	}
	if o.Validate {
		if err := o.serverValidate(ctx, objs); err != nil {
			return err
		}
	}
	if o.OutputDir != "" {
		return o.writeDir(objs)
	}
	b, err := manifest.Encode(objs, true)
	if err != nil {
		return err
	}
	_, err = o.Out.Write(b)
	return err
}

// sourceDoc is one rendered document and the template it came from.
type sourceDoc struct{ source, text string }

// printAsWritten prints (or writes under --output-dir) every document of a rendered pack as its
// template wrote it, under its "# Source:" line; --include-crds puts the files of crds/ first.
func (o *TemplateOptions) printAsWritten(out *Rendered) error {
	var docs []sourceDoc
	if o.IncludeCRDs && out.ChartCRDs != nil {
		for _, f := range out.ChartCRDs {
			for _, d := range render.Documents(string(f.Data)) {
				docs = append(docs, sourceDoc{f.Name, d})
			}
		}
	} else if o.IncludeCRDs {
		for _, name := range out.Pack.CRDs() {
			for _, d := range render.Documents(string(out.Pack.Files[name])) {
				docs = append(docs, sourceDoc{path.Join(out.Pack.Metadata.Name, name), d})
			}
		}
	}
	for _, t := range out.Templates {
		for _, d := range render.Documents(t.Output) {
			docs = append(docs, sourceDoc{t.Name, d})
		}
	}
	if len(o.ShowOnly) > 0 {
		var err error
		if docs, err = o.filterDocs(docs); err != nil {
			return err
		}
	}
	if o.OutputDir != "" {
		return o.writeDocs(docs)
	}
	var b strings.Builder
	for _, d := range docs {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s", d.source, d.text)
	}
	_, err := io.WriteString(o.Out, b.String())
	return err
}

// showOnlyMatch: the template's path in the pack (templates/x.yaml, with or without the pack
// name or .j2), or any part of it.
func showOnlyMatch(source, want string) bool {
	want = strings.TrimPrefix(path.Clean(want), "./")
	trimmed := strings.TrimSuffix(source, ".j2")
	return source == want || strings.HasSuffix(source, "/"+want) || strings.HasSuffix(trimmed, "/"+strings.TrimSuffix(want, ".j2")) || strings.Contains(source, want)
}

func (o *TemplateOptions) filterDocs(docs []sourceDoc) ([]sourceDoc, error) {
	var kept []sourceDoc
	for _, want := range o.ShowOnly {
		found := false
		for _, d := range docs {
			if showOnlyMatch(d.source, want) {
				kept = append(kept, d)
				found = true
			}
		}
		if !found {
			var names []string
			seen := map[string]bool{}
			for _, d := range docs {
				if !seen[d.source] {
					names = append(names, d.source)
					seen[d.source] = true
				}
			}
			return nil, Usagef("--show-only %s: no template with that name or part of a name produced output; these did: %s", want, strings.Join(names, ", "))
		}
	}
	return kept, nil
}

func (o *TemplateOptions) writeDocs(docs []sourceDoc) error {
	bySource := map[string]*strings.Builder{}
	var order []string
	for _, d := range docs {
		b, ok := bySource[d.source]
		if !ok {
			b = &strings.Builder{}
			bySource[d.source] = b
			order = append(order, d.source)
		}
		fmt.Fprintf(b, "---\n# Source: %s\n%s", d.source, d.text)
	}
	for _, src := range order {
		p := filepath.Join(o.OutputDir, filepath.FromSlash(src))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(bySource[src].String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "wrote %s\n", p)
	}
	return nil
}

// filter keeps the objects of the --show-only templates; a name that matches nothing is an error.
func (o *TemplateOptions) filter(objs []*manifest.Object) ([]*manifest.Object, error) {
	var kept []*manifest.Object
	for _, want := range o.ShowOnly {
		want = strings.TrimPrefix(path.Clean(want), "./")
		found := false
		for _, obj := range objs {
			if showOnlyMatch(obj.Source, want) {
				kept = append(kept, obj)
				found = true
			}
		}
		if !found {
			var names []string
			seen := map[string]bool{}
			for _, obj := range objs {
				if !seen[obj.Source] {
					names = append(names, obj.Source)
					seen[obj.Source] = true
				}
			}
			return nil, Usagef("--show-only %s: no template with that name produced objects; these did: %s", want, strings.Join(names, ", "))
		}
	}
	return kept, nil
}

func (o *TemplateOptions) writeDir(objs []*manifest.Object) error {
	bySource := map[string][]*manifest.Object{}
	var order []string
	for _, obj := range objs {
		if _, ok := bySource[obj.Source]; !ok {
			order = append(order, obj.Source)
		}
		bySource[obj.Source] = append(bySource[obj.Source], obj)
	}
	for _, src := range order {
		p := filepath.Join(o.OutputDir, filepath.FromSlash(src))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		b, err := manifest.Encode(bySource[src], true)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "wrote %s\n", p)
	}
	return nil
}

// serverValidate sends every object as a server-side dry run: admission and validation run for
// real, nothing is stored.
func (o *TemplateOptions) serverValidate(ctx context.Context, objs []*manifest.Object) error {
	cfg, err := o.Globals.RESTConfig()
	if err != nil {
		return err
	}
	c, err := apply.NewClient(cfg)
	if err != nil {
		return err
	}
	// Custom resources of a CRD in this same batch cannot be checked before the CRD exists.
	defined := map[string]bool{}
	for _, obj := range objs {
		if obj.GetKind() == "CustomResourceDefinition" {
			g, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
			defined[g+"/"+k] = true
		}
	}
	var problems []string
	skipped := 0
	for _, obj := range objs {
		if defined[obj.GroupVersionKind().Group+"/"+obj.GetKind()] {
			skipped++
			continue
		}
		cp := obj.DeepCopy()
		if _, err := c.Apply(ctx, cp, o.Namespace, apply.ApplyOptions{DryRun: true, Force: true}); err != nil {
			k := (&manifest.Object{Unstructured: cp}).Key() // with the namespace it would get
			problems = append(problems, fmt.Sprintf("%s (%s): %v", k, obj.Source, err))
		}
	}
	if len(problems) > 0 {
		return &UsageError{Msg: "the API server refused:\n  " + strings.Join(problems, "\n  ")}
	}
	fmt.Fprintf(o.ErrOut, "%d objects validated by the API server (dry run)", len(objs)-skipped)
	if skipped > 0 {
		fmt.Fprintf(o.ErrOut, "; %d custom resources not checked: their CustomResourceDefinition is not installed yet", skipped)
	}
	fmt.Fprintln(o.ErrOut)
	return nil
}
