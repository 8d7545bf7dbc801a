package plugin

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// runCLI runs the root command as a user would, and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}
	cmd := NewRootCommand(streams)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		errb.WriteString("Error: " + ErrorMessage(err) + "\n")
	}
	return out.String(), errb.String(), ExitCode(err)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/plugin -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Fatalf("output differs from %s (run with -update if the change is intended):\n--- got\n%s", p, got)
	}
}

func TestTemplateGolden(t *testing.T) {
	cases := map[string][]string{
		"template-webapp":           {"template", "shop", "../../examples/webapp", "-n", "prod"},
		"template-webapp-set":       {"template", "shop", "../../examples/webapp", "-n", "prod", "--set", "replicas=3,migration.enabled=false", "--show-only", "templates/deployment.yaml"},
		"template-platform":         {"template", "plat", "../../examples/platform", "-n", "team"},
		"template-platform-nocache": {"template", "plat", "../../examples/platform", "--set", "cache.enabled=false"},
		"template-crd-app":          {"template", "backups", "../../examples/crd-app", "--include-crds"},
		"template-manifests":        {"template", "plain", "-f", "testdata/manifests", "-R"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append(args, "--kubeconfig", "/dev/null")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, name, out)
		})
	}
}

func TestTemplateErrorsExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"template", "shop", "../../examples/webapp", "--set", "replicas=99"}, 3, "values.replicas: maximum: got 99, want 50"},
		{[]string{"template", "shop", "../../examples/nope"}, 3, "no such directory"},
		{[]string{"template", "Shop", "../../examples/webapp"}, 3, "release name \"Shop\" is invalid"},
		{[]string{"template", "shop", "../../examples/webapp", "-f", "x.yaml"}, 3, "not both"},
		{[]string{"template", "shop"}, 3, "missing PACK"},
		{[]string{"template", "shop", "../../examples/webapp", "--show-only", "templates/nope.yaml"}, 3, "these did:"},
		{[]string{"template", "shop", "../../examples/platform/packs/common"}, 3, "library pack"},
		{[]string{"template", "shop", "testdata/broken-pack"}, 3, "templates/deployment.yaml:7: values.imagee.tag is undefined"},
	}
	for _, c := range cases {
		_, errOut, code := runCLI(t, append(c.args, "--kubeconfig", "/dev/null")...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestTemplateOutputDir(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runCLI(t, "template", "shop", "../../examples/webapp", "--output-dir", dir, "--kubeconfig", "/dev/null")
	if code != 0 {
		t.Fatal(errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "webapp", "templates", "deployment.yaml"))
	if err != nil || !strings.Contains(string(b), "kind: Deployment") {
		t.Fatalf("deployment.yaml: %v\n%s", err, b)
	}
}

func TestTemplateKustomize(t *testing.T) {
	out, errOut, code := runCLI(t, "template", "k", "-k", "testdata/kustomize", "--kubeconfig", "/dev/null")
	if code != 0 || !strings.Contains(out, "name: prod-settings") || !strings.Contains(out, "mode: kustomized") {
		t.Fatalf("template -k: exit %d\n%s%s", code, out, errOut)
	}
}
