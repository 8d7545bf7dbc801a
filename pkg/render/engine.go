// Package render renders packs with Jinja2 (internal/jinja, semi-strict undefined values) into
// Kubernetes objects, hooks and notes. It knows nothing of the cluster except the explicit
// lookup function.
package render

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/builtins"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/config"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/parser"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// ReleaseInfo is the `release` of the template context.
type ReleaseInfo struct {
	Name      string
	Namespace string
	Revision  int
	IsInstall bool
	IsUpgrade bool
	// Secrets are the values generate_secret gave in the previous revision (by name): they are
	// given again, so that an upgrade does not rotate them. Not part of the template context.
	Secrets map[string]string
}

// Capabilities is the `capabilities` of the template context: from discovery when a cluster is
// reachable, DefaultCapabilities otherwise.
type Capabilities struct {
	KubeVersion string   // v1.37.2
	APIVersions []string // group/version and group/version/Kind
	// FromCluster: read from discovery (APIVersions is then the whole list; a Helm chart's
	// .Capabilities shows it as is). Otherwise they are defaults, plus what --api-versions added.
	FromCluster bool
}

// DefaultCapabilities are used without a cluster: Kubernetes v1.37.0 and its built-in APIs.
func DefaultCapabilities() *Capabilities {
	return &Capabilities{KubeVersion: "v1.37.0", APIVersions: []string{
		"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1",
		"rbac.authorization.k8s.io/v1", "storage.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
		"apiextensions.k8s.io/v1", "admissionregistration.k8s.io/v1", "scheduling.k8s.io/v1", "node.k8s.io/v1",
		"certificates.k8s.io/v1", "events.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1",
	}}
}

// LookupFunc reads live objects for the lookup function: one object, or {items: [...]} when name
// is empty. nil means no cluster: lookup returns an empty mapping.
type LookupFunc func(apiVersion, kind, namespace, name string) (map[string]any, error)

// Options of a render.
type Options struct {
	Release      ReleaseInfo
	Capabilities *Capabilities
	Lookup       LookupFunc
	// KeepGoing (lint): a template that fails is recorded in Result.Errors and the others are
	// still rendered; Render then fails only if it cannot start.
	KeepGoing bool
}

// Template is one rendered template's text.
type Template struct {
	Name   string // as shown in "# Source:" (pack/templates/x.yaml)
	Output string
}

// Result of rendering a pack.
type Result struct {
	Objects   []*manifest.Object // applied as the release
	Hooks     []*manifest.Object // run in their phases, not applied as the release
	CRDs      []*manifest.Object // from crds/ (never templated)
	Notes     string
	Templates []Template // every rendered template with non-empty output, in order
	// Secrets are the values generate_secret gave (by name), to pass to the next revision.
	Secrets map[string]string
	// Errors are the failures of single templates under Options.KeepGoing.
	Errors []error
}

// Error is a template failure at a file and line, with a suggestion when one can be made.
type Error struct {
	Template string
	Line     int
	Msg      string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Template, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Template, e.Msg)
}

// Render renders the pack with values (already merged and validated).
func Render(pk *pack.Pack, values map[string]any, opts Options) (*Result, error) {
	if err := pk.Installable(); err != nil {
		return nil, err
	}
	if opts.Capabilities == nil {
		opts.Capabilities = DefaultCapabilities()
	}
	content := map[string]string{}
	mount(pk, "/templates", content)
	r := newRenderer(opts, content, pk.StrictUndefined())
	res := &Result{}
	if err := r.renderPack(pk, values, "/templates", pk.Metadata.Name, true, res); err != nil {
		return nil, err
	}
	if len(r.secrets) > 0 {
		res.Secrets = r.secrets
	}
	for _, name := range pk.CRDs() {
		objs, err := manifest.Decode(pk.Files[name], path.Join(pk.Metadata.Name, name))
		if err != nil {
			return nil, err
		}
		res.CRDs = append(res.CRDs, objs...)
	}
	return res, nil
}

// mount places a pack's templates (and, under their names, its subpacks') in the loader.
func mount(pk *pack.Pack, at string, content map[string]string) {
	for _, name := range pk.Templates() {
		content[path.Join(at, name)] = string(pk.Files["templates/"+name])
	}
	for _, sp := range pk.Subpacks {
		if sp.Pack == nil {
			continue
		}
		mount(sp.Pack, path.Join(at, sp.EffectiveName()), content)
	}
}

