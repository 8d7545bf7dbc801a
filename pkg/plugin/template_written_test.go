package plugin

import (
	"strings"
	"testing"
)

// The {%- if %} … {%- endif %} idiom renders valid YAML, and template prints each document as
// the template wrote it (key order and comments kept) under its # Source: line.
func TestTemplatePrintsDocumentsAsWritten(t *testing.T) {
	out, errOut, code := runCLI(t, "template", "r", "testdata/idiom-pack", "--kubeconfig", "/dev/null")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `---
# Source: idiom/templates/configmap.yaml
# The settings of r, kept as written.
apiVersion: v1
kind: ConfigMap
metadata:
  name: r-settings
  labels:
    app: r
    flagged: "true"
    tier: web
    zone: eu-1
    team: payments
data:
  # comments survive
  zeta: "1"
  alpha: "2"
---
# Source: idiom/templates/configmap.yaml
apiVersion: v1
kind: Service
metadata:
  name: r
spec:
  ports:
    - port: 80
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestTemplateShowOnlyTakesAPathOrAPart(t *testing.T) {
	for _, arg := range []string{"templates/deployment.yaml", "deploy", "webapp/templates/deployment.yaml"} {
		out, errOut, code := runCLI(t, "template", "shop", "../../examples/webapp", "--show-only", arg, "--kubeconfig", "/dev/null")
		if code != 0 || !strings.Contains(out, "kind: Deployment") || strings.Contains(out, "kind: ConfigMap") {
			t.Errorf("--show-only %s: exit %d\n%s%s", arg, code, out, errOut)
		}
	}
}

// An invalid rendered output is shown, numbered, where the parser stopped.
func TestTemplateInvalidYAMLShowsTheRenderedLines(t *testing.T) {
	_, errOut, code := runCLI(t, "template", "r", "testdata/badyaml-pack", "--kubeconfig", "/dev/null")
	if code != 3 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"templates/cm.yaml: the rendered output is not valid YAML", "at line 6 of the output", "> 6 |     a: bc: d", "  5 |   labels:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "--show-only") {
		t.Errorf("the error still sends the user to a command that fails the same way:\n%s", errOut)
	}
}

// A pack laid out and written as upstream Sherpack's are (charts/ with a file:// repository,
// engine and crds blocks, a remote dependency disabled by its condition and not vendored,
// get/haskey/keys/ternary/tostring/tojson_pretty) renders, lints clean, and says what to do
// when the missing dependency is switched on.
func TestUpstreamStylePack(t *testing.T) {
	out, errOut, code := runCLI(t, "template", "r", "testdata/upstream-style", "--kubeconfig", "/dev/null")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "template-upstream-style", out)
	lintOut, lintErr, code := runCLI(t, "lint", "testdata/upstream-style", "--strict", "--kubeconfig", "/dev/null")
	if code != 0 {
		t.Fatalf("lint --strict: exit %d\n%s%s", code, lintOut, lintErr)
	}
	_, errOut, code = runCLI(t, "template", "r", "testdata/upstream-style", "--set", "search.enabled=true", "--kubeconfig", "/dev/null")
	if code != 3 || !strings.Contains(errOut, "dependency search comes from repository https://packs.example.com and must be vendored: put the pack under charts/search/") {
		t.Fatalf("enabling the missing dependency: exit %d: %s", code, errOut)
	}
}
