package render

import (
	"crypto/md5" //nolint:gosec // md5 is a template filter users ask for, not a security measure
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"math"
	"path"
	"sort"
	"strings"
	"unicode"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
)

// upstreamFilters are the filters upstream's engine registers that Jinja2 lacks, with
// upstream's semantics, plus `items` and `reverse` in a fixed order.
func upstreamFilters() map[string]exec.FilterFunction {
	return map[string]exec.FilterFunction{
		"tojson_pretty": strFilter(toJSONPretty),
		"empty":         func(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value { return exec.AsValue(isEmpty(in)) },
		"haskey":        filterHasKey,
		"keys":          mapFilter(func(m map[string]any, _ []any) any { return toAnyList(sortedKeys(m)) }),
		"values": mapFilter(func(m map[string]any, _ []any) any {
			out := []any{}
			for _, k := range sortedKeys(m) {
				out = append(out, m[k])
			}
			return out
		}),
		"pick": mapFilter(func(m map[string]any, args []any) any {
			out := map[string]any{}
			for _, a := range flatten(args) {
				if k, ok := a.(string); ok {
					if v, ok := m[k]; ok {
						out[k] = v
					}
				}
			}
			return out
		}),
		"omit": mapFilter(func(m map[string]any, args []any) any {
			drop := map[string]bool{}
			for _, a := range flatten(args) {
				if k, ok := a.(string); ok {
					drop[k] = true
				}
			}
			out := map[string]any{}
			for k, v := range m {
				if !drop[k] {
					out[k] = v
				}
			}
			return out
		}),
		"append":  listFilter(func(l []any, args []any) any { return append(append([]any{}, l...), args...) }),
		"prepend": listFilter(func(l []any, args []any) any { return append(append([]any{}, args...), l...) }),
		"concat": listFilter(func(l []any, args []any) any {
			out := append([]any{}, l...)
			for _, a := range args {
				if al, ok := a.([]any); ok {
					out = append(out, al...)
				} else {
					out = append(out, a)
				}
			}
			return out
		}),
		"without": listFilter(func(l []any, args []any) any {
			out := []any{}
			for _, x := range l {
				if !containsEqual(args, x) {
					out = append(out, x)
				}
			}
			return out
		}),
		"compact": listFilter(func(l []any, _ []any) any {
			out := []any{}
			for _, x := range l {
				if !isEmpty(exec.AsValue(x)) {
					out = append(out, x)
				}
			}
			return out
		}),
		"tostrings":  filterToStrings,
		"basename":   stringFilter(path.Base),
		"dirname":    stringFilter(dirname),
		"extname":    stringFilter(func(s string) string { return strings.TrimPrefix(path.Ext(s), ".") }),
		"cleanpath":  stringFilter(path.Clean),
		"floor":      numberFilter(math.Floor),
		"ceil":       numberFilter(math.Ceil),
		"sha512":     stringFilter(func(s string) string { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]) }),
		"md5":        stringFilter(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }), //nolint:gosec
		"repeat":     filterRepeat,
		"pascalcase": stringFilter(pascalCase),
		"substr":     filterSubstr,
		"wrap":       filterWrap,
		"hasprefix":  stringArgFilter(strings.HasPrefix),
		"hassuffix":  stringArgFilter(strings.HasSuffix),
		"bool":       filterBool,
		"split":      filterSplit,
		"lines": stringFilter(func(s string) any {
			if s == "" {
				return []any{}
			}
			return toAnyList(strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n"))
		}),
		"zip":     filterZip,
		"items":   filterItems,
		"reverse": filterReverse,
	}
}

// dirname drops the last element without cleaning the rest (upstream's Path::parent).
func dirname(s string) string {
	s = strings.TrimRight(s, "/")
	switch i := strings.LastIndex(s, "/"); {
	case i > 0:
		return s[:i]
	case i == 0:
		return "/"
	}
	return "."
}

func toJSONPretty(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// isEmpty is upstream's empty: undefined, none, "" and empty collections; 0 and false are not.
func isEmpty(in *exec.Value) bool {
	if in == nil || in.IsError() || in.IsNil() {
		return true
	}
	switch t := goValue(in).(type) {
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func argValues(p *exec.VarArgs) []any {
	if p == nil {
		return nil
	}
	out := make([]any, len(p.Args))
	for i, a := range p.Args {
		out[i] = goValue(a)
	}
	return out
}

// flatten lets pick("a", "b") and pick(["a", "b"]) mean the same.
func flatten(args []any) []any {
	var out []any
	for _, a := range args {
		if l, ok := a.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, a)
		}
	}
	return out
}

func containsEqual(l []any, x any) bool {
	for _, y := range l {
		if exec.AsValue(y).EqualValueTo(exec.AsValue(x)) {
			return true
		}
	}
	return false
}

func mapFilter(f func(map[string]any, []any) any) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		m, ok := goValue(in).(map[string]any)
		if !ok {
			if in.IsNil() {
				m = map[string]any{}
			} else {
				return errValue("expects a mapping, got %s", describe(in))
			}
		}
		return exec.AsValue(f(m, argValues(p)))
	}
}

