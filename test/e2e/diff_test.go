package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

const crdAndCR = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.drift.sherpack.io}
spec:
  group: drift.sherpack.io
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
---
apiVersion: drift.sherpack.io/v1
kind: Widget
metadata:
  name: w
  labels: {tier: gold}
spec: {size: 3}
`

// diff upgrade shows exactly what a value change changes, objects that would be pruned, and the
// hand edits (a Deployment's replicas, a ConfigMap key, a label on a custom resource) as drift;
// diff drift reports them too; nothing in the cluster or in storage changes.
func TestDiffUpgradeAndDrift(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	dc := testenv.Dynamic(t)
	ctx := context.Background()
	extra := writeFiles(t, map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: extra, version: 0.1.0}\n",
		"values.yaml": "legacy: true\n", "templates/legacy.yaml": "{% if values.legacy %}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy}\n{% endif %}\n"})
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	mustSherpack(t, "install", "ex", extra, "-n", ns)
	mustSherpack(t, "install", "cr", "-f", writeFiles(t, map[string]string{"w.yaml": crdAndCR}), "-n", ns)
	t.Cleanup(func() { sherpack(t, "uninstall", "cr", "-n", ns, "--wait", "--delete-crds") }) // the CRD is cluster-wide

	d := mustSherpack(t, "diff", "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=4")
	if !strings.Contains(d.stdout, "~ Deployment/"+ns+"/shop-webapp") || !strings.Contains(d.stdout, "-  replicas: 2") || !strings.Contains(d.stdout, "+  replicas: 4") {
		t.Fatalf("diff upgrade --set replicas=4:\n%s", d.stdout)
	}
	if n := strings.Count(d.stdout, "\n    +") + strings.Count(d.stdout, "\n    -"); n != 2 {
		t.Fatalf("a one-value change must show exactly one line out and one in, got %d:\n%s", n, d.stdout)
	}
	if !strings.Contains(d.stdout, "= 2 unchanged") || !strings.Contains(d.stdout, "Hooks that would run: pre-upgrade shop-webapp-migrate (Job)") {
		t.Fatalf("diff upgrade summary:\n%s", d.stdout)
	}
	p := mustSherpack(t, "diff", "upgrade", "ex", extra, "-n", ns, "--set", "legacy=false")
	if !strings.Contains(p.stdout, "- ConfigMap/"+ns+"/legacy") || !strings.Contains(p.stdout, "(pruned)") {
		t.Fatalf("a removed template must show as pruned:\n%s", p.stdout)
	}

	// Hand edits.
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "shop-webapp", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Patch(ctx, "shop-webapp-config", types.MergePatchType, []byte(`{"data":{"LOG_LEVEL":"trace"}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	wgvr := schema.GroupVersionResource{Group: "drift.sherpack.io", Version: "v1", Resource: "widgets"}
	if _, err := dc.Resource(wgvr).Namespace(ns).Patch(ctx, "w", types.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"bronze"}}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, ns)
	dr := sherpack(t, "diff", "drift", "shop", "-n", ns, "--detailed-exitcode")
	if dr.code != 2 || !strings.Contains(dr.stdout, "DRIFT  .spec.replicas was changed by hand (kubectl-edit): 2 -> 5") ||
		!strings.Contains(dr.stdout, "DRIFT  .data.LOG_LEVEL was changed by hand (kubectl-edit): info -> trace") {
		t.Fatalf("diff drift: exit %d\n%s%s", dr.code, dr.stdout, dr.stderr)
	}
	crd := sherpack(t, "diff", "drift", "cr", "-n", ns, "--detailed-exitcode")
	if crd.code != 2 || !strings.Contains(crd.stdout, "DRIFT  .metadata.labels.tier was changed by hand (kubectl-edit): gold -> bronze") {
		t.Fatalf("drift on a custom resource: exit %d\n%s%s", crd.code, crd.stdout, crd.stderr)
	}
	up := sherpack(t, "diff", "upgrade", "shop", webapp, "-n", ns, "--detailed-exitcode")
	if up.code != 2 || !strings.Contains(up.stdout, "-  replicas: 5") || !strings.Contains(up.stdout, "DRIFT  .spec.replicas") {
		t.Fatalf("diff upgrade must show the re-apply and mark the drift: exit %d\n%s%s", up.code, up.stdout, up.stderr)
	}
	j := mustSherpack(t, "diff", "drift", "shop", "-n", ns, "-o", "json")
	var rep struct {
		Changes []struct {
			Object string
			Type   string
			Drift  []struct{ Path, Release, Live string }
		}
	}
	if err := json.Unmarshal([]byte(j.stdout), &rep); err != nil || len(rep.Changes) == 0 {
		t.Fatalf("diff -o json: %v\n%s", err, j.stdout)
	}
	if after := snapshot(t, ns); after != before {
		t.Fatalf("a diff changed the cluster or the records:\nbefore %s\nafter  %s", before, after)
	}
	// No changes: exit 0 with --detailed-exitcode.
	mustSherpack(t, "upgrade", "ex", extra, "-n", ns)
	if r := sherpack(t, "diff", "upgrade", "ex", extra, "-n", ns, "--detailed-exitcode"); r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("no-change diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// snapshot is the resourceVersions of the release records and ConfigMaps, and the generation of
// the Deployments: any write of ours moves one.
func snapshot(t *testing.T, ns string) string {
	t.Helper()
	cs := testenv.Clientset(t)
	ctx := context.Background()
	var parts []string
	secs, _ := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	for _, s := range secs.Items {
		parts = append(parts, s.Name+"@"+s.ResourceVersion)
	}
	cms, _ := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	for _, c := range cms.Items {
		parts = append(parts, c.Name+"@"+c.ResourceVersion)
	}
	ds, _ := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	for _, d := range ds.Items {
		// Controllers keep writing a Deployment's status: its generation moves only with the spec.
		parts = append(parts, d.Name+"@gen"+strconv.FormatInt(d.Generation, 10))
	}
	return strings.Join(parts, " ")
}

// A Secret's change shows that a key changed, never the value; revisions diff too.
func TestDiffMasksSecrets(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	secret := func(pw string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: " + pw + ", user: admin}\n"
	}
	mustSherpack(t, "install", "db", "-f", writeFiles(t, map[string]string{"s.yaml": secret("hunter2-old")}), "-n", ns)
	v2 := writeFiles(t, map[string]string{"s.yaml": secret("hunter2-new")})
	d := sherpack(t, "diff", "upgrade", "db", "-f", v2, "-n", ns, "--detailed-exitcode")
	if d.code != 2 || !strings.Contains(d.stdout, "~ Secret/"+ns+"/db") || !strings.Contains(d.stdout, "*** (after)") {
		t.Fatalf("secret diff: exit %d\n%s%s", d.code, d.stdout, d.stderr)
	}
	mustSherpack(t, "upgrade", "db", "-f", v2, "-n", ns)
	r := mustSherpack(t, "diff", "revisions", "db", "1", "2", "-n", ns)
	for _, out := range []string{d.stdout, d.stderr, r.stdout} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "aHVudGVyMi") {
			t.Fatalf("a Secret value was printed:\n%s", out)
		}
	}
	if !strings.Contains(r.stdout, "~ Secret/"+ns+"/db") {
		t.Fatalf("diff revisions:\n%s", r.stdout)
	}
	shown := mustSherpack(t, "diff", "revisions", "db", "1", "2", "-n", ns, "--show-secrets")
	if !strings.Contains(shown.stdout, "hunter2-new") {
		t.Fatalf("--show-secrets must show the values:\n%s", shown.stdout)
	}
	expectExit(t, 4, "no revision 9", "diff", "revisions", "db", "1", "9", "-n", ns)
	expectExit(t, 3, "must be diff, json or name", "diff", "drift", "db", "-n", ns, "-o", "yaml")
}

