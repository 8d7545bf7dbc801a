// Package lint checks a pack the way a CI gate does: it loads it, renders it with the given
// values and once with its defaults only, validates the values against the schema, parses every
// document, and reports what would fail or surprise at install time, each finding naming its
// file and line.
package lint

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sherpack/kubectl-sherpack/pkg/helmchart"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// Severities of a finding.
const (
	Error   = "error"
	Warning = "warning"
)

// Finding is one problem, where it is, and which check found it.
type Finding struct {
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Check    string `json:"check"`
	Message  string `json:"message"`
	// Values says which render found it: "defaults" or "given" (the --values/--set ones).
	Values string `json:"values,omitempty"`
}

func (f Finding) String() string {
	where := f.File
	if f.Line > 0 {
		where += ":" + strconv.Itoa(f.Line)
	}
	s := fmt.Sprintf("%s: %s: %s [%s]", where, f.Severity, f.Message, f.Check)
	if f.Values == "defaults" {
		s += " (with the pack's default values)"
	}
	return s
}

// Kinds tells whether a kind exists and whether it is namespaced.
type Kinds interface {
	Lookup(apiVersion, kind string) (known, namespaced bool)
	// Source says where the list comes from ("offline list", "cluster discovery").
	Source() string
}

// Options of a lint run.
type Options struct {
	// User are the values layers given (--values, --set...); nil: only the defaults are linted.
	User []pack.Layer
	// Namespace the release would be installed in (objects in another one are reported).
	Namespace   string
	ReleaseName string
	Kinds       Kinds
}

// Report is every finding, sorted by file and line.
type Report struct {
	Pack     string    `json:"pack"`
	Kinds    string    `json:"kinds"`
	Findings []Finding `json:"findings"`
}

// Errors and Warnings count the findings of each severity.
func (r *Report) Errors() int   { return r.count(Error) }
func (r *Report) Warnings() int { return r.count(Warning) }

func (r *Report) count(sev string) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// Run lints the pack at dir.
func Run(dir string, o Options) *Report {
	rep := &Report{Pack: dir}
	if o.Kinds == nil {
		o.Kinds = OfflineKinds()
	}
	rep.Kinds = o.Kinds.Source()
	if o.ReleaseName == "" {
		o.ReleaseName = "release-name"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if helmchart.IsChart(dir) {
		return runChart(dir, o, rep)
	}
	pk, err := pack.Load(dir)
	if err != nil {
		rep.add(fromError(err, path.Join(dir, "Pack.yaml"), "pack", ""))
		return rep.sorted()
	}
	for _, w := range pk.Warnings {
		rep.add(Finding{Severity: Warning, File: w.File, Line: w.Line, Check: "pack-yaml", Message: w.Msg})
	}
	if err := pk.Installable(); err != nil {
		rep.add(Finding{Severity: Error, File: path.Join(dir, "Pack.yaml"), Check: "pack", Message: err.Error()})
		return rep.sorted()
	}
	runLintRenders(rep, o, func(layers []pack.Layer) []Finding { return lintRender(pk, dir, layers, o) })
	return rep.sorted()
}

// runLintRenders renders with the defaults, then with the values given, and adds the findings
// once each (marked with the render that found it when only one did).
func runLintRenders(rep *Report, o Options, lintOne func([]pack.Layer) []Finding) {
	runs := []struct {
		name   string
		layers []pack.Layer
	}{{"defaults", nil}}
	if len(o.User) > 0 {
		runs = append(runs, struct {
			name   string
			layers []pack.Layer
		}{"given", o.User})
	}
	seen := map[string]int{} // finding -> index in rep.Findings
	for _, run := range runs {
		for _, f := range lintOne(run.layers) {
			key := f.File + "\x00" + strconv.Itoa(f.Line) + "\x00" + f.Message
			if i, ok := seen[key]; ok {
				rep.Findings[i].Values = "" // found with both sets of values
				continue
			}
			seen[key] = len(rep.Findings)
			if len(runs) > 1 {
				f.Values = run.name
			}
			rep.add(f)
		}
	}
}

func (r *Report) add(f Finding) { r.Findings = append(r.Findings, f) }

func (r *Report) sorted() *Report {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

// lintRender renders with one set of values and checks everything rendered.
func lintRender(pk *pack.Pack, dir string, layers []pack.Layer, o Options) []Finding {
	var out []Finding
	resolved, err := pk.ResolveValues(layers)
	if err != nil {
		return []Finding{fromError(err, schemaFile(pk, dir), "values-schema", "")}
	}
	res, err := render.Render(pk, resolved.Values, render.Options{
		Release:   render.ReleaseInfo{Name: o.ReleaseName, Namespace: o.Namespace, Revision: 1, IsInstall: true},
		KeepGoing: true,
	})
	if err != nil {
		return []Finding{fromError(err, path.Join(dir, "Pack.yaml"), "render", "")}
	}
	for _, e := range res.Errors {
		f := fromError(e, "", "render", dir)
		if rest, ok := strings.CutPrefix(f.File, pk.Metadata.Name+"/"); ok {
			f.File = path.Join(dir, rest) // a decode error names the rendered source: pack/templates/x
		}
		out = append(out, f)
	}
	objs := append(append(append([]*manifest.Object{}, res.CRDs...), res.Objects...), res.Hooks...)
	out = append(out, checkObjects(objs, dir, o)...)
	return out
}

func schemaFile(pk *pack.Pack, dir string) string {
	if s, err := pk.Schema(); err == nil && s != nil {
		return s.File
	}
	return path.Join(dir, "values.yaml")
}

var fileLineRE = regexp.MustCompile(`^([^\s:]+\.[A-Za-z0-9]+):(\d+): `)
var fileRE = regexp.MustCompile(`^([^\s:]+\.[A-Za-z0-9]+): `)

// fromError makes a finding of an error that starts with file:line (or file), as every error of
// pack and render does; dir is prefixed to the pack-relative file of a template error.
func fromError(err error, fallback, check, dir string) Finding {
	var re *render.Error
	if errors.As(err, &re) {
		return Finding{Severity: Error, File: path.Join(dir, re.Template), Line: re.Line, Check: check, Message: re.Msg}
	}
	msg := err.Error()
	if m := fileLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		return Finding{Severity: Error, File: m[1], Line: n, Check: check, Message: strings.TrimPrefix(msg, m[0])}
	}
	if m := fileRE.FindStringSubmatch(msg); m != nil {
		return Finding{Severity: Error, File: m[1], Check: check, Message: strings.TrimPrefix(msg, m[0])}
	}
	return Finding{Severity: Error, File: fallback, Check: check, Message: msg}
}
