package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// The same pack and values render the same bytes 100 times out of 100: every map iterates in
// sorted key order (items, for k, v in, .items(), keys, values, tojson, toyaml).
func TestRenderIsDeterministic(t *testing.T) {
	t.Parallel()
	m := map[string]any{}
	for i := range 40 {
		m[fmt.Sprintf("key-%02d-%c", (i*7)%40, 'a'+i%26)] = map[string]any{"n": int64(i), "s": fmt.Sprint(i), "inner": map[string]any{"z": int64(1), "a": int64(2), "m": int64(3)}}
	}
	pk := mustPack(t, map[string]string{"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data:
  {%- for k, v in values.m | items %}
  {{ k }}-items: "{{ v.n }}"
  {%- endfor %}
  {%- for k, v in values.m.items() %}
  {{ k }}-method: "{{ v.inner | tojson | replace('"', '') }}"
  {%- endfor %}
  {%- for k in values.m %}
  {{ k }}-loop: "{{ values.m[k].inner.items() | list | length }}"
  {%- endfor %}
  keys: "{{ values.m | keys | join(',') }}"
  values: "{{ values.m | values | map(attribute='n') | join(',') }}"
  json: {{ values.m | tojson | tojson }}
  yaml: {{ values.m | toyaml | tojson }}
  sorted: "{{ values.m | dictsort | map('first') | join(',') }}"
`})
	values := map[string]any{"m": m}
	first, err := Render(pk, values, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Objects) != 1 || len(first.Templates[0].Output) < 1000 {
		t.Fatalf("unexpected render: %+v", first.Templates)
	}
	for i := range 99 {
		again, err := Render(pk, values, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if again.Templates[0].Output != first.Templates[0].Output {
			t.Fatalf("render %d differs from the first", i+2)
		}
	}
}

// engine.strict: false renders undefined values as empty (none still prints None, as in Jinja2); strict (the default) fails on printing
// one, naming file:line and the closest key, and never on a condition.
func TestStrictAndLenientUndefined(t *testing.T) {
	t.Parallel()
	tpl := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: \"{{ values.missing }}\"\n  b: \"{% for i in values.missing %}{{ i }}{% endfor %}\"\n  c: \"{{ values.missing | default('d') }}\"\n  e: \"{% if values.missing.deeper %}yes{% else %}no{% endif %}\"\n  f: \"{{ nothing }}{{ values.missing }}|{{ values.none }}\"\n"
	lenient := mustPack(t, map[string]string{"templates/cm.yaml": tpl})
	lenient.Engine = &pack.Engine{Strict: new(bool)}
	res, err := Render(lenient, map[string]any{"present": int64(1), "none": nil}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Objects[0].Object["data"]; fmt.Sprint(got) != "map[a: b: c:d e:no f:|None]" {
		t.Fatalf("lenient: %v", got)
	}
	strict := mustPack(t, map[string]string{"templates/cm.yaml": strings.Replace(tpl, "values.missing }}", "values.presnt }}", 1)})
	_, err = Render(strict, map[string]any{"present": int64(1)}, Options{})
	if err == nil || !strings.Contains(err.Error(), `templates/cm.yaml:5: values.presnt is undefined: no key "presnt" in values. Did you mean "present"?`) {
		t.Fatalf("strict: %v", err)
	}
	cond := mustPack(t, map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  {%- if values.missing %}\n  a: b\n  {%- endif %}\n  {%- if values.missing.deeper is defined or not values.other %}\n  c: d\n  {%- endif %}\n"})
	res, err = Render(cond, map[string]any{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Objects[0].Object["data"]); got != "map[c:d]" {
		t.Fatalf("conditions on undefined values: %v", got)
	}
}
