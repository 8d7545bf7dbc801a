package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

const packYAML = "apiVersion: sherpack/v1\nmetadata: {name: p, version: 1.0.0}\n"

func writePack(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["Pack.yaml"]; !ok {
		files["Pack.yaml"] = packYAML
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func cm(name string, extra string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n" + extra
}

// Each class of problem lint must catch, with the file:line it must name.
func TestLintCatchesEachClass(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		files    map[string]string
		severity string
		check    string
		file     string
		line     int
		msg      string
	}{
		{"no apiVersion", map[string]string{"templates/a.yaml": "kind: ConfigMap\nmetadata: {name: a}\n"}, Error, "render", "templates/a.yaml", 1, "has no apiVersion"},
		{"no kind", map[string]string{"templates/a.yaml": "apiVersion: v1\nmetadata: {name: a}\n"}, Error, "render", "templates/a.yaml", 1, "kind"},
		{"no name", map[string]string{"templates/a.yaml": "# x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"}, Error, "render", "templates/a.yaml", 3, "metadata.name"},
		{"duplicate", map[string]string{"templates/a.yaml": cm("x", ""), "templates/b.yaml": "# b\n" + cm("x", "")}, Error, "duplicate", "templates/b.yaml", 2, "also at"},
		{"hook phase", map[string]string{"templates/a.yaml": cm("x", "  annotations: {sherpack.io/hook: pre-instal}\n")}, Error, "annotations", "templates/a.yaml", 1, "sherpack.io/hook"},
		{"hook weight", map[string]string{"templates/a.yaml": cm("x", "  annotations: {sherpack.io/hook: pre-install, sherpack.io/hook-weight: heavy}\n")}, Error, "annotations", "templates/a.yaml", 1, "hook-weight"},
		{"delete policy", map[string]string{"templates/a.yaml": cm("x", "  annotations: {sherpack.io/hook: pre-install, sherpack.io/hook-delete-policy: sometimes}\n")}, Error, "annotations", "templates/a.yaml", 1, "hook-delete-policy"},
		{"sync wave", map[string]string{"templates/a.yaml": cm("x", "  annotations: {sherpack.io/sync-wave: first}\n")}, Error, "annotations", "templates/a.yaml", 1, "sync-wave"},
		{"health check", map[string]string{"templates/a.yaml": cm("x", "  annotations: {sherpack.io/health-check: 'true', sherpack.io/health-check-type: ping}\n")}, Error, "annotations", "templates/a.yaml", 1, "health-check-type"},
		{"unknown annotation", map[string]string{"templates/a.yaml": cm("x", "  annotations: {sherpack.io/sync-wav: '1'}\n")}, Warning, "annotations", "templates/a.yaml", 1, "did you mean sherpack.io/sync-wave"},
		{"unknown kind", map[string]string{"templates/a.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"}, Error, "unknown-kind", "templates/a.yaml", 1, "kind Widget of example.com/v1 is not served"},
		{"typo kind", map[string]string{"templates/a.yaml": "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: w}\n"}, Error, "unknown-kind", "templates/a.yaml", 1, "Deploymnet"},
		{"namespace mismatch", map[string]string{"templates/a.yaml": cm("x", "  namespace: other\n")}, Warning, "namespace", "templates/a.yaml", 1, `release namespace is "prod"`},
		{"namespace on cluster-scoped", map[string]string{"templates/a.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: prod}\n"}, Warning, "namespace", "templates/a.yaml", 1, "cluster-scoped"},
		{"undefined value", map[string]string{"templates/a.yaml": cm("x", "data:\n  a: {{ values.nme }}\n"), "values.yaml": "name: x\n"}, Error, "render", "templates/a.yaml", 6, `Did you mean "name"?`},
		{"invalid yaml", map[string]string{"templates/a.yaml": cm("x", "  labels:\n    a: b\n    {%- if true -%}\n    c: d\n    {%- endif %}\n")}, Error, "render", "templates/a.yaml", 0, "not valid YAML"},
		{"schema", map[string]string{"templates/a.yaml": cm("x", ""), "values.yaml": "replicas: 0\n", "values.schema.yaml": "properties:\n  replicas: {type: integer, min: 1}\n"}, Error, "values-schema", "values.schema.yaml", 0, "replicas"},
		{"unknown Pack.yaml key", map[string]string{"Pack.yaml": packYAML + "engin: {strict: true}\n", "templates/a.yaml": cm("x", "")}, Warning, "pack-yaml", "Pack.yaml", 3, `did you mean "engine"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := writePack(t, c.files)
			rep := Run(dir, Options{Namespace: "prod"})
			for _, f := range rep.Findings {
				if f.Severity == c.severity && f.Check == c.check && strings.HasSuffix(f.File, c.file) && (c.line == 0 || f.Line == c.line) && strings.Contains(f.Message, c.msg) {
					return
				}
			}
			t.Fatalf("no %s %s finding at %s:%d saying %q; got:\n%s", c.severity, c.check, c.file, c.line, c.msg, dump(rep))
		})
	}
}

func dump(r *Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

func TestLintCleanPackAndCRDsOfThePack(t *testing.T) {
	t.Parallel()
	dir := writePack(t, map[string]string{
		"crds/widget.yaml":      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n",
		"templates/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
		"templates/cm.yaml":     cm("{{ release.name }}-x", "  namespace: {{ release.namespace }}\n"),
		"templates/NOTES.txt":   "installed {{ release.name }}",
		"templates/_helpers.j2": "{% macro x() %}{% endmacro %}",
		"templates/list.yaml":   "{% for i in range(3) %}\n---\n" + cm("c{{ i }}", "") + "{% endfor %}\n",
	})
	rep := Run(dir, Options{Namespace: "prod"})
	if len(rep.Findings) != 0 {
		t.Fatalf("a clean pack has findings:\n%s", dump(rep))
	}
}

// Both renders run: a problem only the given values trigger is found, and so is one only the
// defaults trigger.
func TestLintRendersWithDefaultsAndGivenValues(t *testing.T) {
	t.Parallel()
	dir := writePack(t, map[string]string{
		"values.yaml":      "extra: false\nname: a\n",
		"templates/a.yaml": cm("{{ values.name }}", "") + "{% if values.extra %}\n---\n" + cm("a", "") + "{% endif %}\n",
	})
	set, _ := pack.ParseSet("extra=true", true)
	rep := Run(dir, Options{User: []pack.Layer{{Values: set}}})
	if rep.Errors() != 1 || rep.Findings[0].Check != "duplicate" || rep.Findings[0].Values != "given" {
		t.Fatalf("want one duplicate with the given values:\n%s", dump(rep))
	}
	if rep := Run(dir, Options{}); len(rep.Findings) != 0 {
		t.Fatalf("defaults only: %s", dump(rep))
	}
}
