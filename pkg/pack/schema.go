package pack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema validates a pack's values and supplies their defaults.
type Schema struct {
	File     string
	compiled *jsonschema.Schema
	doc      map[string]any // the JSON Schema document (converted from the simplified format if need be)
}

// Schema loads values.schema.json (JSON Schema) or values.schema.yaml (JSON Schema in YAML, or
// Sherpack's simplified format: schemaVersion: sherpack/v1 with properties whose type,
// required, default, enumValues, min/max... are set on each property). nil if the pack has none.
func (pk *Pack) Schema() (*Schema, error) {
	for _, name := range []string{"values.schema.yaml", "values.schema.yml", "values.schema.json", "schema.yaml", "schema.yml", "schema.json"} {
		raw, ok := pk.Files[name]
		if !ok {
			continue
		}
		where := pk.Root + "/" + name
		var doc any
		if strings.HasSuffix(name, ".json") {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&doc); err != nil {
				return nil, fmt.Errorf("%s: invalid JSON: %w", where, err)
			}
		} else {
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				return nil, fmt.Errorf("%s: invalid YAML: %w", where, err)
			}
			doc = toJSONTypes(normalize(doc))
		}
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: a schema must be a mapping", where)
		}
		_, versioned := m["schemaVersion"]
		if isSimplified(m) && (versioned || !strings.HasSuffix(name, ".json")) {
			conv, err := convertSimplified(m, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			m = conv
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource("file:///values.schema.json", m); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		compiled, err := c.Compile("file:///values.schema.json")
		if err != nil {
			return nil, fmt.Errorf("%s: not a valid JSON Schema: %w", where, err)
		}
		return &Schema{File: where, compiled: compiled, doc: m}, nil
	}
	return nil, nil
}

// isSimplified tells Sherpack's simplified format from JSON Schema as upstream does: $schema or
// $id means JSON Schema, schemaVersion: sherpack/* the simplified format, a root type: object
// JSON Schema, anything else the simplified format.
func isSimplified(m map[string]any) bool {
	if _, ok := m["$schema"]; ok {
		return false
	}
	if _, ok := m["$id"]; ok {
		return false
	}
	if v, ok := m["schemaVersion"].(string); ok && strings.HasPrefix(v, "sherpack/") {
		return true
	}
	if t, _ := m["type"].(string); t == "object" {
		return false
	}
	_, hasProps := m["properties"]
	return hasProps
}

// convertSimplified turns Sherpack's simplified schema into JSON Schema.
func convertSimplified(m map[string]any, at string) (map[string]any, error) {
	out := map[string]any{}
	if at == "" {
		out["type"] = "object"
		for _, k := range []string{"title", "description"} {
			if v, ok := m[k]; ok {
				out[k] = v
			}
		}
	} else {
		t, _ := m["type"].(string)
		switch t {
		case "string", "number", "integer", "boolean", "array", "object":
			out["type"] = t
		case "any":
		case "":
			return nil, fmt.Errorf("property %s: type is required (string, number, integer, boolean, array, object or any)", at)
		default:
			return nil, fmt.Errorf("property %s: unknown type %q", at, t)
		}
		rename := map[string]string{"description": "description", "default": "default", "enumValues": "enum", "pattern": "pattern",
			"min": "minimum", "max": "maximum", "minLength": "minLength", "maxLength": "maxLength", "minItems": "minItems", "maxItems": "maxItems"}
		for from, to := range rename {
			if v, ok := m[from]; ok {
				out[to] = v
			}
		}
		if items, ok := m["items"].(map[string]any); ok {
			conv, err := convertSimplified(items, at+"[]")
			if err != nil {
				return nil, err
			}
			out["items"] = conv
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		cp := map[string]any{}
		var required []any
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			pm, ok := props[k].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("property %s: must be a mapping", joinPath(at, k))
			}
			conv, err := convertSimplified(pm, joinPath(at, k))
			if err != nil {
				return nil, err
			}
			cp[k] = conv
			if r, _ := pm["required"].(bool); r {
				required = append(required, k)
			}
		}
		out["properties"] = cp
		if len(required) > 0 {
			out["required"] = required
		}
	}
	return out, nil
}

// Defaults are the schema's default values (objects whose properties have defaults included).
func (s *Schema) Defaults() map[string]any {
	if s == nil {
		return nil
	}
	d, _ := defaultsOf(s.doc).(map[string]any)
	return d
}

func defaultsOf(node map[string]any) any {
	if d, ok := node["default"]; ok {
		return normalize(deepCopy(d))
	}
	props, ok := node["properties"].(map[string]any)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for k, p := range props {
		if pm, ok := p.(map[string]any); ok {
			if d := defaultsOf(pm); d != nil {
				out[k] = d
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Violation is one way the values break the schema.
type Violation struct {
	Path    string // values.a.b
	Message string
}

// SchemaError lists every violation.
type SchemaError struct {
	File       string
	Violations []Violation
}

func (e *SchemaError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "values do not match %s (%d problem", e.File, len(e.Violations))
	if len(e.Violations) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  - %s: %s", v.Path, v.Message)
	}
	return b.String()
}

// Validate checks values; every violation is listed with its path.
func (s *Schema) Validate(values map[string]any) error {
	if s == nil {
		return nil
	}
	err := s.compiled.Validate(toJSONTypes(deepCopy(values)))
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return fmt.Errorf("%s: %w", s.File, err)
	}
	p := message.NewPrinter(language.English)
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			path := "values"
			for _, seg := range e.InstanceLocation {
				if isInteger(seg) {
					path += "[" + seg + "]"
				} else {
					path += "." + seg
				}
			}
			out = append(out, Violation{Path: path, Message: e.ErrorKind.LocalizedString(p)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return &SchemaError{File: s.File, Violations: out}
}

// toJSONTypes converts int64 to json.Number so the validator sees JSON numbers.
func toJSONTypes(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = toJSONTypes(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = toJSONTypes(x)
		}
		return t
	case int64:
		return json.Number(fmt.Sprint(t))
	case int:
		return json.Number(fmt.Sprint(t))
	case float64:
		return json.Number(fmt.Sprint(t))
	}
	return v
}
