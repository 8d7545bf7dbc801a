package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lintPack(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["Pack.yaml"] = "apiVersion: sherpack/v1\nmetadata: {name: p, version: 1.0.0}\n" + files["Pack.yaml"]
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Exit 0 clean, 1 with errors; warnings only: 0, or 1 with --strict; -o json is machine-readable.
func TestLintExitCodes(t *testing.T) {
	clean := lintPack(t, map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
	warn := lintPack(t, map[string]string{"Pack.yaml": "enigne: {}\n", "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
	bad := lintPack(t, map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
	cases := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{clean}, 0, ""},
		{[]string{warn}, 0, "Pack.yaml:3: warning: unknown key \"enigne\""},
		{[]string{warn, "--strict"}, 1, "Pack.yaml:3: error: unknown key"},
		{[]string{bad}, 1, "templates/cm.yaml:5: error: ConfigMap/default/a: defined twice: also at"},
		{[]string{bad, "--set", "x=1", "-n", "prod"}, 1, "ConfigMap/prod/a: defined twice"},
		{[]string{"../../examples/webapp"}, 0, ""},
		{[]string{clean, "-o", "yaml"}, 3, ""},
		{[]string{filepath.Join(clean, "nope")}, 1, "no such file"},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, append(append([]string{"lint"}, c.args...), "--kubeconfig", "/dev/null")...)
		if code != c.code || !strings.Contains(out+errOut, c.out) {
			t.Errorf("lint %v: exit %d, want %d with %q\n%s%s", c.args, code, c.code, c.out, out, errOut)
		}
	}
	for _, ex := range []string{"webapp", "platform", "crd-app"} {
		if out, errOut, code := runCLI(t, "lint", "../../examples/"+ex, "--strict", "--kubeconfig", "/dev/null"); code != 0 {
			t.Errorf("examples/%s does not lint clean under --strict: exit %d\n%s%s", ex, code, out, errOut)
		}
	}
	// template warns about unknown Pack.yaml keys too, and still renders.
	if out, errOut, code := runCLI(t, "template", "r", warn, "--kubeconfig", "/dev/null"); code != 0 || !strings.Contains(errOut, `warning: `) || !strings.Contains(errOut, `Pack.yaml:3: unknown key "enigne" (did you mean "engine"?)`) || !strings.Contains(out, "kind: ConfigMap") {
		t.Errorf("template with an unknown Pack.yaml key: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code := runCLI(t, "lint", bad, "-o", "json", "--kubeconfig", "/dev/null")
	var rep struct {
		Findings []struct {
			Severity, File, Check string
			Line                  int
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Check != "duplicate" || rep.Findings[0].Line != 5 {
		t.Fatalf("-o json: exit %d, %v\n%s", code, err, out)
	}
}
