package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// lint asks the cluster which kinds it serves: a custom resource whose CRD is installed passes,
// one the cluster does not know is an error naming the file and line; --offline falls back to the
// built-in kinds.
func TestLintKindsFromDiscovery(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	crd := strings.NewReplacer("widgets.drift.sherpack.io", "gizmos.lint.sherpack.io", "drift.sherpack.io", "lint.sherpack.io",
		"kind: Widget", "kind: Gizmo", "Widget,", "Gizmo,", "widgets", "gizmos", "widget}", "gizmo}", "WidgetList", "GizmoList").Replace(crdAndCR)
	crd = crd[:strings.Index(crd, "---\napiVersion: lint.sherpack.io/v1")]
	mustSherpack(t, "install", "gizmo-crd", "-f", writeFiles(t, map[string]string{"crd.yaml": crd}), "-n", ns)
	pk := writeFiles(t, map[string]string{
		"Pack.yaml":        "apiVersion: sherpack/v1\nmetadata: {name: uses-gizmo, version: 0.1.0}\n",
		"templates/g.yaml": "apiVersion: lint.sherpack.io/v1\nkind: Gizmo\nmetadata: {name: g}\nspec: {size: 1}\n",
		"templates/x.yaml": "# a kind nobody serves\napiVersion: nowhere.sherpack.io/v1\nkind: Phantom\nmetadata: {name: p}\n",
	})
	var r result
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = sherpack(t, "lint", pk, "-n", ns)
		if !strings.Contains(r.stdout, "kind Gizmo") || time.Now().After(deadline) {
			break // discovery serves the new CRD once it is established
		}
		time.Sleep(time.Second)
	}
	if r.code != 1 || strings.Contains(r.stdout, "kind Gizmo") || !strings.Contains(r.stdout, "templates/x.yaml:2: error: Phantom/p: kind Phantom of nowhere.sherpack.io/v1 is not served (the cluster's discovery)") {
		t.Fatalf("lint against the cluster: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = sherpack(t, "lint", pk, "-n", ns, "--offline")
	if r.code != 1 || !strings.Contains(r.stdout, "templates/g.yaml:1: error: Gizmo/g: kind Gizmo of lint.sherpack.io/v1 is not served (the offline list") {
		t.Fatalf("lint --offline: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
