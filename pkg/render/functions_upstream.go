package render

import (
	"crypto/rand"
	"math/big"
	"strconv"
	"strings"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
)

// upstreamFunctions are the global functions upstream's engine registers besides Jinja2's.
func (r *renderer) upstreamFunctions() map[string]any {
	return map[string]any{
		"list": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value { return exec.AsValue(argValues(p)) },
		"dict": fnDict,
		"get": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			if len(p.Args) < 2 {
				return errValue("get expects a mapping, a key and an optional default")
			}
			m, _ := goValue(p.Args[0]).(map[string]any)
			if v, ok := m[p.Args[1].String()]; ok {
				return exec.AsValue(v)
			}
			if len(p.Args) > 2 {
				return p.Args[2]
			}
			return exec.AsValue("")
		},
		"set": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			if len(p.Args) != 3 {
				return errValue("set expects a mapping, a key and a value")
			}
			out := copyMap(goValue(p.Args[0]))
			out[p.Args[1].String()] = goValue(p.Args[2])
			return exec.AsValue(out)
		},
		"unset": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			if len(p.Args) != 2 {
				return errValue("unset expects a mapping and a key")
			}
			out := copyMap(goValue(p.Args[0]))
			delete(out, p.Args[1].String())
			return exec.AsValue(out)
		},
		// coalesce takes undefined arguments (values.missing is skipped like none).
		"coalesce": exec.UndefinedArgs(func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			for _, a := range p.Args {
				if !a.IsError() && !a.IsNil() && !(a.IsString() && a.String() == "") {
					return a
				}
			}
			return exec.AsValue(nil)
		}),
		"ternary": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			if len(p.Args) != 3 {
				return errValue("ternary expects a value if true, a value if false and a condition")
			}
			if p.Args[2].IsTrue() {
				return p.Args[0]
			}
			return p.Args[1]
		},
		"tostring": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			v := p.First()
			if v == nil || v.IsNil() {
				return exec.AsValue("")
			}
			return exec.AsValue(v.String())
		},
		"toint": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			v := p.First()
			switch t := goValue(v).(type) {
			case int64:
				return exec.AsValue(t)
			case float64:
				if t != float64(int64(t)) {
					return errValue("toint(%v): not a whole number", t)
				}
				return exec.AsValue(int64(t))
			case bool:
				if t {
					return exec.AsValue(int64(1))
				}
				return exec.AsValue(int64(0))
			case string:
				n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
				if err != nil {
					return errValue("toint(%q): not an integer", t)
				}
				return exec.AsValue(n)
			}
			return errValue("toint: cannot convert %s", describe(v))
		},
		"tofloat": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			v := p.First()
			switch t := goValue(v).(type) {
			case int64:
				return exec.AsValue(float64(t))
			case float64:
				return exec.AsValue(t)
			case string:
				f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
				if err != nil {
					return errValue("tofloat(%q): not a number", t)
				}
				return exec.AsValue(f)
			}
			return errValue("tofloat: cannot convert %s", describe(v))
		},
		"printf":          fnPrintf,
		"range":           fnRange,
		"generate_secret": r.generateSecret,
	}
}

func copyMap(v any) map[string]any {
	out := map[string]any{}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			out[k] = x
		}
	}
	return out
}

// fnDict: dict("a", 1, "b", 2) (upstream's positional pairs) and dict(a=1) (Jinja2's keywords).
func fnDict(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
	if len(p.Args)%2 != 0 {
		return errValue("dict expects key, value pairs; got %d arguments", len(p.Args))
	}
	out := map[string]any{}
	for i := 0; i < len(p.Args); i += 2 {
		if !p.Args[i].IsString() {
			return errValue("dict: key %d is %s; keys must be strings", i/2+1, describe(p.Args[i]))
		}
		out[p.Args[i].String()] = goValue(p.Args[i+1])
	}
	for k, v := range p.KwArgs {
		out[k] = goValue(v)
	}
	return exec.AsValue(out)
}