// upgrade --diff prints the diff before applying; diff drift --all-fields shows every
// difference; KUBECTL_EXTERNAL_DIFF runs the given program on two directories, as kubectl does.
func TestDiffFlags(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	r := mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3", "--diff")
	if !strings.Contains(r.stdout, "+  replicas: 3") || !strings.Contains(r.stdout, "shop upgraded: revision 2") ||
		strings.Index(r.stdout, "+  replicas: 3") > strings.Index(r.stdout, "shop upgraded") {
		t.Fatalf("upgrade --diff:\n%s", r.stdout)
	}
	all := mustSherpack(t, "diff", "drift", "shop", "-n", ns, "--all-fields")
	if !strings.Contains(all.stdout, "progressDeadlineSeconds") {
		t.Fatalf("--all-fields must show the fields the server defaulted too:\n%s", all.stdout)
	}
	ext := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + testenv.Kubeconfig(), "KUBECTL_EXTERNAL_DIFF=echo"},
		"diff", "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=4")
	if ext.code != 0 || !strings.Contains(ext.stdout, "sherpack-diff-from") || !strings.Contains(ext.stdout, "sherpack-diff-to") {
		t.Fatalf("KUBECTL_EXTERNAL_DIFF: exit %d\n%s%s", ext.code, ext.stdout, ext.stderr)
	}
	ctx := mustSherpack(t, "diff", "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=4", "-U", "0")
	if strings.Contains(ctx.stdout, "revisionHistoryLimit") {
		t.Fatalf("-U 0 still shows context lines:\n%s", ctx.stdout)
	}
}
