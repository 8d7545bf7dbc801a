package render

import (
	"errors"
	"math"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/builtins"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
)

// Where gonja's builtins disagree with Jinja2 (found by the conformance suite), ours replace
// them: filters in filterSet, string methods in methodSet.

func jinjaFilters(strict bool) map[string]exec.FilterFunction {
	return map[string]exec.FilterFunction{
		"default":   filterDefault(strict),
		"d":         filterDefault(strict),
		"round":     filterRound,
		"urlencode": filterURLEncode,
		"dictsort":  filterDictSort,
		"title":     stringFilter(title),
	}
}

// filterDefault is Jinja2's default: it replaces an undefined value (in lenient mode a missing
// value is none, so none too), and with boolean=true (or a second argument true) any false value.
func filterDefault(strict bool) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		def := exec.AsValue("")
		if len(p.Args) > 0 {
			def = p.Args[0]
		}
		boolean := len(p.Args) > 1 && p.Args[1].IsTrue()
		if b, ok := p.KwArgs["boolean"]; ok {
			boolean = b.IsTrue()
		}
		switch {
		case in.IsError():
			if isUndefined(in) {
				return def
			}
			return in
		case in.IsNil() && !strict, boolean && !in.IsTrue():
			return def
		}
		return in
	}
}

// title is Jinja2's title: a word begins after whitespace or one of -({[<, not after any
// punctuation (Python's str.title would make "b,a" "B,A").
func title(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || strings.ContainsRune("-({[<", r):
			b.WriteRune(r)
			start = true
		case start:
			b.WriteRune(unicode.ToUpper(r))
			start = false
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// filterRound is Python's round(): half to even for "common", or floor/ceil, at a precision.
func filterRound(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	precision, method := 0, "common"
	if len(p.Args) > 0 {
		precision = p.Args[0].Integer()
	}
	if len(p.Args) > 1 {
		method = p.Args[1].String()
	}
	if v, ok := p.KwArgs["precision"]; ok {
		precision = v.Integer()
	}
	if v, ok := p.KwArgs["method"]; ok {
		method = v.String()
	}
	scale := math.Pow(10, float64(precision))
	x := in.Float() * scale
	switch method {
	case "common":
		x = math.RoundToEven(x)
	case "floor":
		x = math.Floor(x)
	case "ceil":
		x = math.Ceil(x)
	default:
		return errValue("round: method must be common, ceil or floor")
	}
	return exec.AsValue(x / scale)
}

// filterURLEncode quotes like Jinja2's urlencode of a string: everything but letters, digits,
// _.-~ and /.
func filterURLEncode(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(in.String()) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("_.-~/", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return exec.AsValue(b.String())
}

// filterDictSort is Jinja2's dictsort: (key, value) pairs by key or by value, case-insensitive
// unless case_sensitive=true.
func filterDictSort(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	m, ok := goValue(in).(map[string]any)
	if !ok {
		return errValue("dictsort expects a mapping, got %s", describe(in))
	}
	caseSensitive, byValue, reverse := false, false, false
	if v, ok := p.KwArgs["case_sensitive"]; ok {
		caseSensitive = v.IsTrue()
	}
	if v, ok := p.KwArgs["by"]; ok {
		switch v.String() {
		case "key":
		case "value":
			byValue = true
		default:
			return errValue("dictsort: by must be key or value")
		}
	}
	if v, ok := p.KwArgs["reverse"]; ok {
		reverse = v.IsTrue()
	}
	keys := sortedKeys(m)
	sortKey := func(k string) *exec.Value {
		v := exec.AsValue(k)
		if byValue {
			v = exec.AsValue(m[k])
		}
		if !caseSensitive && v.IsString() {
			return exec.AsValue(strings.ToLower(v.String()))
		}
		return v
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := sortKey(keys[i]), sortKey(keys[j])
		if reverse {
			a, b = b, a
		}
		return lessValue(a, b)
	})
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = []any{k, m[k]}
	}
	return exec.AsValue(out)
}

func lessValue(a, b *exec.Value) bool {
	if a.IsNumber() && b.IsNumber() {
		return a.Float() < b.Float()
	}
	return a.String() < b.String()
}

