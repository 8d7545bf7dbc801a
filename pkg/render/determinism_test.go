package render

import (
	"fmt"
	"testing"
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
