package pack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Source says where a value came from.
type Source struct {
	// Kind: schema-default, pack-default, values-file, set, set-string, set-file, set-json,
	// previous-release.
	Kind string `json:"kind"`
	// Name is the file, flag or release that set it.
	Name string `json:"source,omitempty"`
}

// Provenance maps each leaf path (a.b[0].c) to the source that set its current value.
type Provenance map[string]Source

// DecodeValues reads a YAML mapping, keeping integers as integers (never float64).
func DecodeValues(data []byte, where string) (map[string]any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %s", where, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: values must be a mapping at the top, not %T", where, v)
	}
	return m, nil
}

// Normalize makes decoded values uniform: int64 for integers (also from json.Number),
// map[string]any for maps.
func Normalize(v any) any { return normalize(v) }

// normalize makes decoded values uniform: int64 for integers, map[string]any for maps.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = normalize(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case uint64:
		if t <= math.MaxInt64 {
			return int64(t)
		}
		return float64(t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// Layer is one source of values, applied over the ones before it.
type Layer struct {
	Source Source
	Values map[string]any
}

// Merge applies layers in order: maps merge deeply, anything else replaces, null deletes a key.
// It returns the merged values and, for every leaf, the layer that set it.
func Merge(layers ...Layer) (map[string]any, Provenance) {
	out := map[string]any{}
	prov := Provenance{}
	for _, l := range layers {
		mergeInto(out, deepCopy(l.Values).(map[string]any), "", l.Source, prov)
	}
	return out, prov
}

func mergeInto(dst, src map[string]any, prefix string, s Source, prov Provenance) {
	for k, v := range src {
		p := joinPath(prefix, k)
		if v == nil {
			delete(dst, k)
			forget(prov, p)
			continue
		}
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm, p, s, prov)
				continue
			}
			forget(prov, p)
			dst[k] = pruneNulls(sm)
			record(prov, p, dst[k], s)
			continue
		}
		forget(prov, p)
		dst[k] = v
		record(prov, p, v, s)
	}
}

// pruneNulls drops null keys of a map that has nothing under it to delete.
func pruneNulls(m map[string]any) map[string]any {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		} else if sm, ok := v.(map[string]any); ok {
			pruneNulls(sm)
		}
	}
	return m
}

func joinPath(prefix, k string) string {
	if strings.ContainsAny(k, ".[]") {
		k = strconv.Quote(k)
	}
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func record(prov Provenance, p string, v any, s Source) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			prov[p] = s
		}
		for k, x := range t {
			record(prov, joinPath(p, k), x, s)
		}
	case []any:
		if len(t) == 0 {
			prov[p] = s
		}
		for i, x := range t {
			record(prov, fmt.Sprintf("%s[%d]", p, i), x, s)
		}
	default:
		prov[p] = s
	}
}

func forget(prov Provenance, p string) {
	for k := range prov {
		if k == p || strings.HasPrefix(k, p+".") || strings.HasPrefix(k, p+"[") {
			delete(prov, k)
		}
	}
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}

// DeepCopy copies a values tree.
func DeepCopy(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return deepCopy(m).(map[string]any)
}

// Options are the user's value flags, as Helm spells them.
type Options struct {
	ValuesFiles []string // --values FILE (repeatable; - is stdin; http(s) URLs)
	Set         []string // --set a.b=c,d=e
	SetString   []string // --set-string
	SetFile     []string // --set-file key=path
	SetJSON     []string // --set-json key=<json>
	Stdin       io.Reader
}

// Empty tells whether no value flag was given (an upgrade then reuses the previous values).
func (o Options) Empty() bool {
	return len(o.ValuesFiles)+len(o.Set)+len(o.SetString)+len(o.SetFile)+len(o.SetJSON) == 0
}

// Layers reads every user source, in Helm's order: files, --set-json, --set, --set-string, --set-file.
func (o Options) Layers() ([]Layer, error) {
	var layers []Layer
	for _, f := range o.ValuesFiles {
		data, err := readValuesFile(f, o.Stdin)
		if err != nil {
			return nil, err
		}
		v, err := DecodeValues(data, f)
		if err != nil {
			return nil, err
		}
		layers = append(layers, Layer{Source: Source{Kind: "values-file", Name: f}, Values: v})
	}
	for _, s := range o.SetJSON {
		v, err := ParseSetJSON(s)
		if err != nil {
			return nil, fmt.Errorf("--set-json %q: %w", s, err)
		}
		layers = append(layers, Layer{Source: Source{Kind: "set-json", Name: "--set-json " + s}, Values: v})
	}
	for _, s := range o.Set {
		v, err := ParseSet(s, true)
		if err != nil {
			return nil, fmt.Errorf("--set %q: %w", s, err)
		}
		layers = append(layers, Layer{Source: Source{Kind: "set", Name: "--set " + s}, Values: v})
	}
	for _, s := range o.SetString {
		v, err := ParseSet(s, false)
		if err != nil {
			return nil, fmt.Errorf("--set-string %q: %w", s, err)
		}
		layers = append(layers, Layer{Source: Source{Kind: "set-string", Name: "--set-string " + s}, Values: v})
	}
	for _, s := range o.SetFile {
		v, err := ParseSetFile(s)
		if err != nil {
			return nil, fmt.Errorf("--set-file %q: %w", s, err)
		}
		layers = append(layers, Layer{Source: Source{Kind: "set-file", Name: "--set-file " + s}, Values: v})
	}
	return layers, nil
}

func readValuesFile(f string, stdin io.Reader) ([]byte, error) {
	switch {
	case f == "-":
		if stdin == nil {
			stdin = os.Stdin
		}
		return io.ReadAll(io.LimitReader(stdin, maxPackSize))
	case strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://"):
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Get(f)
		if err != nil {
			return nil, fmt.Errorf("--values %s: %w", f, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("--values %s: HTTP %s", f, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, maxPackSize))
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("--values %s: %w", f, err)
	}
	return data, nil
}

// ParseSetFile reads key=path: the value is the file's content, as a string.
func ParseSetFile(s string) (map[string]any, error) {
	key, p, ok := strings.Cut(s, "=")
	if !ok || key == "" || p == "" {
		return nil, errors.New("want key=path")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return setPath(key, string(data))
}

// ParseSetJSON reads key=<json>.
func ParseSetJSON(s string) (map[string]any, error) {
	key, raw, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return nil, errors.New("want key=<json value>")
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("value is not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("value has text after the JSON")
	}
	return setPath(key, normalize(v))
}

func setPath(key string, v any) (map[string]any, error) {
	p := &setParser{}
	segs, err := p.parseKey(key)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := assign(out, segs, v); err != nil {
		return nil, err
	}
	return out, nil
}

// SortedPaths lists provenance paths in order.
func (p Provenance) SortedPaths() []string {
	out := make([]string, 0, len(p))
	for k := range p {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the value at a dotted path (a.b.c), if any.
func Lookup(values map[string]any, path string) (any, bool) {
	var cur any = values
	for _, seg := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// MarshalYAML renders values as YAML.
func MarshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	_ = enc.Close()
	return b.Bytes(), nil
}
