package pack

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/sherpack/kubectl-sherpack/internal/suggest"
)

// Engine is Pack.yaml's engine block.
type Engine struct {
	// Strict (default true): printing or iterating an undefined value is an error. false renders
	// it as empty. Conditions on undefined values are false either way.
	Strict *bool `yaml:"strict,omitempty" json:"strict,omitempty"`
}

// The crds block (CRDPolicy) is in crds.go.

// StrictUndefined is engine.strict (true unless Pack.yaml says false).
func (pk *Pack) StrictUndefined() bool {
	return pk.Engine == nil || pk.Engine.Strict == nil || *pk.Engine.Strict
}

// Warning is a problem in a pack that does not stop it from loading (lint --strict refuses it).
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Msg)
}

// knownKeys is the shape of Pack.yaml: a key maps to its children (nil: a leaf or free-form).
// "[]" stands for the items of a list.
var knownKeys = map[string]any{
	"apiVersion": nil,
	"kind":       nil,
	"metadata": map[string]any{
		"name": nil, "version": nil, "appVersion": nil, "description": nil, "kubeVersion": nil, "home": nil,
		"icon": nil, "sources": nil, "keywords": nil, "annotations": nil,
		"maintainers": map[string]any{"[]": map[string]any{"name": nil, "email": nil, "url": nil}},
	},
	"dependencies": map[string]any{"[]": map[string]any{
		"name": nil, "version": nil, "repository": nil, "condition": nil, "enabled": nil, "alias": nil,
		"resolve": nil, "tags": nil,
	}},
	"engine": map[string]any{"strict": nil},
	"crds": map[string]any{
		"install": nil, "waitReady": nil, "waitTimeout": nil,
		"upgrade":   map[string]any{"enabled": nil, "strategy": nil},
		"uninstall": map[string]any{"keep": nil},
	},
}

// unknownKeys lists the keys of Pack.yaml that no field reads, each with its line and the
// closest known key.
func unknownKeys(raw []byte, file string) []Warning {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	var out []Warning
	var walk func(n *yaml.Node, shape map[string]any, at string)
	walk = func(n *yaml.Node, shape map[string]any, at string) {
		if items, ok := shape["[]"].(map[string]any); ok {
			if n.Kind == yaml.SequenceNode {
				for i, c := range n.Content {
					walk(c, items, fmt.Sprintf("%s[%d]", at, i))
				}
			}
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child, known := shape[k.Value]
			if !known {
				msg := fmt.Sprintf("unknown key %q", joinKey(at, k.Value))
				if best := closestKey(k.Value, shape); best != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", joinKey(at, best))
				}
				out = append(out, Warning{File: file, Line: k.Line, Msg: msg + "; it is ignored"})
				continue
			}
			if m, ok := child.(map[string]any); ok {
				walk(v, m, joinKey(at, k.Value))
			}
		}
	}
	walk(doc.Content[0], knownKeys, "")
	return out
}

func joinKey(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func closestKey(s string, shape map[string]any) string {
	keys := make([]string, 0, len(shape))
	for k := range shape {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return suggest.Typo(s, keys)
}