type renderer struct {
	opts    Options
	content map[string]string
	filters *exec.FilterSet
	tests   *exec.TestSet
	cs      *exec.ControlStructureSet
	methods exec.Methods
	// strict: undefined values are errors when printed or iterated (conditions on them are
	// false); off (Pack.yaml engine.strict: false), they render as empty.
	strict bool
	// keepTrailingNewline keeps a template's final newline (Jinja2 drops it by default; a
	// manifest file keeps it).
	keepTrailingNewline bool

	secretsMu sync.Mutex
	secrets   map[string]string
	// callDepth counts the macro calls in progress (see guardMacros).
	callDepth int
}

func newRenderer(opts Options, content map[string]string, strict bool) *renderer {
	r := &renderer{opts: opts, content: content, filters: filterSet(strict), tests: testSet(strict), cs: controlStructureSet(), methods: methodSet(),
		strict: strict, keepTrailingNewline: true, secrets: map[string]string{}}
	guardMacros(r.cs, &r.callDepth)
	// Jinja2's filter and test tests: whether a filter or a test of that name exists.
	setTest(r.tests, "filter", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsString() && r.filters.Exists(in.String()), nil
	})
	setTest(r.tests, "test", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsString() && r.tests.Exists(in.String()), nil
	})
	return r
}

// setTest registers or replaces a test.
func setTest(ts *exec.TestSet, name string, fn exec.TestFunction) {
	if ts.Exists(name) {
		_ = ts.Replace(name, fn)
		return
	}
	_ = ts.Register(name, fn)
}

func (r *renderer) config() *config.Config {
	c := config.New()
	// Jinja2's and upstream's defaults: trim_blocks and lstrip_blocks off, so that `{%- if %}`
	// and `-%}` do exactly what they say and nothing more.
	c.StrictUndefined = r.strict
	c.KeepTrailingNewline = r.keepTrailingNewline
	return c
}

func (r *renderer) renderPack(pk *pack.Pack, values map[string]any, at, display string, top bool, res *Result) error {
	// Subpacks first, as their objects are often what the parent builds on.
	for _, sp := range pk.Subpacks {
		on, err := sp.EnabledIn(values)
		if err != nil {
			return fmt.Errorf("%s: dependency %s: %w", display, sp.EffectiveName(), err)
		}
		if !on {
			continue
		}
		if sp.Pack == nil {
			return sp.Missing
		}
		if sp.Pack.Kind == pack.KindLibrary {
			continue
		}
		subValues, _ := values[sp.EffectiveName()].(map[string]any)
		subValues = pack.DeepCopy(subValues)
		if subValues == nil {
			subValues = map[string]any{}
		}
		if g, ok := values["global"]; ok {
			merged, _ := pack.Merge(pack.Layer{Values: map[string]any{"global": g}}, pack.Layer{Values: subValues})
			subValues = merged
		}
		if err := r.renderPack(sp.Pack, subValues, path.Join(at, sp.EffectiveName()), path.Join(display, sp.Dir), false, res); err != nil {
			return err
		}
	}
	ctxData := r.context(pk, values)
	rel := ""
	if i := strings.IndexByte(display, '/'); i >= 0 {
		rel = display[i+1:] // the subpack's folder: packs/x, charts/x
	}
	fail := func(err error) error {
		if r.opts.KeepGoing {
			res.Errors = append(res.Errors, err)
			return nil
		}
		return err
	}
	for _, name := range pk.Templates() {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") {
			continue // partials: importable, not rendered
		}
		outName := strings.TrimSuffix(strings.TrimSuffix(name, ".j2"), ".jinja2")
		shown := path.Join(display, "templates", outName)
		isNotes := strings.EqualFold(path.Base(outName), "NOTES.txt")
		if !isNotes && !isManifestName(outName) {
			continue
		}
		file := path.Join(rel, "templates", name)
		out, err := r.renderOne(path.Join(at, name), file, shown, pk, values, ctxData)
		if err != nil {
			if err := fail(err); err != nil {
				return err
			}
			continue
		}
		if isNotes {
			if top {
				res.Notes = strings.TrimSpace(out)
			}
			continue
		}
		if onlyCommentsOrBlank(out) {
			continue
		}
		res.Templates = append(res.Templates, Template{Name: shown, Output: out})
		objs, err := manifest.Decode([]byte(out), shown)
		if err != nil {
			if err := fail(invalidOutput(err, file, out)); err != nil {
				return err
			}
			continue
		}
		if r.opts.KeepGoing {
			res.addUnchecked(objs)
			continue
		}
		if err := res.add(objs); err != nil {
			if err := fail(err); err != nil {
				return err
			}
		}
	}
	return nil
}