func listFilter(f func([]any, []any) any) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		l, ok := goValue(in).([]any)
		if !ok {
			if in.IsNil() {
				l = []any{}
			} else {
				return errValue("expects a list, got %s", describe(in))
			}
		}
		return exec.AsValue(f(l, argValues(p)))
	}
}

func describe(v *exec.Value) string {
	switch goValue(v).(type) {
	case string:
		return "a string"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case nil:
		return "none"
	}
	return "a " + v.Val.Type().String()
}

func numberFilter(f func(float64) float64) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		if !in.IsNumber() {
			return errValue("expects a number, got %s", describe(in))
		}
		return exec.AsValue(int64(f(in.Float())))
	}
}

func filterHasKey(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(p.Args) != 1 {
		return errValue("haskey expects a key")
	}
	m, _ := goValue(in).(map[string]any)
	_, ok := m[p.Args[0].String()]
	return exec.AsValue(ok)
}

func filterToStrings(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	prefix, suffix, skip := "", "", false
	if v, ok := p.KwArgs["prefix"]; ok {
		prefix = v.String()
	}
	if v, ok := p.KwArgs["suffix"]; ok {
		suffix = v.String()
	}
	if v, ok := p.KwArgs["skip_empty"]; ok {
		skip = v.IsTrue()
	}
	l, ok := goValue(in).([]any)
	if !ok {
		l = []any{goValue(in)}
	}
	out := []any{}
	for _, x := range l {
		s := ""
		if x != nil {
			s = exec.AsValue(x).String()
		}
		if skip && s == "" {
			continue
		}
		out = append(out, prefix+s+suffix)
	}
	return exec.AsValue(out)
}

func filterRepeat(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(p.Args) != 1 || !p.Args[0].IsInteger() || p.Args[0].Integer() < 0 || p.Args[0].Integer() > 1<<20 {
		return errValue("repeat expects a count between 0 and 1048576")
	}
	return exec.AsValue(strings.Repeat(in.String(), p.Args[0].Integer()))
}

func pascalCase(s string) string {
	w := joinWords(s, "", true)
	if w == "" {
		return w
	}
	r := []rune(w)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// filterSubstr is upstream's substr(start, length?): a start and a length, in characters.
func filterSubstr(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	r := []rune(in.String())
	if len(p.Args) < 1 || !p.Args[0].IsInteger() {
		return errValue("substr expects a start and an optional length")
	}
	start := min(max(p.Args[0].Integer(), 0), len(r))
	end := len(r)
	if len(p.Args) > 1 {
		if !p.Args[1].IsInteger() {
			return errValue("substr: the length must be an integer")
		}
		end = min(start+max(p.Args[1].Integer(), 0), len(r))
	}
	return exec.AsValue(string(r[start:end]))
}

// filterWrap wraps words at width w (a word longer than w stays whole).
func filterWrap(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(p.Args) != 1 || !p.Args[0].IsInteger() || p.Args[0].Integer() < 1 {
		return errValue("wrap expects a width of at least 1")
	}
	w := p.Args[0].Integer()
	var lines []string
	for _, para := range strings.Split(in.String(), "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len([]rune(line))+1+len([]rune(word)) <= w:
				line += " " + word
			default:
				lines = append(lines, line)
				line = word
			}
		}
		lines = append(lines, line)
	}
	return exec.AsValue(strings.Join(lines, "\n"))
}

// filterBool: strings true/yes/on/1 and false/no/off/0/"" (any case); anything else by truthiness.
func filterBool(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if s, ok := goValue(in).(string); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "yes", "on", "1", "y":
			return exec.AsValue(true)
		case "false", "no", "off", "0", "n", "":
			return exec.AsValue(false)
		}
		return errValue("bool: %q is not a boolean (true/false, yes/no, on/off, 1/0)", s)
	}
	return exec.AsValue(in.IsTrue())
}

// filterSplit is Python's str.split: on runs of whitespace without a separator.
func filterSplit(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	s := in.String()
	if len(p.Args) == 0 || p.Args[0].IsNil() {
		return exec.AsValue(toAnyList(strings.Fields(s)))
	}
	sep := p.Args[0].String()
	if sep == "" {
		return errValue("split: empty separator")
	}
	return exec.AsValue(toAnyList(strings.Split(s, sep)))
}

func filterZip(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	lists := [][]any{}
	for _, v := range append([]*exec.Value{in}, p.Args...) {
		l, ok := goValue(v).([]any)
		if !ok {
			return errValue("zip expects lists, got %s", describe(v))
		}
		lists = append(lists, l)
	}
	n := len(lists[0])
	for _, l := range lists {
		n = min(n, len(l))
	}
	out := make([]any, n)
	for i := range n {
		row := make([]any, len(lists))
		for j, l := range lists {
			row[j] = l[i]
		}
		out[i] = row
	}
	return exec.AsValue(out)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
