package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/sherpack/kubectl-sherpack/pkg/helmchart"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// SourceFlags say what a release is made of: a pack (positional argument) with value flags, or
// plain manifests through kubectl's resource builder (-f, -R, -k).
type SourceFlags struct {
	Values   pack.Options
	Filename resource.FilenameOptions
	// SetLiteral is --set-literal key=value (the value taken as one string).
	SetLiteral []string
	// SkipCRDs leaves the pack's crds/ out (install and upgrade --skip-crds).
	SkipCRDs bool
	// PostRender pipes objects and hooks through a program (--post-renderer).
	PostRender PostRenderFlags
	// SkipSchemaValidation takes values the pack's schema would refuse.
	SkipSchemaValidation bool
}

// AddFlags registers the value flags (as Helm spells them) and kubectl's -f/-R/-k.
func (s *SourceFlags) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&s.Values.ValuesFiles, "values", nil, "Values file (repeatable; - is stdin; http(s) URLs work). Later files win")
	f.StringArrayVar(&s.Values.Set, "set", nil, "Set values: a.b=c,list[0]=x (repeatable; true/false/null/integers typed, null deletes)")
	f.StringArrayVar(&s.Values.SetString, "set-string", nil, "Set values, always as strings (repeatable)")
	f.StringArrayVar(&s.Values.SetFile, "set-file", nil, "Set a value to the content of a file: key=path (repeatable)")
	f.StringArrayVar(&s.Values.SetJSON, "set-json", nil, "Set a value from JSON: key=<json> (repeatable)")
	f.StringArrayVar(&s.SetLiteral, "set-literal", nil, "Set a value to a literal string, commas and backslashes included: key=value (repeatable; applied last)")
	f.StringSliceVarP(&s.Filename.Filenames, "filename", "f", nil, "Plain manifests instead of a pack: files, directories, URLs or - for stdin (repeatable)")
	f.BoolVarP(&s.Filename.Recursive, "recursive", "R", false, "Process the -f directories recursively")
	f.StringVarP(&s.Filename.Kustomize, "kustomize", "k", "", "Build a kustomization directory and use its output")
	s.PostRender.AddFlags(cmd)
	f.BoolVar(&s.SkipSchemaValidation, "skip-schema-validation", false, "Do not check the values against the pack's values.schema (its defaults still apply)")
}

// GaveValues tells whether any value flag was given (an upgrade without one reuses the
// previous values).
func (s *SourceFlags) GaveValues() bool {
	return !s.Values.Empty() || len(s.SetLiteral) > 0
}

// UsesManifests tells whether -f or -k was given.
func (s *SourceFlags) UsesManifests() bool {
	return len(s.Filename.Filenames) > 0 || s.Filename.Kustomize != ""
}

// ValidateArgs checks that exactly one of a pack argument and -f/-k is given.
func (s *SourceFlags) ValidateArgs(packArg string) error {
	switch {
	case packArg != "" && len(s.Filename.Filenames) > 0:
		return Usagef("give either a PACK or -f/-k manifests, not both. -f is kubectl's --filename (plain manifests); "+
			"a values file for the pack goes in --values: --values %s", strings.Join(s.Filename.Filenames, " --values "))
	case packArg != "" && s.UsesManifests():
		return Usagef("give either a PACK or -k manifests, not both")
	case packArg == "" && !s.UsesManifests():
		return Usagef("missing PACK: give a pack directory or .tgz, or plain manifests with -f FILE")
	case s.UsesManifests() && s.GaveValues():
		return Usagef("--values and --set apply to packs; plain manifests (-f/-k) take no values")
	}
	if s.Filename.Kustomize != "" && len(s.Filename.Filenames) > 0 {
		return Usagef("-f and -k cannot be used together")
	}
	return nil
}

// Rendered is what a command works on: the objects, hooks and notes, with what made them.
type Rendered struct {
	*render.Result
	Pack   *pack.Pack     // nil for plain manifests
	Values *pack.Resolved // nil for plain manifests
	// ChartCRDs are a Helm chart's crds/ files as written (nil for packs: Pack.Files has them).
	ChartCRDs []helmchart.CRDFile
}