func isManifestName(n string) bool {
	switch strings.ToLower(path.Ext(n)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func (r *renderer) context(pk *pack.Pack, values map[string]any) map[string]any {
	rel := r.opts.Release
	caps := r.opts.Capabilities
	major, minor := splitVersion(caps.KubeVersion)
	apis := make([]any, len(caps.APIVersions))
	for i, a := range caps.APIVersions {
		apis[i] = a
	}
	return map[string]any{
		"values": values,
		"release": map[string]any{"name": rel.Name, "namespace": rel.Namespace, "revision": int64(rel.Revision),
			"isInstall": rel.IsInstall, "isUpgrade": rel.IsUpgrade, "service": "Sherpack"},
		"pack": map[string]any{"name": pk.Metadata.Name, "version": pk.Metadata.Version, "appVersion": pk.Metadata.AppVersion,
			"description": pk.Metadata.Description},
		"capabilities": map[string]any{
			"kubeVersion": map[string]any{"version": caps.KubeVersion, "major": major, "minor": minor},
			"apiVersions": apis,
		},
		"files": filesObject(pk),
	}
}

func splitVersion(v string) (string, string) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return "", ""
	}
	return parts[0], parts[1]
}

// renderOne renders one template. key is its loader path, file its path in the pack.
func (r *renderer) renderOne(key, file, shown string, pk *pack.Pack, values map[string]any, ctxData map[string]any) (out string, err error) {
	defer recoverAt(file, r.content[key], &err)
	loader := &packLoader{content: r.content, dir: path.Dir(key)}
	env := &exec.Environment{
		Context:           exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables),
		Filters:           r.filters,
		Tests:             r.tests,
		ControlStructures: r.cs,
		Methods:           r.methods,
	}
	data := map[string]any{}
	for k, v := range ctxData {
		data[k] = v
	}
	data["template"] = map[string]any{"name": shown, "basePath": path.Join(path.Dir(shown))}
	if _, ok := data["none"]; !ok {
		data["none"] = nil // Jinja2's lower-case spelling of None
	}
	for k, v := range r.functions(env, loader, data) {
		data[k] = v
	}
	ctx := exec.NewContext(data)
	env.Context = env.Context.Update(ctx)
	tpl, err := exec.NewTemplate(key, r.config(), loader, env)
	if err != nil {
		return "", parseError(err, file, r.content[key])
	}
	out, err = tpl.ExecuteToString(ctx)
	if err != nil {
		return "", executionError(err, file, values)
	}
	return out, nil
}

func parseError(err error, file, source string) error {
	var se *parser.SyntaxError
	if errors.As(err, &se) && se.Line > 0 {
		return &Error{Template: file, Line: se.Line, Msg: "syntax error: " + se.Message + nearText(se.Raw)}
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "failed to parse template '") && strings.HasPrefix(msg[len("failed to parse template '"):], source) {
		msg = strings.TrimPrefix(msg[len("failed to parse template '")+len(source):], "': ") // gonja quotes the whole source first
	}
	line := lineOf(msg)
	if line == 0 {
		line = structureLine(msg, source)
	}
	return &Error{Template: file, Line: line, Msg: "syntax error: " + msg}
}

var structureRE = regexp.MustCompile(`controlStructure "([a-z_]+)"`)

// structureLine finds the line of the first {% name ... %} when gonja gives no position.
func structureLine(msg, source string) int {
	m := structureRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	tag := regexp.MustCompile(`\{%-?\s*` + regexp.QuoteMeta(m[1]) + `\b`)
	for i, l := range strings.Split(source, "\n") {
		if tag.MatchString(l) {
			return i + 1
		}
	}
	return 0
}

func nearText(raw string) string {
	if raw == "" {
		return ""
	}
	return fmt.Sprintf(" (near %q)", raw)
}

func onlyCommentsOrBlank(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && t != "---" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// FromObjects makes a Result of plain manifests: hooks and the rest are told apart by their
// annotations, exactly as for a rendered pack.
func FromObjects(objs []*manifest.Object) (*Result, error) {
	res := &Result{}
	if err := res.add(objs); err != nil {
		return nil, err
	}
	return res, nil
}

// addUnchecked sorts objects into hooks and the rest without refusing bad annotations (lint
// reports them itself, for every object).
func (res *Result) addUnchecked(objs []*manifest.Object) {
	for _, o := range objs {
		if ann, err := manifest.ParseAnnotations(o); err == nil && ann.IsHook() {
			res.Hooks = append(res.Hooks, o)
		} else {
			res.Objects = append(res.Objects, o)
		}
	}
}

func (res *Result) add(objs []*manifest.Object) error {
	for _, o := range objs {
		ann, err := manifest.ParseAnnotations(o)
		if err != nil {
			if o.Source != "" {
				return fmt.Errorf("%s: %w", o.Source, err)
			}
			return err
		}
		if ann.IsHook() {
			res.Hooks = append(res.Hooks, o)
		} else {
			res.Objects = append(res.Objects, o)
		}
	}
	return nil
}
