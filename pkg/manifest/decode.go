// Package manifest turns multi-document YAML into Kubernetes objects with a real YAML decoder,
// remembers where each object came from, and reads the sherpack.io/* annotations once.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Object is one Kubernetes object and where it came from.
type Object struct {
	*unstructured.Unstructured
	// Source is the template (or file) that produced it; Line is where its document starts.
	Source string
	Line   int
}

// Key identifies an object in a cluster.
type Key struct {
	Group, Kind, Namespace, Name string
}

// String is Kind/namespace/name (Kind/name for cluster-scoped objects).
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// KeyOf is the object's identity.
func (o *Object) Key() Key {
	gvk := o.GroupVersionKind()
	return Key{Group: gvk.Group, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
}

// GVK is the object's group, version and kind.
func (o *Object) GVK() schema.GroupVersionKind { return o.GroupVersionKind() }

// DecodeError points at the document that could not be read.
type DecodeError struct {
	Source string
	Line   int
	Msg    string
}

func (e *DecodeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Source, e.Msg)
}

// Decode reads every YAML (or JSON) document of data as an object. Empty documents and
// documents holding only comments are skipped; a List kind is expanded into its items.
func Decode(data []byte, source string) ([]*Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Object
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &DecodeError{Source: source, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		if len(node.Content) == 0 || (node.Content[0].Kind == yaml.ScalarNode && node.Content[0].Tag == "!!null") {
			continue // empty or comments only
		}
		line := node.Content[0].Line
		if n := expandedSize(&node, map[*yaml.Node]int{}, 0); n > maxExpandedNodes {
			return nil, &DecodeError{Source: source, Line: line, Msg: fmt.Sprintf("document expands to more than %d values through YAML aliases; refusing it", maxExpandedNodes)}
		}
		var v any
		if err := node.Decode(&v); err != nil {
			return nil, &DecodeError{Source: source, Line: line, Msg: "invalid YAML: " + err.Error()}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, &DecodeError{Source: source, Line: line, Msg: fmt.Sprintf("a document must be a mapping (an object), not %T", v)}
		}
		objs, err := fromMap(m, source, line)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
}

func fromMap(m map[string]any, source string, line int) ([]*Object, error) {
	u, ok := asJSONObject(m)
	if !ok {
		var err error
		if u, err = viaJSON(m); err != nil {
			return nil, &DecodeError{Source: source, Line: line, Msg: err.Error()}
		}
	}
	if u.IsList() {
		list, err := u.ToList()
		if err != nil {
			return nil, &DecodeError{Source: source, Line: line, Msg: err.Error()}
		}
		var out []*Object
		for i := range list.Items {
			item := list.Items[i]
			if err := validate(&item); err != nil {
				return nil, &DecodeError{Source: source, Line: line, Msg: fmt.Sprintf("item %d: %v", i, err)}
			}
			out = append(out, &Object{Unstructured: &item, Source: source, Line: line})
		}
		return out, nil
	}
	if err := validate(u); err != nil {
		return nil, &DecodeError{Source: source, Line: line, Msg: err.Error()}
	}
	return []*Object{{Unstructured: u, Source: source, Line: line}}, nil
}

// viaJSON is the object that m reads as when written as JSON and read back.
func viaJSON(m map[string]any) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, errors.New(describeMissing(m, err))
	}
	return u, nil
}

func describeMissing(m map[string]any, err error) string {
	if _, ok := m["kind"]; !ok {
		return "object has no kind"
	}
	if _, ok := m["apiVersion"]; !ok {
		return fmt.Sprintf("%v object has no apiVersion", m["kind"])
	}
	return err.Error()
}

func validate(u *unstructured.Unstructured) error {
	if u.GetAPIVersion() == "" {
		return fmt.Errorf("%s object has no apiVersion", u.GetKind())
	}
	if u.GetKind() == "" {
		return errors.New("object has no kind")
	}
	if u.GetName() == "" && u.GetGenerateName() == "" {
		return fmt.Errorf("%s object has no metadata.name", u.GetKind())
	}
	return nil
}

// Encode writes objects as multi-document YAML, each preceded by a "# Source:" line when it has one.
func Encode(objs []*Object, withSource bool) ([]byte, error) {
	var b bytes.Buffer
	for _, o := range objs {
		y, err := ToYAML(o.Unstructured)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key(), err)
		}
		b.WriteString("---\n")
		if withSource && o.Source != "" {
			fmt.Fprintf(&b, "# Source: %s\n", o.Source)
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// ToYAML renders one object as YAML with keys in a stable order.
func ToYAML(u *unstructured.Unstructured) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(u.Object); err != nil {
		return nil, err
	}
	_ = enc.Close()
	return buf.Bytes(), nil
}

// maxExpandedNodes bounds what a document may expand to through aliases (a "billion laughs"
// document would otherwise take minutes and gigabytes to decode).
const maxExpandedNodes = 1_000_000

// expandedSize counts the nodes of a document with every alias expanded, stopping early past
// the limit; sizes of anchored nodes are remembered so that the count itself stays cheap.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, depth int) int {
	if n == nil || depth > 10_000 {
		return maxExpandedNodes + 1
	}
	if v, ok := memo[n]; ok {
		return v
	}
	if n.Kind == yaml.AliasNode {
		return expandedSize(n.Alias, memo, depth+1)
	}
	total := 1
	for _, c := range n.Content {
		total += expandedSize(c, memo, depth+1)
		if total > maxExpandedNodes {
			break
		}
	}
	memo[n] = total
	return total
}
