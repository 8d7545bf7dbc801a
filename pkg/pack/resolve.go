package pack

import (
	"fmt"
	"path"
)

// Resolved are the values a render uses, and what a release records of them.
type Resolved struct {
	// Values are everything merged: schema defaults < values.yaml < user layers.
	Values map[string]any
	// User is what the user layers alone set (what an upgrade reuses).
	User map[string]any
	// Provenance is, for every leaf of Values, the source that set it.
	Provenance Provenance
}

// ResolveValues merges the pack's defaults (and its subpacks', under their names) with the
// user's layers, in order, then validates the result against the schemas.
func (pk *Pack) ResolveValues(user []Layer) (*Resolved, error) {
	defaults, err := pk.defaultLayers("", "")
	if err != nil {
		return nil, err
	}
	all := append(defaults, user...)
	values, prov := Merge(all...)
	userValues, _ := Merge(user...)
	if err := pk.validate(values); err != nil {
		return nil, err
	}
	return &Resolved{Values: values, User: userValues, Provenance: prov}, nil
}

// defaultLayers: subpack defaults (nested under their names), then schema defaults, then values.yaml.
func (pk *Pack) defaultLayers(under, dir string) ([]Layer, error) {
	var layers []Layer
	for _, sp := range pk.Subpacks {
		if sp.Pack == nil {
			continue
		}
		sub, err := sp.Pack.defaultLayers(joinUnder(under, sp.EffectiveName()), path.Join(dir, sp.Dir))
		if err != nil {
			return nil, err
		}
		layers = append(layers, sub...)
	}
	s, err := pk.Schema()
	if err != nil {
		return nil, err
	}
	if d := s.Defaults(); len(d) > 0 {
		layers = append(layers, Layer{Source: Source{Kind: "schema-default", Name: path.Join(dir, path.Base(s.File))}, Values: nest(under, d)})
	}
	if len(pk.Values) > 0 {
		layers = append(layers, Layer{Source: Source{Kind: "pack-default", Name: path.Join(dir, "values.yaml")}, Values: nest(under, pk.Values)})
	}
	return layers, nil
}

func joinUnder(under, name string) string {
	if under == "" {
		return name
	}
	return under + "." + name
}

// nest puts m under a dotted path (a.b -> {a: {b: m}}).
func nest(under string, m map[string]any) map[string]any {
	if under == "" {
		return m
	}
	out := m
	segs := splitDots(under)
	for i := len(segs) - 1; i >= 0; i-- {
		out = map[string]any{segs[i]: out}
	}
	return out
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// validate checks the values against the pack's schema and each enabled subpack's schema.
func (pk *Pack) validate(values map[string]any) error {
	s, err := pk.Schema()
	if err != nil {
		return err
	}
	if err := s.Validate(values); err != nil {
		return err
	}
	for _, sp := range pk.Subpacks {
		on, err := sp.EnabledIn(values)
		if err != nil {
			return err
		}
		if on && sp.Pack == nil {
			return sp.Missing
		}
		if !on || sp.Pack.Kind == KindLibrary {
			continue
		}
		sub, _ := values[sp.EffectiveName()].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
		}
		if err := sp.Pack.validate(sub); err != nil {
			return err
		}
	}
	return nil
}

// EnabledIn decides whether a subpack is on: its static enabled flag, then its condition (a
// values path; a missing one counts as enabled, as in Helm), then its tags (on when any tag is
// true under values.tags, off when the tags that are set are all false), as in Helm.
func (sp *Subpack) EnabledIn(values map[string]any) (bool, error) {
	if sp.Enabled != nil && !*sp.Enabled {
		return false, nil
	}
	if sp.Condition != "" {
		if v, ok := Lookup(values, sp.Condition); ok && v != nil {
			return truthy(sp, sp.Condition, v)
		}
	}
	if len(sp.Tags) > 0 {
		tags, _ := values["tags"].(map[string]any)
		set := false
		for _, t := range sp.Tags {
			v, ok := tags[t]
			if !ok || v == nil {
				continue
			}
			on, err := truthy(sp, "tags."+t, v)
			if err != nil {
				return false, err
			}
			if on {
				return true, nil
			}
			set = true
		}
		if set {
			return false, nil
		}
	}
	return true, nil
}

func truthy(sp *Subpack, at string, v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		return t != "" && t != "false" && t != "0", nil
	case int64:
		return t != 0, nil
	}
	return false, fmt.Errorf("dependency %s: %s is a %T; it must be true or false", sp.EffectiveName(), at, v)
}
