package helmchart

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/client-go/rest"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// Options of a chart render.
type Options struct {
	// Context bounds the render (lookup's requests); nil is context.Background().
	Context context.Context
	Release render.ReleaseInfo
	// Capabilities the templates see as .Capabilities: discovery's when FromCluster, else
	// Helm's defaults (what `helm template` shows) with the API versions given added.
	Capabilities *render.Capabilities
	// RESTConfig lets `lookup` read the cluster; nil renders offline (lookup gives an empty map,
	// as in `helm template`).
	RESTConfig *rest.Config
	// SkipSchemaValidation takes values values.schema.json would refuse.
	SkipSchemaValidation bool
}

// Rendered is a chart's render: what a pack's render gives, and the values it used.
type Rendered struct {
	*render.Result
	Values *pack.Resolved
	// CRDFiles are the crds/ files of the chart and its enabled dependencies, as written, in
	// the order Helm installs them (Result.CRDs holds their objects).
	CRDFiles []CRDFile
}

// Render resolves the values (the chart's defaults, then layers in order, with Helm's rules:
// maps merge, anything else replaces, null deletes the chart's default) and renders the chart
// with Helm's engine.
func (c *Chart) Render(layers []pack.Layer, opts Options) (*Rendered, error) {
	if err := c.Installable(); err != nil {
		return nil, err
	}
	user := MergeUser(layers)
	ch := c.chart
	caps, err := helmCapabilities(opts.Capabilities)
	if err != nil {
		return nil, err
	}
	if kv := ch.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s requires kubeVersion %s, which Kubernetes %s is not", ch.Name(), kv, caps.KubeVersion.Version)
	}
	// Conditions, tags and import-values, as Helm applies them (this drops disabled
	// dependencies from the loaded chart: it is loaded again for every render).
	if err := chartutil.ProcessDependencies(ch, pack.DeepCopy(user)); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %w", ch.Name(), err)
	}
	rel := common.ReleaseOptions{Name: opts.Release.Name, Namespace: opts.Release.Namespace, Revision: opts.Release.Revision,
		IsInstall: opts.Release.IsInstall, IsUpgrade: opts.Release.IsUpgrade}
	if rel.Revision == 0 {
		rel.Revision = 1
	}
	top, err := util.ToRenderValuesWithSchemaValidation(ch, pack.DeepCopy(user), rel, caps, opts.SkipSchemaValidation)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	var files map[string]string
	if opts.RESTConfig != nil {
		files, err = engine.New(opts.RESTConfig).RenderWithContext(ctx, ch, top)
	} else {
		files, err = engine.Engine{}.RenderWithContext(ctx, ch, top)
	}
	if err != nil {
		return nil, err
	}
	res, err := split(ch, files)
	if err != nil {
		return nil, err
	}
	values, _ := top["Values"].(common.Values)
	resolved := &pack.Resolved{Values: map[string]any(values), User: user, Provenance: provenance(ch, values, layers)}
	if resolved.Values == nil {
		resolved.Values = map[string]any{}
	}
	out := &Rendered{Result: res, Values: resolved}
	for _, crd := range ch.CRDObjects() {
		out.CRDFiles = append(out.CRDFiles, CRDFile{Name: crd.Filename, Data: crd.File.Data})
	}
	return out, nil
}

// split sorts the engine's files into objects and hooks (by their helm.sh/hook annotation),
// the top chart's NOTES.txt (subcharts' notes are dropped, as Helm does by default) and the
// CRDs of crds/ folders.
func split(ch *chart.Chart, files map[string]string) (*render.Result, error) {
	res := &render.Result{}
	notes := path.Join(ch.Name(), "templates", "NOTES.txt")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		out := files[name]
		if strings.HasSuffix(name, "NOTES.txt") {
			if name == notes {
				res.Notes = strings.TrimSpace(out)
			}
			continue
		}
		if strings.HasPrefix(path.Base(name), "_") || strings.TrimSpace(out) == "" {
			continue
		}
		objs, err := manifest.Decode([]byte(out), name)
		if err != nil {
			return nil, fmt.Errorf("%s: the template's output is not valid Kubernetes YAML: %w (render it with `kubectl sherpack template` to see the output)", name, err)
		}
		if len(objs) == 0 {
			continue
		}
		res.Templates = append(res.Templates, render.Template{Name: name, Output: out})
		for _, o := range objs {
			ann, err := manifest.ParseAnnotations(o)
			if err != nil {
				return nil, fmt.Errorf("%s: %s %s: %w", name, o.GetKind(), o.GetName(), err)
			}
			if ann.IsHook() {
				res.Hooks = append(res.Hooks, o)
			} else {
				res.Objects = append(res.Objects, o)
			}
		}
	}
	for _, crd := range ch.CRDObjects() {
		shown := crd.Filename
		objs, err := manifest.Decode(crd.File.Data, shown)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", shown, err)
		}
		res.CRDs = append(res.CRDs, objs...)
	}
	return res, nil
}

// CRDFile is one file of a crds/ folder.
type CRDFile struct {
	Name string // as shown: chart/crds/x.yaml, chart/charts/sub/crds/y.yaml
	Data []byte
}

