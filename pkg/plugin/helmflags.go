package plugin

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
	rendering "github.com/sherpack/kubectl-sherpack/pkg/render"
)

// waitValue is --wait as Helm 4 spells it: a boolean (--wait, --wait=false) or a strategy.
// watcher and legacy both mean waiting for every object to be ready (sherpack has one waiter:
// kstatus over watches); hookOnly waits for the hooks only, as false does here: hooks are
// always awaited, their Jobs to completion.
type waitValue struct {
	wait *bool
	mode string
}

func (w *waitValue) String() string {
	if w.mode != "" {
		return w.mode
	}
	if *w.wait {
		return "true"
	}
	return "false"
}

func (w *waitValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "true", "watcher", "legacy":
		*w.wait = true
	case "false", "hookonly":
		*w.wait = false
	default:
		return Usagef("--wait %q: must be true, false, watcher, legacy or hookOnly", s)
	}
	w.mode = s
	return nil
}

func (w *waitValue) Type() string { return "true|false|watcher|hookOnly|legacy" }

// addWaitFlag registers --wait on a boolean, with Helm 4's strategies accepted.
func addWaitFlag(fl *pflag.FlagSet, wait *bool, def bool, usage string) {
	*wait = def
	f := fl.VarPF(&waitValue{wait: wait}, "wait", "", usage+". Helm's strategies are accepted: watcher and legacy are true, hookOnly is false (hooks are always awaited)")
	f.NoOptDefVal = "true"
	f.DefValue = (&waitValue{wait: wait}).String()
}

// setLiteralLayers are --set-literal key=value: the value is taken as one string, with no
// parsing of commas, escapes or types (Helm's --set-literal). They come last, after --set-file.
func setLiteralLayers(flags []string) ([]pack.Layer, error) {
	var layers []pack.Layer
	for _, s := range flags {
		key, value, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return nil, Usagef("--set-literal %q: want key=value", s)
		}
		// The key is parsed as --set parses keys (a.b, list[0]); the value is put in as is.
		v, err := pack.ParseSet(key+"=x", false)
		if err != nil {
			return nil, Usagef("--set-literal %q: %v", s, err)
		}
		if !setLeaf(v, value) {
			return nil, Usagef("--set-literal %q: key %q names no single value", s, key)
		}
		layers = append(layers, pack.Layer{Source: pack.Source{Kind: "set-literal", Name: "--set-literal " + s}, Values: v})
	}
	return layers, nil
}

// setLeaf replaces the one leaf of a single-path value tree.
func setLeaf(v any, value string) bool {
	switch c := v.(type) {
	case map[string]any:
		if len(c) != 1 {
			return false
		}
		for k, child := range c {
			switch child.(type) {
			case map[string]any, []any:
				return setLeaf(child, value)
			}
			c[k] = value
			return true
		}
	case []any:
		for i := len(c) - 1; i >= 0; i-- {
			if c[i] == nil {
				continue
			}
			switch c[i].(type) {
			case map[string]any, []any:
				return setLeaf(c[i], value)
			}
			c[i] = value
			return true
		}
	}
	return false
}

// addApplyFlags are --field-manager and --force-replace (install, upgrade, rollback).
func (f *OperationFlags) addApplyFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.Apply.FieldManager, "field-manager", apply.FieldManager, "Field manager of the server-side applies")
	fl.BoolVar(&f.Apply.ForceReplace, "force-replace", false, "Delete and recreate an object whose immutable fields changed (the server refuses to update them)")
}

// configure hands the apply flags to the client.
func (f *OperationFlags) configure(lc *lifecycle.Client) {
	if lc.Apply != nil {
		lc.Apply.CLIOptions = f.Apply
	}
}

// addHelmOperationFlags are the Helm 4 spellings install and upgrade also take.
func (f *OperationFlags) addHelmOperationFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.Atomic, "rollback-on-failure", false, "Helm 4's name of --atomic")
	fl.BoolVar(&f.HideNotes, "hide-notes", false, "Do not print the pack's NOTES after the summary")
}

// addLabelsFlag registers --labels k=v,... (install, upgrade).
func (f *OperationFlags) addLabelsFlag(cmd *cobra.Command, upgrade bool) {
	usage := "Labels recorded on the release (k=v, comma-separated or repeated); list -l selects on them"
	if upgrade {
		usage += ". Merged with the previous revision's labels; k=null removes one"
	}
	cmd.Flags().StringToStringVar(&f.Labels, "labels", nil, usage)
}

// validateLabels refuses keys the record reserves and what Kubernetes would refuse.
func (f *OperationFlags) validateLabels() error {
	set := map[string]string{}
	for k, v := range f.Labels {
		if v != "null" {
			set[k] = v
		}
	}
	if err := releases.ValidateUserLabels(set); err != nil {
		return Usagef("--labels: %v", err)
	}
	return nil
}

// labelsOnto are the labels of the new revision: the previous revision's (upgrade), then
// --labels, where k=null removes k.
func (f *OperationFlags) labelsOnto(previous map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range releases.UserLabels(previous) {
		out[k] = v
	}
	for k, v := range f.Labels {
		if v == "null" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// withLabels records labels on the revision the render makes.
func withLabels(render lifecycle.RenderFunc, labels map[string]string) lifecycle.RenderFunc {
	return func(info rendering.ReleaseInfo, previous []pack.Layer) (*lifecycle.Rendered, error) {
		r, err := render(info, previous)
		if err == nil && r != nil {
			r.Labels = labels
		}
		return r, err
	}
}

// previousLabels are the labels of the release's latest revision (none if it does not exist).
func previousLabels(ctx context.Context, lc *lifecycle.Client, ns, name string) (map[string]string, error) {
	r, err := lc.Store.Latest(ctx, ns, name)
	if releases.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.Labels, nil
}