// plainResult makes a method return Go strings: gonja's return their own string type, which
// does not compare equal to a string ("web" == "WEB".lower() was false).
func plainResult(f exec.Method[string]) exec.Method[string] {
	return func(self string, v *exec.Value, a *exec.VarArgs) (any, error) {
		out, err := f(self, v, a)
		return plain(out), err
	}
}

func plain(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.String || rv.Type().Elem().Kind() == reflect.Interface {
			out := make([]any, rv.Len())
			for i := range out {
				out[i] = plain(rv.Index(i).Interface())
			}
			return out
		}
	}
	return v
}

// strMethodNames are the Python str methods gonja implements.
var strMethodNames = strings.Fields("capitalize capwords casefold center count encode endswith expandtabs find format format_map isalnum isalpha isascii isdecimal isdigit islower isnumeric isprintable isspace istitle isupper join ljust lower lstrip partition removeprefix removesuffix replace rfind rjust rpartition rsplit rstrip split splitlines startswith strip swapcase title upper zfill")

// methodSet is gonja's methods with the string methods that disagree with Python replaced:
// replace without a count, split/strip without an argument, count.
func methodSet() exec.Methods {
	m := builtins.Methods
	str := map[string]exec.Method[string]{}
	for _, n := range strMethodNames {
		if f, ok := builtins.Methods.Str.Get(n); ok {
			str[n] = plainResult(f)
		}
	}
	str["replace"] = func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) < 2 {
			return nil, errors.New("replace() takes the old and the new string")
		}
		n := -1
		if len(a.Args) > 2 {
			n = a.Args[2].Integer()
		}
		return strings.Replace(self, a.Args[0].String(), a.Args[1].String(), n), nil
	}
	str["count"] = func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) < 1 {
			return nil, errors.New("count() takes a substring")
		}
		return strings.Count(self, a.Args[0].String()), nil
	}
	str["split"] = func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) == 0 || a.Args[0].IsNil() {
			return toAnyList(strings.Fields(self)), nil
		}
		n := -1
		if len(a.Args) > 1 {
			n = a.Args[1].Integer() + 1
		}
		if a.Args[0].String() == "" {
			return nil, errors.New("split(): empty separator")
		}
		return toAnyList(strings.SplitN(self, a.Args[0].String(), n)), nil
	}
	strip := func(f func(string, string) string, ws func(string) string) exec.Method[string] {
		return func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
			if len(a.Args) == 0 || a.Args[0].IsNil() {
				return ws(self), nil
			}
			return f(self, a.Args[0].String()), nil
		}
	}
	str["strip"] = strip(strings.Trim, strings.TrimSpace)
	str["lstrip"] = strip(strings.TrimLeft, func(s string) string { return strings.TrimLeft(s, " \t\n\r\v\f") })
	str["rstrip"] = strip(strings.TrimRight, func(s string) string { return strings.TrimRight(s, " \t\n\r\v\f") })
	m.Str = exec.NewMethodSet(str)
	return m
}

// filterItems is dict.items() in sorted key order (every map iterates that way, for output that
// is the same from run to run); a dict literal keeps the order it was written in.
func filterItems(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if in.IsNil() {
		return exec.AsValue([]any{})
	}
	if d, ok := in.Interface().(*exec.Dict); ok {
		out := make([]any, 0, len(d.Pairs))
		for _, p := range d.Pairs {
			out = append(out, []any{p.Key.Interface(), p.Value.Interface()})
		}
		return exec.AsValue(out)
	}
	m, ok := goValue(in).(map[string]any)
	if !ok {
		return errValue("items expects a mapping, got %s", describe(in))
	}
	out := make([]any, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, []any{k, m[k]})
	}
	return exec.AsValue(out)
}

// filterReverse reverses a list or a string (gonja's sorts lists as well).
func filterReverse(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	switch t := goValue(in).(type) {
	case string:
		r := []rune(t)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return exec.AsValue(string(r))
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[len(t)-1-i] = x
		}
		return exec.AsValue(out)
	case map[string]any:
		keys := sortedKeys(t)
		sort.Sort(sort.Reverse(sort.StringSlice(keys)))
		return exec.AsValue(toAnyList(keys))
	}
	return errValue("reverse expects a list or a string, got %s", describe(in))
}
