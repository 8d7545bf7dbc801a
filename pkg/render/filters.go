package render

import (
	"crypto/sha1" //nolint:gosec // sha1 is a template filter users ask for, not a security measure
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/Masterminds/semver/v3"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/builtins"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
	"go.yaml.in/yaml/v3"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// filterSet is the Jinja2 builtins plus the filters Kubernetes templates need. Each engine
// gets its own copy: the global set is never mutated.
func filterSet(strict bool) *exec.FilterSet {
	fs := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	ours := map[string]exec.FilterFunction{
		"toyaml":         strFilter(toYAML),
		"tojson":         strFilter(toJSON),
		"fromyaml":       filterFromYAML,
		"fromjson":       filterFromJSON,
		"b64encode":      stringFilter(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }),
		"b64decode":      filterB64Decode,
		"sha256":         stringFilter(func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }),
		"sha1":           stringFilter(func(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }), //nolint:gosec
		"quote":          filterQuote,
		"squote":         stringFilter(func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }),
		"indent":         filterIndent(false),
		"nindent":        filterIndent(true),
		"required":       filterRequired,
		"trunc":          filterTrunc,
		"trimprefix":     stringArgFilter(strings.TrimPrefix),
		"trimsuffix":     stringArgFilter(strings.TrimSuffix),
		"kebabcase":      stringFilter(func(s string) string { return joinWords(s, "-", false) }),
		"snakecase":      stringFilter(func(s string) string { return joinWords(s, "_", false) }),
		"camelcase":      stringFilter(func(s string) string { return joinWords(s, "", true) }),
		"regex_match":    filterRegexMatch,
		"regex_replace":  filterRegexReplace,
		"regex_find":     filterRegexFind,
		"regex_find_all": filterRegexFindAll,
		"semver_match":   filterSemverMatch,
		"merge":          filterMerge,
	}
	for name, f := range upstreamFilters() {
		ours[name] = f
	}
	for name, f := range jinjaFilters(strict) {
		ours[name] = f
	}
	for name, f := range ours {
		if fs.Exists(name) {
			_ = fs.Replace(name, f)
		} else {
			_ = fs.Register(name, f)
		}
	}
	return fs
}

func errValue(format string, args ...any) *exec.Value {
	return exec.AsValue(fmt.Errorf(format, args...))
}

// goValue is the plain Go value of a template value (maps with string keys, int64 integers).
func goValue(v *exec.Value) any {
	if v == nil || v.IsNil() {
		return nil
	}
	return normalizeGo(v.ToGoSimpleType(false))
}

// normalizeGo makes template values uniform (int64 integers, string-keyed maps), as values are.
func normalizeGo(v any) any { return pack.Normalize(v) }

func strFilter(f func(any) (string, error)) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		s, err := f(goValue(in))
		if err != nil {
			return exec.AsValue(err)
		}
		return exec.AsValue(s)
	}
}

func stringFilter[T any](f func(string) T) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		return exec.AsValue(f(in.String()))
	}
}

func stringArgFilter[T any](f func(string, string) T) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		if len(p.Args) != 1 {
			return errValue("expects one argument")
		}
		return exec.AsValue(f(in.String(), p.Args[0].String()))
	}
}

