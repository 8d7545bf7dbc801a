package render

import (
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// renderString renders one template with values and returns its output.
func renderString(t *testing.T, tpl string, values map[string]any, extra ...map[string]string) (string, error) {
	t.Helper()
	files := map[string][]byte{
		"Pack.yaml":            []byte("apiVersion: sherpack/v1\nmetadata: {name: demo, version: 1.0.0, appVersion: '2.0'}\n"),
		"templates/NOTES.txt":  []byte(tpl),
		"files/config.ini":     []byte("a=1\nb=2\n"),
		"files/other/x.json":   []byte(`{"k": 1}`),
		"templates/_macros.j2": []byte("{% macro hello(n) %}hello {{ n }} from {{ release.name }}{% endmacro %}"),
	}
	for _, e := range extra {
		for k, v := range e {
			files[k] = []byte(v)
		}
	}
	pk, err := pack.FromFiles("demo", files)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Render(pk, values, Options{Release: ReleaseInfo{Name: "rel", Namespace: "ns", Revision: 2, IsUpgrade: true}})
	if err != nil {
		return "", err
	}
	return res.Notes, nil
}

func TestFilters(t *testing.T) {
	t.Parallel()
	values := map[string]any{
		"m":     map[string]any{"b": int64(2), "a": "x"},
		"s":     "Hello World",
		"n":     int64(3),
		"empty": "",
		"list":  []any{int64(1), "two"},
		"ver":   "v1.29.3",
		"yaml":  "a: 1\nb: [x, y]\n",
		"json":  `{"k": [1, 2]}`,
	}
	cases := []struct{ tpl, want string }{
		{"{{ values.m | toyaml }}", "a: x\nb: 2"},
		{"{{ values.m | tojson }}", `{"a":"x","b":2}`},
		{"{{ (values.yaml | fromyaml).b[1] }}", "y"},
		{"{{ (values.json | fromjson).k[1] }}", "2"},
		{"{{ values.s | b64encode }}", "SGVsbG8gV29ybGQ="},
		{"{{ 'SGVsbG8gV29ybGQ=' | b64decode }}", "Hello World"},
		{"{{ 'abc' | sha256 }}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"{{ 'abc' | sha1 }}", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{`{{ 'say "hi"' | quote }}`, `"say \"hi\""`},
		{"{{ \"it's\" | squote }}", "'it''s'"},
		{"[{{ 'a\nb' | indent(2) }}]", "[  a\n  b]"},
		{"x:{{ 'a\nb' | nindent(2) }}", "x:\n  a\n  b"},
		{"{{ values.s | required('need s') }}", "Hello World"},
		{"{{ values.missing | default('d') }}", "d"},
		{"{{ values.empty | default('d', true) }}", "d"},
		{"{{ values.empty | default('d') }}", ""},
		{"{{ 'abcdef' | trunc(3) }}", "abc"},
		{"{{ 'abcdef' | trunc(-2) }}", "ef"},
		{"{{ 'release-name' | trimprefix('release-') }}", "name"},
		{"{{ 'file.yaml' | trimsuffix('.yaml') }}", "file"},
		{"{{ 'HelloWorld app_name' | kebabcase }}", "hello-world-app-name"},
		{"{{ 'HelloWorld app-name' | snakecase }}", "hello_world_app_name"},
		{"{{ 'hello_world-app name' | camelcase }}", "helloWorldAppName"},
		{"{{ 'abc123' | regex_match('^[a-z]+[0-9]+$') }}", "True"},
		{"{{ 'a1b22' | regex_replace('[0-9]+', '#') }}", "a#b#"},
		{"{{ 'a1b22' | regex_find('[0-9]+') }}", "1"},
		{"{{ 'a1b22' | regex_find_all('[0-9]+') | join(',') }}", "1,22"},
		{"{{ values.ver | semver_match('>=1.28.0 <1.30.0') }}", "True"},
		{"{{ values.ver | semver_match('>=1.30.0') }}", "False"},
		{"{{ (values.m | merge({'a': 'y', 'c': 1})) | tojson }}", `{"a":"y","b":2,"c":1}`},
		{"{{ dig(values, 'm', 'b', 'none') }}", "2"},
		{"{{ dig(values, 'm', 'zz', 'none') }}", "none"},
		{"{{ dig(values, 'list', 1, 'none') }}", "two"},
		{"{{ lookup('v1', 'Secret', 'ns', 'x') | tojson }}", "{}"},
		{"{{ tpl('{{ release.name }}-{{ values.n }}') }}", "rel-3"},
		{"{{ uuidv4() | length }}", "36"},
		{"{{ values.list | length }}", "2"},
		{"{{ release.name }} {{ release.namespace }} {{ release.revision }} {{ release.isUpgrade }} {{ release.service }}", "rel ns 2 True Sherpack"},
		{"{{ pack.name }} {{ pack.version }} {{ pack.appVersion }}", "demo 1.0.0 2.0"},
		{"{{ capabilities.kubeVersion.major }}.{{ capabilities.kubeVersion.minor }} {{ 'apps/v1' in capabilities.apiVersions }}", "1.37 True"},
		{"{{ files.get('files/config.ini') | trim }}", "a=1\nb=2"},
		{"{{ files.lines('files/config.ini') | length }}", "2"},
		{"{{ files.glob('files/*/*.json') | map(attribute='name') | join(',') }}", "x.json"},
		{"{{ files.exists('files/nope') }}", "False"},
		{"{{ template.name }}", "demo/templates/NOTES.txt"},
		{"{% from '_macros.j2' import hello %}{{ hello('you') }}", "hello you from rel"},
		{"{{ values.n * 2 }}", "6"},
	}
	for _, c := range cases {
		got, err := renderString(t, c.tpl, values)
		if err != nil {
			t.Errorf("%s: %v", c.tpl, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.tpl, got, c.want)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	t.Parallel()
	values := map[string]any{"image": map[string]any{"tag": "3.1", "repository": "r"}, "replicas": int64(2)}
	cases := []struct{ tpl, want string }{
		{"line1\nline2\ntag: {{ values.imagee.tag }}\n", `templates/NOTES.txt:3: values.imagee.tag is undefined: no key "imagee" in values. Did you mean "image"? (values.image.tag = "3.1")`},
		{"{{ values.image.tga }}", `no key "tga" in values.image. Did you mean "tag"?`},
		{"{{ values.zzzzzz }}", "Keys there: image, replicas"},
		{"{{ value.replicas }}", `Did you mean "values"?`},
		{"a\n{% if %}\n", "templates/NOTES.txt:2: syntax error"},
		{"{{ fail('replicas must be odd') }}", "fail: replicas must be odd"},
		{"{{ values.nope | required('set nope with --set nope=...') }}", "required: set nope with --set nope=..."},
		{"{{ files.get('../../etc/passwd') }}", "only files inside the pack"},
		{"{{ values.replicas | nosuchfilter }}", "nosuchfilter"},
	}
	for _, c := range cases {
		_, err := renderString(t, c.tpl, values)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant it to contain %q", c.tpl, err, c.want)
		}
	}
}

func TestRenderSplitsObjectsHooksAndDropsEmpty(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{
		"Pack.yaml": []byte("apiVersion: sherpack/v1\nmetadata: {name: demo, version: 1.0.0}\n"),
		"templates/cm.yaml.j2": []byte(`{% for i in range(2) %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ i }}
{% endfor %}`),
		"templates/hook.yaml":  []byte("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: h\n  annotations:\n    sherpack.io/hook: pre-install,pre-upgrade\nspec: {}\n"),
		"templates/off.yaml":   []byte("{% if false %}apiVersion: v1{% endif %}\n# only a comment\n"),
		"templates/_part.yaml": []byte("this is not YAML: [ and never rendered"),
		"templates/README.md":  []byte("not a manifest {{ undefined_thing }}"),
	}
	pk, err := pack.FromFiles("demo", files)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Render(pk, map[string]any{}, Options{Release: ReleaseInfo{Name: "r", Namespace: "n"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 2 || res.Objects[1].GetName() != "cm-1" || res.Objects[0].Source != "demo/templates/cm.yaml" {
		t.Fatalf("objects: %d %v", len(res.Objects), res.Objects)
	}
	if len(res.Hooks) != 1 || res.Hooks[0].GetName() != "h" {
		t.Fatalf("hooks: %v", res.Hooks)
	}
	for _, tpl := range res.Templates {
		if strings.Contains(tpl.Name, "off.yaml") {
			t.Fatal("a template with only comments was kept")
		}
	}
}

func TestInvalidObjectNamesTemplate(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		"kind: ConfigMap\nmetadata: {name: x}\n":      "demo/templates/bad.yaml:1: ConfigMap object has no apiVersion",
		"apiVersion: v1\nkind: ConfigMap\n":           "has no metadata.name",
		"apiVersion: v1\nkind: ConfigMap\n  bad: [\n": "invalid YAML",
	} {
		pk, _ := pack.FromFiles("demo", map[string][]byte{
			"Pack.yaml":          []byte("apiVersion: sherpack/v1\nmetadata: {name: demo, version: 1.0.0}\n"),
			"templates/bad.yaml": []byte(body),
		})
		_, err := Render(pk, map[string]any{}, Options{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

func TestSubpacksAndLibrary(t *testing.T) {
	t.Parallel()
	pk, err := pack.Load("../../examples/platform")
	if err != nil {
		t.Fatal(err)
	}
	off, _ := pack.ParseSet("cache.enabled=false", true)
	for _, c := range []struct {
		layers []pack.Layer
		want   int
	}{{nil, 3}, {[]pack.Layer{{Values: off}}, 1}} {
		res, err := pk.ResolveValues(c.layers)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Render(pk, res.Values, Options{Release: ReleaseInfo{Name: "p", Namespace: "n"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Objects) != c.want {
			t.Fatalf("%d objects, want %d", len(out.Objects), c.want)
		}
		api := out.Objects[len(out.Objects)-1]
		if api.GetLabels()["team"] != "payments" || api.GetLabels()["app.kubernetes.io/part-of"] != "platform" {
			t.Fatalf("library macro labels missing: %v", api.GetLabels())
		}
		if c.want == 3 && out.Objects[0].Source != "platform/packs/cache/templates/service.yaml" {
			t.Fatalf("subpack source %s", out.Objects[0].Source)
		}
	}
}
