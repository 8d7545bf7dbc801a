package render

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// FuzzRender: any template source with any values renders or fails with an error that names
// the template; nothing panics out of Render. The seed corpus (every conformance case, plus the
// inputs that used to crash) runs in `make test`; `make fuzz` runs the fuzzer itself.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`{{ "%s" % "x" }}`, `{{ x % values.zero }}`, `{{ 1 // 0 }}`, `{{ values.m | items }}`,
		`{% for k, v in values %}{{ k }}{% endfor %}`, `{{ range(10000000) | length }}`, `{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}`,
		`{{ tpl("{{ tpl('x') }}") }}`, `{{ values | toyaml | fromyaml | tojson }}`, `{%- if values.flag %}a: b{%- endif %}`,
		`{{ dict("a") }}`, `{{ [1,2][5] }}`, `{{ "abc"[::0] }}`, `{% set x = namespace() %}{{ x.y }}`,
		`{% from "_lib.j2" import r %}{{ r(1) }}`, `{% import "_lib.j2" as l %}{{ l.r(1) }}`,
	} {
		f.Add(s, `{"flag": true, "m": {"b": 1, "a": [1, "x", null]}, "zero": 0}`)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*.cases"))
	for _, file := range files {
		raw, _ := os.ReadFile(file)
		for _, b := range strings.Split(string(raw), "\n### ")[1:] {
			_, body, _ := strings.Cut(b, "\n")
			f.Add(body, `{"list": [1, 2], "name": "web"}`)
		}
	}
	f.Fuzz(func(t *testing.T, src, valuesJSON string) {
		var values map[string]any
		dec := json.NewDecoder(strings.NewReader(valuesJSON))
		dec.UseNumber()
		if dec.Decode(&values) != nil || values == nil {
			values = map[string]any{}
		}
		values = pack.Normalize(values).(map[string]any)
		pk, err := pack.FromFiles("fuzz", map[string][]byte{
			"Pack.yaml":         []byte("apiVersion: sherpack/v1\nmetadata: {name: fuzz, version: 1.0.0}\n"),
			"templates/t.yaml":  []byte(src),
			"templates/_lib.j2": []byte("{% macro m(a) %}[{{ a }}]{% endmacro %}{% macro r(a) %}{{ r(a) }}{% endmacro %}"),
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Render(pk, values, Options{})
		var re *Error
		if err != nil && errors.As(err, &re) && re.Template != "templates/t.yaml" && !strings.HasPrefix(re.Template, "fuzz/") {
			t.Fatalf("error names %q, not the template: %v", re.Template, err)
		}
		if err != nil && !strings.Contains(err.Error(), "t.yaml") && !strings.Contains(err.Error(), "_lib.j2") && !strings.Contains(err.Error(), "__tpl__") {
			t.Fatalf("error does not name the template: %v", err)
		}
	})
}