// Load renders the pack (or reads the manifests). Values layers before the user's (a previous
// release's values on upgrade) come in extra.
func (s *SourceFlags) Load(cf *genericclioptions.ConfigFlags, packArg string, extra []pack.Layer, opts render.Options) (*Rendered, error) {
	if s.UsesManifests() {
		objs, err := s.readManifests(cf)
		if err != nil {
			return nil, err
		}
		res, err := render.FromObjects(objs)
		if err != nil {
			return nil, err
		}
		if res, err = s.PostRender.Run(context.Background(), res); err != nil {
			return nil, err
		}
		return &Rendered{Result: res}, nil
	}
	if helmchart.IsChart(packArg) {
		return s.loadChart(cf, packArg, extra, opts)
	}
	pk, err := pack.Load(packArg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, Usagef("pack %s: no such directory or file", packArg)
		}
		return nil, &UsageError{Msg: err.Error()}
	}
	if err := pk.Installable(); err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	user, err := s.userLayers()
	if err != nil {
		return nil, err
	}
	resolve := pk.ResolveValues
	if s.SkipSchemaValidation {
		resolve = pk.ResolveValuesUnvalidated
	}
	resolved, err := resolve(append(extra, user...))
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	res, err := render.Render(pk, resolved.Values, opts)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	if s.SkipCRDs {
		res.CRDs = nil
	}
	if res, err = s.PostRender.Run(context.Background(), res); err != nil {
		return nil, err
	}
	return &Rendered{Result: res, Pack: pk, Values: resolved}, nil
}

// userLayers are the values the flags give, in Helm's order, --set-literal last.
func (s *SourceFlags) userLayers() ([]pack.Layer, error) {
	user, err := s.Values.Layers()
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	literal, err := setLiteralLayers(s.SetLiteral)
	if err != nil {
		return nil, err
	}
	return append(user, literal...), nil
}

// loadChart renders a Helm chart with Helm's loader and engine. lookup reads the cluster when
// the command has one (opts.Lookup set), as in `helm install`; offline it gives an empty map, as
// in `helm template`.
func (s *SourceFlags) loadChart(cf *genericclioptions.ConfigFlags, chartArg string, extra []pack.Layer, opts render.Options) (*Rendered, error) {
	ch, err := helmchart.Load(chartArg)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	user, err := s.userLayers()
	if err != nil {
		return nil, err
	}
	copts := helmchart.Options{Release: opts.Release, Capabilities: opts.Capabilities, SkipSchemaValidation: s.SkipSchemaValidation}
	if opts.Lookup != nil && cf != nil {
		if copts.RESTConfig, err = cf.ToRESTConfig(); err != nil {
			return nil, err
		}
	}
	out, err := ch.Render(append(extra, user...), copts)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	res := out.Result
	if s.SkipCRDs {
		res.CRDs, out.CRDFiles = nil, nil
	}
	if res, err = s.PostRender.Run(context.Background(), res); err != nil {
		return nil, err
	}
	return &Rendered{Result: res, Pack: ch.Pack(), Values: out.Values, ChartCRDs: out.CRDFiles}, nil
}

// readManifests reads -f/-k through kubectl's resource builder, locally (no cluster needed).
func (s *SourceFlags) readManifests(cf *genericclioptions.ConfigFlags) ([]*manifest.Object, error) {
	r := resource.NewBuilder(cf).
		Unstructured().
		Local().
		ContinueOnError().
		FilenameParam(false, &s.Filename).
		Flatten().
		Do()
	infos, err := r.Infos()
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	var out []*manifest.Object
	for _, info := range infos {
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			return nil, fmt.Errorf("%s: unexpected object type %T", info.Source, info.Object)
		}
		out = append(out, &manifest.Object{Unstructured: u, Source: info.Source})
	}
	if len(out) == 0 {
		return nil, Usagef("no objects found in %v%s", s.Filename.Filenames, s.Filename.Kustomize)
	}
	return out, nil
}