func toYAML(v any) (string, error) {
	if v == nil {
		return "null", nil
	}
	out, err := pack.MarshalYAML(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

func toJSON(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func filterFromYAML(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	var v any
	if err := yaml.Unmarshal([]byte(in.String()), &v); err != nil {
		return errValue("fromyaml: %v", err)
	}
	return exec.AsValue(normalizeGo(yamlMaps(v)))
}

func yamlMaps(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = yamlMaps(x)
		}
	case []any:
		for i, x := range t {
			t[i] = yamlMaps(x)
		}
	}
	return v
}

func filterFromJSON(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	dec := json.NewDecoder(strings.NewReader(in.String()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return errValue("fromjson: %v", err)
	}
	return exec.AsValue(normalizeGo(v))
}

func filterB64Decode(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	b, err := base64.StdEncoding.DecodeString(in.String())
	if err != nil {
		return errValue("b64decode: %v", err)
	}
	return exec.AsValue(string(b))
}

func filterQuote(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	s := ""
	if !in.IsNil() {
		s = in.String()
	}
	return exec.AsValue(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`)
}

// filterIndent indents every line by n spaces (Helm's meaning); nindent adds a newline first.
func filterIndent(newline bool) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		n := 4
		if len(p.Args) > 0 {
			if !p.Args[0].IsInteger() {
				return errValue("indent width must be an integer")
			}
			n = p.Args[0].Integer()
		}
		pad := strings.Repeat(" ", n)
		s := pad + strings.ReplaceAll(in.String(), "\n", "\n"+pad)
		if newline {
			s = "\n" + s
		}
		return exec.AsValue(s)
	}
}

func filterRequired(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	msg := "a required value is missing"
	if len(p.Args) > 0 {
		msg = p.Args[0].String()
	}
	if in.IsError() || in.IsNil() || (in.IsString() && in.String() == "") {
		return exec.AsValue(&requiredError{msg: msg})
	}
	return in
}

type requiredError struct{ msg string }

func (e *requiredError) Error() string { return "required: " + e.msg }

func filterTrunc(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(p.Args) != 1 || !p.Args[0].IsInteger() {
		return errValue("trunc expects an integer length")
	}
	s, n := []rune(in.String()), p.Args[0].Integer()
	switch {
	case n >= 0 && len(s) > n:
		return exec.AsValue(string(s[:n]))
	case n < 0 && len(s) > -n:
		return exec.AsValue(string(s[len(s)+n:]))
	}
	return exec.AsValue(string(s))
}

// joinWords splits on case changes and separators, then joins: kebab, snake or camel case.
func joinWords(s, sep string, camel bool) string {
	var words []string
	var cur []rune
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			if len(cur) > 0 {
				words, cur = append(words, string(cur)), nil
			}
		case unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			words, cur = append(words, string(cur)), []rune{r}
		default:
			cur = append(cur, r)
		}
	}
	if len(cur) > 0 {
		words = append(words, string(cur))
	}
	for i, w := range words {
		w = strings.ToLower(w)
		if camel && i > 0 && w != "" {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		words[i] = w
	}
	return strings.Join(words, sep)
}

var regexCache sync.Map // pattern -> *regexp.Regexp

func compileRegex(p string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	regexCache.Store(p, re)
	return re, nil
}

func regexArgs(in *exec.Value, p *exec.VarArgs, n int, name string) (*regexp.Regexp, []string, *exec.Value) {
	if in.IsError() {
		return nil, nil, in
	}
	if len(p.Args) < n {
		return nil, nil, errValue("%s expects %d argument(s)", name, n)
	}
	re, err := compileRegex(p.Args[0].String())
	if err != nil {
		return nil, nil, errValue("%s: bad regular expression: %v", name, err)
	}
	var rest []string
	for _, a := range p.Args[1:] {
		rest = append(rest, a.String())
	}
	return re, rest, nil
}

func filterRegexMatch(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	re, _, errv := regexArgs(in, p, 1, "regex_match")
	if errv != nil {
		return errv
	}
	return exec.AsValue(re.MatchString(in.String()))
}

func filterRegexReplace(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	re, rest, errv := regexArgs(in, p, 2, "regex_replace")
	if errv != nil {
		return errv
	}
	return exec.AsValue(re.ReplaceAllString(in.String(), rest[0]))
}

func filterRegexFind(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	re, _, errv := regexArgs(in, p, 1, "regex_find")
	if errv != nil {
		return errv
	}
	return exec.AsValue(re.FindString(in.String()))
}

func filterRegexFindAll(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	re, _, errv := regexArgs(in, p, 1, "regex_find_all")
	if errv != nil {
		return errv
	}
	found := re.FindAllString(in.String(), -1)
	out := make([]any, len(found))
	for i, f := range found {
		out[i] = f
	}
	return exec.AsValue(out)
}

// filterSemverMatch: "1.29.3" | semver_match(">=1.28.0 <1.30.0"), Masterminds syntax (||, ranges, ~, ^).
func filterSemverMatch(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(p.Args) != 1 {
		return errValue("semver_match expects a constraint")
	}
	c, err := semver.NewConstraint(p.Args[0].String())
	if err != nil {
		return errValue("semver_match: constraint %q: %v", p.Args[0].String(), err)
	}
	raw := strings.SplitN(strings.TrimPrefix(in.String(), "v"), "+", 2)[0]
	v, err := semver.NewVersion(raw)
	if err != nil {
		return errValue("semver_match: %q is not a version", in.String())
	}
	if v.Prerelease() != "" {
		nv, _ := v.SetPrerelease("")
		v = &nv
	}
	return exec.AsValue(c.Check(v))
}

// filterMerge deep-merges maps; the argument wins (Sprig's mergeOverwrite).
func filterMerge(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	base, ok := goValue(in).(map[string]any)
	if !ok {
		return errValue("merge: the input is not a mapping")
	}
	layers := []pack.Layer{{Values: base}}
	for _, a := range p.Args {
		m, ok := goValue(a).(map[string]any)
		if !ok {
			return errValue("merge: arguments must be mappings")
		}
		layers = append(layers, pack.Layer{Values: m})
	}
	out, _ := pack.Merge(layers...)
	return exec.AsValue(out)
}