// helmCapabilities turns ours into Helm's. Without a cluster Helm's defaults are the base, as in
// `helm template`, with any API version given (--api-versions) added.
func helmCapabilities(c *render.Capabilities) (*common.Capabilities, error) {
	caps := common.DefaultCapabilities.Copy()
	if c == nil {
		return caps, nil
	}
	if c.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(c.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kubernetes version %q: %w", c.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	if c.FromCluster {
		caps.APIVersions = append(common.VersionSet(nil), c.APIVersions...)
		return caps, nil
	}
	vs := append(common.VersionSet(nil), caps.APIVersions...)
	for _, a := range c.APIVersions {
		if !vs.Has(a) {
			vs = append(vs, a)
		}
	}
	caps.APIVersions = vs
	return caps, nil
}

// MergeUser merges the user's layers as Helm merges -f files and --set: maps merge deeply,
// anything else replaces, and null is kept (it deletes the chart's default when the values are
// coalesced with the chart's). A --set style flag writes into what the files and flags before it
// built, as Helm parses it into them: --set list[1]=x changes that item and keeps the others.
// The previous release's values (an upgrade reusing them) are the base the command's own values
// then merge over.
func MergeUser(layers []pack.Layer) map[string]any {
	prior, current := map[string]any{}, map[string]any{}
	for _, l := range layers {
		v := pack.DeepCopy(l.Values)
		if l.Source.Kind != "set" {
			// Helm reads values files, --set-json and stored values as JSON does: every
			// number is a float64 (a million prints as 1e+06). Only --set gives integers.
			v = floatNumbers(v).(map[string]any)
		}
		switch l.Source.Kind {
		case "previous-release":
			mergeKeepNull(prior, v, false)
		case "values-file":
			mergeKeepNull(current, v, false)
		default: // --set, --set-string, --set-file, --set-json, --set-literal
			mergeKeepNull(current, v, true)
		}
	}
	mergeKeepNull(prior, current, false)
	return prior
}

// mergeKeepNull merges src into dst. With intoLists (a --set path), a list merges item by item:
// a null item is a place the path skipped over and keeps what dst has there.
func mergeKeepNull(dst, src map[string]any, intoLists bool) {
	for k, v := range src {
		switch sv := v.(type) {
		case map[string]any:
			if dm, ok := dst[k].(map[string]any); ok {
				mergeKeepNull(dm, sv, intoLists)
				continue
			}
		case []any:
			if dl, ok := dst[k].([]any); ok && intoLists {
				dst[k] = mergeList(dl, sv)
				continue
			}
		}
		dst[k] = v
	}
}

func mergeList(dst, src []any) []any {
	out := append([]any(nil), dst...)
	for len(out) < len(src) {
		out = append(out, nil)
	}
	for i, v := range src {
		switch sv := v.(type) {
		case nil:
			continue
		case map[string]any:
			if dm, ok := out[i].(map[string]any); ok {
				mergeKeepNull(dm, sv, true)
				continue
			}
		case []any:
			if dl, ok := out[i].([]any); ok {
				out[i] = mergeList(dl, sv)
				continue
			}
		}
		out[i] = v
	}
	return out
}

func floatNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = floatNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = floatNumbers(x)
		}
	case int64:
		return float64(t)
	case int:
		return float64(t)
	}
	return v
}

// provenance gives every leaf of the final values the layer that set it, or the values.yaml of
// the chart (or dependency) it defaults from.
func provenance(ch *chart.Chart, values map[string]any, layers []pack.Layer) pack.Provenance {
	_, userProv := pack.Merge(layers...)
	prov := pack.Provenance{}
	var source func(p string) pack.Source
	var walk func(v any, p string)
	walk = func(v any, p string) {
		switch t := v.(type) {
		case map[string]any:
			if len(t) > 0 || p == "" {
				for k, x := range t {
					walk(x, joinPath(p, k))
				}
				return
			}
		case common.Values:
			walk(map[string]any(t), p)
			return
		case []any:
			if len(t) > 0 {
				for i, x := range t {
					walk(x, fmt.Sprintf("%s[%d]", p, i))
				}
				return
			}
		}
		prov[p] = source(p)
	}
	top := pack.Source{Kind: "pack-default", Name: path.Join(ch.Name(), "values.yaml")}
	source = func(p string) pack.Source {
		if s, ok := userProv[p]; ok {
			return s
		}
		// A subchart's copy of the globals comes from wherever the top-level global did.
		if i := strings.Index(p, ".global."); i > 0 {
			if g := p[i+1:]; g != p {
				if _, ok := pack.Lookup(values, g); ok {
					return source(g)
				}
			}
		}
		return defaultSource(ch, p, top)
	}
	walk(values, "")
	return prov
}

// defaultSource is the values.yaml a default comes from: a dependency's when the path is under
// its name.
func defaultSource(ch *chart.Chart, p string, dflt pack.Source) pack.Source {
	for _, d := range ch.Dependencies() {
		name := joinPath("", d.Name())
		if p == name || strings.HasPrefix(p, name+".") || strings.HasPrefix(p, name+"[") {
			rest := strings.TrimPrefix(strings.TrimPrefix(p, name), ".")
			if _, ok := pack.Lookup(d.Values, strings.Split(rest, "[")[0]); !ok || rest == "" {
				return dflt // set for the dependency by its parent's values.yaml
			}
			sub := pack.Source{Kind: "pack-default", Name: path.Join(dflt.Name[:len(dflt.Name)-len("values.yaml")], "charts", d.Name(), "values.yaml")}
			return defaultSource(d, rest, sub)
		}
	}
	return dflt
}

// joinPath spells a value path as pack provenance does: a.b, with keys holding . [ or ] quoted.
func joinPath(prefix, k string) string {
	if strings.ContainsAny(k, ".[]") {
		k = strconv.Quote(k)
	}
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}
