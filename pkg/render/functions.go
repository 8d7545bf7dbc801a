package render

import (
	"crypto/rand"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/loaders"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// maxTplDepth bounds tpl() calling tpl().
const maxTplDepth = 10

// functions are the globals a template can call besides Jinja2's builtins.
func (r *renderer) functions(env *exec.Environment, loader *packLoader, data map[string]any) map[string]any {
	depth := 0
	tplFn := func(e *exec.Evaluator, p *exec.VarArgs) *exec.Value {
		if len(p.Args) < 1 {
			return errValue("tpl expects a template string")
		}
		src := p.Args[0].String()
		if !strings.Contains(src, "{{") && !strings.Contains(src, "{%") {
			return exec.AsValue(src)
		}
		if depth >= maxTplDepth {
			return errValue("tpl nested deeper than %d levels (rendering %q)", maxTplDepth, truncate(src, 60))
		}
		local := map[string]any{}
		for k, v := range data {
			local[k] = v
		}
		if len(p.Args) > 1 {
			if extra, ok := goValue(p.Args[1]).(map[string]any); ok {
				for k, v := range extra {
					local[k] = v
				}
			}
		}
		depth++
		defer func() { depth-- }()
		ol := &overlayLoader{packLoader: loader, key: "/__tpl__", src: src}
		t, err := exec.NewTemplate("/__tpl__", r.config(), ol, env)
		if err != nil {
			return errValue("tpl: %v", err)
		}
		out, err := t.ExecuteToString(exec.NewContext(local))
		if err != nil {
			return errValue("tpl %q: %v", truncate(src, 60), err)
		}
		return exec.AsValue(out)
	}
	fns := r.upstreamFunctions()
	fns["tpl_ctx"] = func(e *exec.Evaluator, p *exec.VarArgs) *exec.Value {
		if len(p.Args) != 1 {
			return errValue("tpl_ctx expects a template string (the whole context is passed)")
		}
		return tplFn(e, p)
	}
	for k, v := range map[string]any{
		"fail": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			return exec.AsValue(&failError{msg: p.First().String()})
		},
		"dig":    digFn,
		"lookup": r.lookupFn,
		"tpl":    tplFn,
		"uuidv4": func(_ *exec.Evaluator, _ *exec.VarArgs) *exec.Value { return exec.AsValue(uuidv4()) },
		"now": func(_ *exec.Evaluator, _ *exec.VarArgs) *exec.Value {
			return exec.AsValue(time.Now().UTC().Format(time.RFC3339))
		},
		"toyaml": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			s, err := toYAML(goValue(p.First()))
			if err != nil {
				return exec.AsValue(err)
			}
			return exec.AsValue(s)
		},
		"fromyaml": func(e *exec.Evaluator, p *exec.VarArgs) *exec.Value { return filterFromYAML(e, p.First(), nil) },
		"fromjson": func(e *exec.Evaluator, p *exec.VarArgs) *exec.Value { return filterFromJSON(e, p.First(), nil) },
	} {
		fns[k] = v
	}
	return fns
}

type failError struct{ msg string }

func (e *failError) Error() string { return "fail: " + e.msg }

type overlayLoader struct {
	*packLoader
	key, src string
}

func (o *overlayLoader) Read(p string) (io.Reader, error) {
	if p == o.key {
		return strings.NewReader(o.src), nil
	}
	return o.packLoader.Read(p)
}

func (o *overlayLoader) Resolve(p string) (string, error) {
	if p == o.key {
		return p, nil
	}
	return o.packLoader.Resolve(p)
}

func (o *overlayLoader) Inherit(from string) (loaders.Loader, error) {
	if from == o.key {
		return o, nil
	}
	return o.packLoader.Inherit(from)
}

// digFn: dig(map, "a", "b", default) walks keys (integers index lists); the last argument is
// the default when the path is missing.
func digFn(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
	if len(p.Args) < 3 {
		return errValue("dig expects a mapping, at least one key, and a default")
	}
	cur := goValue(p.Args[0])
	def := p.Args[len(p.Args)-1]
	for _, k := range p.Args[1 : len(p.Args)-1] {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[k.String()]
			if !ok || v == nil {
				return def
			}
			cur = v
		case []any:
			if !k.IsInteger() || k.Integer() < 0 || k.Integer() >= len(c) {
				return def
			}
			cur = c[k.Integer()]
		default:
			return def
		}
	}
	return exec.AsValue(cur)
}

// lookupFn: lookup(apiVersion, kind, namespace, name) reads a live object ({} when there is no
// cluster or no such object); an empty name lists: {items: [...]}.
func (r *renderer) lookupFn(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
	if len(p.Args) != 4 {
		return errValue("lookup expects apiVersion, kind, namespace, name")
	}
	if r.opts.Lookup == nil {
		if p.Args[3].String() == "" {
			return exec.AsValue(map[string]any{"items": []any{}})
		}
		return exec.AsValue(map[string]any{})
	}
	obj, err := r.opts.Lookup(p.Args[0].String(), p.Args[1].String(), p.Args[2].String(), p.Args[3].String())
	if err != nil {
		return errValue("lookup %s %s %s/%s: %v", p.Args[0].String(), p.Args[1].String(), p.Args[2].String(), p.Args[3].String(), err)
	}
	if obj == nil {
		obj = map[string]any{}
	}
	return exec.AsValue(normalizeGo(obj))
}

func uuidv4() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// filesObject is `files`: read the pack's own files (never outside it).
func filesObject(pk *pack.Pack) map[string]any {
	clean := func(p string) (string, bool) {
		c := path.Clean(strings.TrimPrefix(p, "./"))
		if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
			return "", false
		}
		return c, true
	}
	get := func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
		name, ok := clean(p.First().String())
		if !ok {
			return errValue("files.get(%q): only files inside the pack can be read", p.First().String())
		}
		data, found := pk.Files[name]
		if !found {
			return errValue("files.get(%q): no such file in pack %s", name, pk.Metadata.Name)
		}
		return exec.AsValue(string(data))
	}
	return map[string]any{
		"get": get,
		"exists": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			name, ok := clean(p.First().String())
			_, found := pk.Files[name]
			return exec.AsValue(ok && found)
		},
		"get_bytes": func(e *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			v := get(e, p)
			if v.IsError() {
				return v
			}
			b := []byte(v.String())
			out := make([]any, len(b))
			for i, c := range b {
				out[i] = int64(c)
			}
			return exec.AsValue(out)
		},
		"lines": func(e *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			v := get(e, p)
			if v.IsError() {
				return v
			}
			var out []any
			for _, l := range strings.Split(strings.TrimSuffix(v.String(), "\n"), "\n") {
				out = append(out, l)
			}
			return exec.AsValue(out)
		},
		"glob": func(_ *exec.Evaluator, p *exec.VarArgs) *exec.Value {
			pattern := p.First().String()
			var names []string
			for name := range pk.Files {
				if ok, _ := path.Match(pattern, name); ok {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			out := make([]any, 0, len(names))
			for _, n := range names {
				out = append(out, map[string]any{"path": n, "name": path.Base(n), "content": string(pk.Files[n]), "size": int64(len(pk.Files[n]))})
			}
			return exec.AsValue(out)
		},
	}
}
