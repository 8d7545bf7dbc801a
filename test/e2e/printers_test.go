package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// releaseJSON is the part of the documented Release object (docs/json.md) the tests read.
type releaseJSON struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Revision   int               `json:"revision"`
	State      string            `json:"state"`
	Status     string            `json:"status"`
	Manifest   string            `json:"manifest"`
	UserValues map[string]any    `json:"userValues"`
	Pack       map[string]string `json:"pack"`
	Tests      []struct {
		Name, Kind, Result string
	} `json:"tests"`
}

func parseRelease(t *testing.T, what, out string) releaseJSON {
	t.Helper()
	var r releaseJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%s: stdout is not one JSON object: %v\n%s", what, err, out)
	}
	if r.APIVersion != "sherpack.io/v1" || r.Kind != "Release" {
		t.Fatalf("%s: apiVersion/kind %s/%s, want sherpack.io/v1 Release", what, r.APIVersion, r.Kind)
	}
	return r
}

// Every command that changes a release prints the resulting revision with kubectl's printers;
// stdout holds only that object (progress stays on stderr).
func TestPrintersOnEveryCommand(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	r := mustSherpack(t, "install", "shop", webapp, "-n", ns, "--set", "replicas=1", "--progress", "plain", "-o", "json")
	rel := parseRelease(t, "install -o json", r.stdout)
	if rel.Metadata.Name != "shop" || rel.Metadata.Namespace != ns || rel.Revision != 1 || rel.State != "deployed" || rel.Status != "deployed" {
		t.Fatalf("install -o json: %+v", rel)
	}
	if rel.Pack["name"] != "webapp" || !strings.Contains(rel.Manifest, "kind: Deployment") || rel.UserValues["replicas"] != float64(1) {
		t.Fatalf("install -o json lacks the pack, manifest or values: %+v", rel)
	}
	if !strings.Contains(r.stderr, "Deployment") {
		t.Fatalf("progress must stay on stderr: %q", r.stderr)
	}

	r = mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=2", "-o", "yaml")
	var up releaseJSON
	if err := yaml.Unmarshal([]byte(r.stdout), &up); err != nil || up.Revision != 2 || up.State != "deployed" || up.Kind != "Release" {
		t.Fatalf("upgrade -o yaml: %v %+v\n%s", err, up, r.stdout)
	}

	if r = mustSherpack(t, "rollback", "shop", "1", "-n", ns, "-o", "jsonpath={.revision} {.state}"); r.stdout != "3 deployed" {
		t.Fatalf("rollback -o jsonpath: %q", r.stdout)
	}
	if r = mustSherpack(t, "get", "metadata", "shop", "-n", ns, "-o", "go-template={{.revision}}/{{.status}}/{{.pack}}"); r.stdout != "3/deployed/webapp" {
		t.Fatalf("get metadata -o go-template: %q", r.stdout)
	}
	r = mustSherpack(t, "get", "metadata", "shop", "-n", ns)
	for _, want := range []string{"NAME:", "shop", "REVISION:", "3", "STATUS:", "deployed", "PACK:", "webapp"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("get metadata lacks %q:\n%s", want, r.stdout)
		}
	}
	if r = mustSherpack(t, "get", "values", "shop", "-n", ns, "--revision", "2", "-o", "jsonpath={.replicas}"); r.stdout != "2" {
		t.Fatalf("get values -o jsonpath: %q", r.stdout)
	}
	if r = mustSherpack(t, "recover", "shop", "-n", ns, "-o", "name"); strings.TrimSpace(r.stdout) != "release.sherpack.io/shop" {
		t.Fatalf("recover -o name: %q", r.stdout)
	}
	r = mustSherpack(t, "test", "shop", "-n", ns, "-o", "json")
	if tr := parseRelease(t, "test -o json", r.stdout); tr.Revision != 3 || tr.Tests == nil {
		t.Fatalf("test -o json: revision %d, tests %v", tr.Revision, tr.Tests)
	}

	r = mustSherpack(t, "diff", "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=4", "-o", "json")
	var d struct {
		APIVersion, Kind, Release, Namespace, Mode string
		HasChanges                                 bool
		Changes                                    []struct{ Object, Type, Diff string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("diff -o json: %v\n%s", err, r.stdout)
	}
	changed := ""
	for _, c := range d.Changes {
		if c.Type == "changed" {
			changed = c.Object
		}
	}
	if d.APIVersion != "sherpack.io/v1" || d.Kind != "Diff" || d.Release != "shop" || d.Namespace != ns || d.Mode != "upgrade" || !d.HasChanges || !strings.Contains(changed, "Deployment") {
		t.Fatalf("diff -o json: %+v", d)
	}

	r = mustSherpack(t, "uninstall", "shop", "-n", ns, "-o", "json")
	if un := parseRelease(t, "uninstall -o json", r.stdout); un.State != "uninstalled" || un.Revision != 3 {
		t.Fatalf("uninstall -o json: %+v", un)
	}
	expectExit(t, 3, "--output", "install", "x", webapp, "-n", ns, "-o", "bogus")
}

// A dry run with -o prints the revision that would be made, and nothing is stored.
func TestPrintersDryRun(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	dir := writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n"})
	r := mustSherpack(t, "install", "dry", "-f", filepath.Join(dir, "cm.yaml"), "-n", ns, "--dry-run=server", "-o", "json")
	if rel := parseRelease(t, "install --dry-run -o json", r.stdout); rel.Revision != 1 || !strings.Contains(rel.Manifest, "name: dry") {
		t.Fatalf("dry run -o json: %+v", rel)
	}
	if s := releaseSecrets(t, ns); len(s) != 0 {
		t.Fatalf("a dry run stored %d records", len(s))
	}
}