// fnPrintf is upstream's printf: %s %d %f %v and %%, no width or precision.
func fnPrintf(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
	if len(p.Args) < 1 {
		return errValue("printf expects a format")
	}
	format, args := p.Args[0].String(), p.Args[1:]
	var b strings.Builder
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		verb := format[i]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if n >= len(args) {
			return errValue("printf %q: missing an argument for %%%c", format, verb)
		}
		a := args[n]
		n++
		switch verb {
		case 's', 'v':
			b.WriteString(a.String())
		case 'd':
			if !a.IsNumber() {
				return errValue("printf %q: %%d wants a number, got %s", format, describe(a))
			}
			b.WriteString(strconv.Itoa(a.Integer()))
		case 'f':
			if !a.IsNumber() {
				return errValue("printf %q: %%f wants a number, got %s", format, describe(a))
			}
			b.WriteString(strconv.FormatFloat(a.Float(), 'f', 6, 64))
		default:
			return errValue("printf %q: %%%c is not supported (only %%s %%d %%f %%v %%%%)", format, verb)
		}
	}
	return exec.AsValue(b.String())
}

var secretCharsets = map[string]string{
	"alphanumeric": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	"alpha":        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	"numeric":      "0123456789",
	"hex":          "0123456789abcdef",
	"base64":       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	"urlsafe":      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
}

var charsetAliases = map[string]string{"alnum": "alphanumeric", "num": "numeric", "digits": "numeric", "url": "urlsafe"}

// generateSecret is generate_secret(name, length=32, charset="alphanumeric"): a random value,
// the same for every call with that name in a release. The value an earlier revision generated
// (ReleaseInfo.Secrets) is kept, so an upgrade does not rotate it; Result.Secrets records them all.
func (r *renderer) generateSecret(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
	if len(p.Args) < 1 || !p.Args[0].IsString() || p.Args[0].String() == "" {
		return errValue("generate_secret expects a name, then an optional length (1 to 4096) and charset")
	}
	name := p.Args[0].String()
	length, charset := 32, "alphanumeric"
	if len(p.Args) > 1 {
		length = p.Args[1].Integer()
	}
	if len(p.Args) > 2 {
		charset = p.Args[2].String()
	}
	if v, ok := p.KwArgs["length"]; ok {
		length = v.Integer()
	}
	if v, ok := p.KwArgs["charset"]; ok {
		charset = v.String()
	}
	if a, ok := charsetAliases[charset]; ok {
		charset = a
	}
	chars, ok := secretCharsets[charset]
	if !ok {
		return errValue("generate_secret(%q): charset %q: use alphanumeric, alpha, numeric, hex, base64 or urlsafe", name, charset)
	}
	if length < 1 || length > 4096 {
		return errValue("generate_secret(%q): length %d: must be 1 to 4096", name, length)
	}
	r.secretsMu.Lock()
	defer r.secretsMu.Unlock()
	if v, ok := r.secrets[name]; ok {
		return exec.AsValue(v)
	}
	if v, ok := r.opts.Release.Secrets[name]; ok {
		r.secrets[name] = v
		return exec.AsValue(v)
	}
	var b strings.Builder
	limit := big.NewInt(int64(len(chars)))
	for range length {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return errValue("generate_secret(%q): %v", name, err)
		}
		b.WriteByte(chars[n.Int64()])
	}
	r.secrets[name] = b.String()
	return exec.AsValue(b.String())
}

// fnRange is Python's range(stop) / range(start, stop[, step]) as a list (gonja's is a channel,
// which has no length and prints as one), bounded so that a template cannot exhaust memory.
func fnRange(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
	var a [3]int
	for i, v := range p.Args {
		if i > 2 || !v.IsInteger() {
			return errValue("range expects one to three integers")
		}
		a[i] = v.Integer()
	}
	start, stop, step := 0, a[0], 1
	switch len(p.Args) {
	case 0:
		return errValue("range expects one to three integers")
	case 2:
		start, stop = a[0], a[1]
	case 3:
		start, stop, step = a[0], a[1], a[2]
	}
	if step == 0 {
		return errValue("range: the step must not be zero")
	}
	out := []any{}
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		if len(out) >= maxRange {
			return errValue("range: more than %d items", maxRange)
		}
		out = append(out, int64(i))
	}
	return exec.AsValue(out)
}

const maxRange = 100000
