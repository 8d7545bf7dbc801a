package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// The web app's whole life: install, upgrade with a value, upgrade reusing values, reset,
// rollback, history, status, get, uninstall with and without history.
func TestWebappLifecycle(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()

	r := mustSherpack(t, "install", "shop", webapp, "-n", ns)
	if !strings.Contains(r.stdout, "shop installed: revision 1") || !strings.Contains(r.stdout, "NOTES:") {
		t.Fatalf("install summary: %s", r.stdout)
	}
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 || d.Status.ReadyReplicas != 2 {
		t.Fatalf("after install: replicas %d, ready %d (install waits by default)", *d.Spec.Replicas, d.Status.ReadyReplicas)
	}
	if d.Labels["app.kubernetes.io/managed-by"] != "sherpack" || d.Labels["sherpack.io/release-name"] != "shop" || d.Labels["sherpack.io/release-namespace"] != ns {
		t.Fatalf("ownership labels: %v", d.Labels)
	}
	if !hasManager(d.ManagedFields, "sherpack", "Apply") {
		t.Fatalf("not applied with server-side apply by field manager sherpack: %+v", d.ManagedFields)
	}
	secs := releaseSecrets(t, ns)
	if len(secs) != 1 || secs[0].Name != "sh.sherpack.release.v1.shop.v1" || string(secs[0].Type) != "sherpack.io/release.v1" ||
		secs[0].Labels["status"] != "deployed" || secs[0].Labels["version"] != "1" {
		t.Fatalf("release record: %+v", secs)
	}
	// Installing again is refused: the release exists.
	expectExit(t, 3, "already exists", "install", "shop", webapp, "-n", ns)

	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3")
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 3 {
		t.Fatalf("upgrade --set replicas=3: replicas %d", *d.Spec.Replicas)
	}
	// The pre-upgrade migration hook ran and was deleted (hook-succeeded).
	if _, err := cs.BatchV1().Jobs(ns).Get(ctx, "shop-webapp-migrate", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("migration job after success: %v (want deleted by hook-succeeded)", err)
	}
	st := mustSherpack(t, "status", "shop", "-n", ns, "-o", "json")
	var rec struct {
		State string `json:"state"`
		Hooks []struct {
			Name    string `json:"name"`
			LastRun *struct {
				Phase, Result string
			} `json:"lastRun"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.State != "deployed" || len(rec.Hooks) != 1 || rec.Hooks[0].LastRun == nil || rec.Hooks[0].LastRun.Result != "succeeded" || rec.Hooks[0].LastRun.Phase != "pre-upgrade" {
		t.Fatalf("status after upgrade: %s", st.stdout)
	}

	// No value flags: the previous user values are reused.
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns)
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 3 {
		t.Fatalf("upgrade without values must reuse replicas=3, got %d", *d.Spec.Replicas)
	}
	vals := mustSherpack(t, "get", "values", "shop", "-n", ns)
	if strings.TrimSpace(vals.stdout) != "replicas: 3" {
		t.Fatalf("get values: %q", vals.stdout)
	}
	src := mustSherpack(t, "get", "values", "shop", "-n", ns, "--all", "--show-sources")
	if !strings.Contains(src.stdout, "replicas") || !strings.Contains(src.stdout, "previous-release (revision 2)") || !strings.Contains(src.stdout, "pack-default (values.yaml)") {
		t.Fatalf("get values --show-sources:\n%s", src.stdout)
	}
	// --reset-values: back to the pack's defaults.
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--reset-values")
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 2 {
		t.Fatalf("--reset-values: replicas %d, want 2", *d.Spec.Replicas)
	}
	if h := history(t, ns, "shop"); h != "1:superseded 2:superseded 3:superseded 4:deployed" {
		t.Fatalf("history: %s", h)
	}
	// Roll back to revision 2 (replicas 3).
	rb := mustSherpack(t, "rollback", "shop", "2", "-n", ns)
	if !strings.Contains(rb.stdout, "revision 5") {
		t.Fatalf("rollback: %s", rb.stdout)
	}
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 3 {
		t.Fatalf("rollback to 2: replicas %d, want 3", *d.Spec.Replicas)
	}
	// Default rollback target: the previous deployed revision (4).
	mustSherpack(t, "rollback", "shop", "-n", ns)
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 2 {
		t.Fatalf("rollback to previous: replicas %d, want 2", *d.Spec.Replicas)
	}
	for _, what := range []string{"manifest", "hooks", "notes", "all"} {
		g := mustSherpack(t, "get", what, "shop", "-n", ns, "--revision", "2")
		if len(g.stdout) < 10 {
			t.Fatalf("get %s: %q", what, g.stdout)
		}
	}
	mustSherpack(t, "uninstall", "shop", "-n", ns, "--keep-history", "--wait")
	if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("deployment after uninstall: %v", err)
	}
	if h := history(t, ns, "shop"); !strings.HasSuffix(h, "6:uninstalled") {
		t.Fatalf("history after uninstall --keep-history: %s", h)
	}
	// An uninstalled release can be installed again, as a new revision.
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	mustSherpack(t, "uninstall", "shop", "-n", ns)
	if secs := releaseSecrets(t, ns); len(secs) != 0 {
		t.Fatalf("%d release records left after uninstall", len(secs))
	}
	expectExit(t, 4, "not found", "status", "shop", "-n", ns)
}

func hasManager(mf []metav1.ManagedFieldsEntry, name string, op metav1.ManagedFieldsOperationType) bool {
	for _, m := range mf {
		if m.Manager == name && m.Operation == op {
			return true
		}
	}
	return false
}

// Plain manifests become a release; objects that leave it are pruned, except those with
// resource-policy keep.
func TestManifestsReleasePrunes(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	cm := func(name, extra string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n" + extra + "data:\n  k: v\n---\n"
	}
	v1 := writeFiles(t, map[string]string{"a.yaml": cm("keep-me", "") + cm("drop-me", "") + cm("policy-keep", "  annotations:\n    helm.sh/resource-policy: keep\n")})
	v2 := writeFiles(t, map[string]string{"a.yaml": cm("keep-me", "")})
	mustSherpack(t, "install", "plain", "-f", v1, "-n", ns)
	r := mustSherpack(t, "upgrade", "plain", "-f", v2, "-n", ns)
	if !strings.Contains(r.stdout, "1 pruned") {
		t.Fatalf("upgrade summary: %s", r.stdout)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "drop-me", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("drop-me was not pruned: %v", err)
	}
	for _, name := range []string{"keep-me", "policy-keep"} {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// Uninstall of many objects: what is gone already is fine, what someone relabelled for another
// owner is left alone, what carries keep stays, the rest is deleted and awaited (--wait).
func TestUninstallLeavesWhatIsNotItsOwn(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	var b strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {k: v}\n", i)
	}
	b.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations: {sherpack.io/resource-policy: keep}\ndata: {k: v}\n")
	mustSherpack(t, "install", "many", "-f", writeFiles(t, map[string]string{"all.yaml": b.String()}), "-n", ns)
	if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, "cm-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"metadata":{"labels":{"sherpack.io/release-name":"someone-else"}}}`)
	if _, err := cs.CoreV1().ConfigMaps(ns).Patch(ctx, "cm-1", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	mustSherpack(t, "uninstall", "many", "-n", ns, "--wait")
	left, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range left.Items {
		if strings.HasPrefix(c.Name, "cm-") || c.Name == "kept" {
			names = append(names, c.Name)
		}
	}
	if strings.Join(names, ",") != "cm-1,kept" {
		t.Fatalf("after uninstall: %v (want the relabelled cm-1 and kept)", names)
	}
}

// A CRD (in crds/) and a custom resource of it install in one command; uninstall keeps the CRD.
func TestCRDAndCustomResourceInOneInstall(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "backups", "../../examples/crd-app", "-n", ns)
	dc := testenv.Dynamic(t)
	gvr := schema.GroupVersionResource{Group: "demo.sherpack.io", Version: "v1", Resource: "backups"}
	cr, err := dc.Resource(gvr).Namespace(ns).Get(context.Background(), "backups-nightly", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("custom resource: %v", err)
	}
	if s, _, _ := unstructuredString(cr.Object, "spec", "schedule"); s != "0 3 * * *" {
		t.Fatalf("spec.schedule = %q", s)
	}
	mustSherpack(t, "uninstall", "backups", "-n", ns, "--wait")
	crd := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dc.Resource(crd).Get(context.Background(), "backups.demo.sherpack.io", metav1.GetOptions{}); err != nil {
		t.Fatalf("the CRD of crds/ must survive uninstall: %v", err)
	}
}

func unstructuredString(obj map[string]any, path ...string) (string, bool, error) {
	cur := any(obj)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[p]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

// Errors: each with its exit code and message, and nothing stored or changed.
func TestLifecycleErrors(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	expectExit(t, 3, "values.replicas: maximum: got 99, want 50", "install", "shop", webapp, "-n", ns, "--set", "replicas=99")
	broken := writeFiles(t, map[string]string{
		"Pack.yaml":                "apiVersion: sherpack/v1\nmetadata: {name: broken, version: 0.1.0}\n",
		"values.yaml":              "image: {tag: '1'}\n",
		"templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  tag: {{ values.imagee.tag }}\n",
	})
	expectExit(t, 3, `templates/configmap.yaml:6: values.imagee.tag is undefined: no key "imagee" in values. Did you mean "image"?`, "install", "shop", broken, "-n", ns)
	expectExit(t, 4, "release nope not found", "upgrade", "nope", webapp, "-n", ns)
	expectExit(t, 4, "not found", "rollback", "nope", "-n", ns)
	expectExit(t, 3, "does not exist", "install", "shop", webapp, "-n", "no-such-ns-here")
	if secs := releaseSecrets(t, ns); len(secs) != 0 {
		t.Fatalf("a refused install stored %d records", len(secs))
	}

	// Ownership: an object that exists outside any release is not taken over.
	_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, corev1ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shop-webapp-config"}}.cm(), metav1.CreateOptions{FieldManager: "kubectl-create"})
	if err != nil {
		t.Fatal(err)
	}
	expectExit(t, 1, "ConfigMap/"+ns+"/shop-webapp-config already exists and belongs to no sherpack release (managed by kubectl-create)", "install", "shop", webapp, "-n", ns)
	if secs := releaseSecrets(t, ns); len(secs) != 0 {
		t.Fatalf("an ownership clash stored %d records", len(secs))
	}
	cm, _ := cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-webapp-config", metav1.GetOptions{})
	if len(cm.Data) != 1 || cm.Data["mine"] != "yes" || cm.Labels["sherpack.io/release-name"] != "" {
		t.Fatalf("the clash changed the existing object: %v %v", cm.Data, cm.Labels)
	}
	mustSherpack(t, "install", "shop", webapp, "-n", ns, "--take-ownership")

	// Field conflict: replicas changed by another manager; the upgrade fails naming both.
	patch := []byte(`{"spec":{"replicas":5}}`)
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "shop-webapp", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 1, `conflict with field manager "kubectl-edit" on .spec.replicas`, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3")
	d, _ := cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 5 {
		t.Fatalf("a conflicting upgrade changed replicas to %d", *d.Spec.Replicas)
	}
	if h := history(t, ns, "shop"); h != "1:deployed 2:failed" {
		t.Fatalf("history after the conflict: %s (revision 1 must stay deployed)", h)
	}
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3", "--force-conflicts")
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 3 {
		t.Fatalf("--force-conflicts: replicas %d", *d.Spec.Replicas)
	}
}

// A release locked by a live operation: exit 5 naming the holder; nothing written.
func TestLockedReleaseExitCode(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	store := secretsStore(t)
	op, err := store.Begin(context.Background(), ns, "shop", "upgrade")
	if err != nil {
		t.Fatal(err)
	}
	defer op.End(context.Background())
	r := expectExit(t, 5, "release shop is locked: upgrade by", "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3")
	if !strings.Contains(r.stderr, "kubectl sherpack recover shop -n "+ns) {
		t.Fatalf("locked message does not say what to do: %s", r.stderr)
	}
	expectExit(t, 5, "locked", "rollback", "shop", "-n", ns)
	if h := history(t, ns, "shop"); h != "1:deployed" {
		t.Fatalf("a locked upgrade wrote a revision: %s", h)
	}
}

// An upgrade that fails in its second wave with --atomic leaves the cluster as the previous
// revision had it.
func TestAtomicUpgradeRollsBack(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	objs := func(data, podLabel string) string {
		return `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations: {sherpack.io/sync-wave: "0"}
data:
  version: "` + data + `"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  annotations: {sherpack.io/sync-wave: "1"}
spec:
  replicas: 1
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: app}}
  template:
    metadata:
      labels: {app: app` + podLabel + `}
    spec:
      containers: [{name: c, image: "example.local/app:` + data + `"}]
`
	}
	v1 := writeFiles(t, map[string]string{"m.yaml": objs("1", "")})
	v2 := writeFiles(t, map[string]string{"m.yaml": objs("2", ", sherpack.test/never-ready: \"true\""), "extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: added-by-v2}\n"})
	mustSherpack(t, "install", "app", "-f", v1, "-n", ns)
	start := time.Now()
	r := expectExit(t, 1, "Rolled back to revision 1 (--atomic)", "upgrade", "app", "-f", v2, "-n", ns, "--atomic", "--timeout", "15s")
	if !strings.Contains(r.stderr, "wave 1") || !strings.Contains(r.stderr, "Deployment/"+ns+"/app") {
		t.Fatalf("the error must say what failed where:\n%s", r.stderr)
	}
	if time.Since(start) > 2*time.Minute {
		t.Fatalf("took %s", time.Since(start))
	}
	cm, _ := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if cm.Data["version"] != "1" {
		t.Fatalf("settings after the rollback: %v", cm.Data)
	}
	d, _ := cs.AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{})
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "example.local/app:1" || d.Spec.Template.Labels["sherpack.test/never-ready"] != "" {
		t.Fatalf("deployment after the rollback: %s %v", img, d.Spec.Template.Labels)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "added-by-v2", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("an object added by the failed upgrade survived the rollback: %v", err)
	}
	if h := history(t, ns, "app"); h != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history: %s", h)
	}
}

// Dry runs change nothing, on the cluster or in storage.
func TestDryRunsChangeNothing(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	c := mustSherpack(t, "install", "shop", webapp, "-n", ns, "--dry-run=client")
	if !strings.Contains(c.stdout, "wave -1:") || !strings.Contains(c.stdout, "Deployment/shop-webapp") {
		t.Fatalf("client dry run plan:\n%s", c.stdout)
	}
	s := mustSherpack(t, "install", "shop", webapp, "-n", ns, "--dry-run=server")
	if !strings.Contains(s.stdout, "created") {
		t.Fatalf("server dry run:\n%s", s.stdout)
	}
	if l, _ := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Fatal("a dry run created objects")
	}
	if len(releaseSecrets(t, ns)) != 0 {
		t.Fatal("a dry run stored a release")
	}
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	u := mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=4", "--dry-run=server")
	if !strings.Contains(u.stdout, "configured") {
		t.Fatalf("server dry run of an upgrade:\n%s", u.stdout)
	}
	d, _ := cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 2 || history(t, ns, "shop") != "1:deployed" {
		t.Fatal("an upgrade dry run changed something")
	}
	mustSherpack(t, "uninstall", "shop", "-n", ns, "--dry-run")
	if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{}); err != nil || history(t, ns, "shop") != "1:deployed" {
		t.Fatalf("uninstall --dry-run changed something: %v", err)
	}
}

// list: namespaces, status filter, printers.
func TestListAndPrinters(t *testing.T) {
	t.Parallel()
	ns1, ns2 := testenv.Namespace(t), testenv.Namespace(t)
	mustSherpack(t, "install", "a", webapp, "-n", ns1)
	mustSherpack(t, "install", "b", "-f", writeFiles(t, map[string]string{"x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"}), "-n", ns2)
	expectExit(t, 3, "maximum", "upgrade", "a", webapp, "-n", ns1, "--set", "replicas=999")
	l := mustSherpack(t, "list", "-n", ns1)
	if !strings.Contains(l.stdout, "NAME") || !strings.Contains(l.stdout, "webapp-1.2.0") || strings.Contains(l.stdout, " b ") {
		t.Fatalf("list -n:\n%s", l.stdout)
	}
	all := mustSherpack(t, "list", "-A", "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.status};{end}")
	for _, want := range []string{ns1 + "/a=deployed;", ns2 + "/b=deployed;"} {
		if !strings.Contains(all.stdout, want) {
			t.Fatalf("list -A jsonpath: %s (want %s)", all.stdout, want)
		}
	}
	name := mustSherpack(t, "list", "-n", ns1, "-o", "name")
	if strings.TrimSpace(name.stdout) != "release.sherpack.io/a" {
		t.Fatalf("-o name: %q", name.stdout)
	}
	cc := mustSherpack(t, "list", "-n", ns1, "-o", "custom-columns=N:.metadata.name,P:.pack", "--no-headers")
	if strings.Fields(cc.stdout)[0] != "a" || strings.Fields(cc.stdout)[1] != "webapp" {
		t.Fatalf("custom-columns: %q", cc.stdout)
	}
	y := mustSherpack(t, "list", "-n", ns2, "-o", "yaml")
	if !strings.Contains(y.stdout, "kind: Release") || !strings.Contains(y.stdout, "pack: manifests") {
		t.Fatalf("-o yaml:\n%s", y.stdout)
	}
	none := mustSherpack(t, "list", "-A", "--status", "failed,pending", "-l", "namespace="+ns1)
	if strings.Contains(none.stdout, " a ") {
		t.Fatalf("--status failed listed a deployed release:\n%s", none.stdout)
	}
	expectExit(t, 3, "--status", "list", "--status", "dancing")
	expectExit(t, 3, "--output", "list", "-o", "bogus")
}

// Installing over a failed install removes what the failed attempt applied and the new one lacks.
func TestReinstallOverFailedInstallPrunesLeftovers(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	bad := writeFiles(t, map[string]string{"a.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: from-first-try}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, annotations: {sherpack.io/sync-wave: "1"}}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app, sherpack.test/never-ready: "true"}}
    spec: {containers: [{name: c, image: example.local/x:1}]}
`})
	expectExit(t, 1, "not ready within", "install", "app", "-f", bad, "-n", ns, "--timeout", "3s")
	good := writeFiles(t, map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second-try}\n"})
	mustSherpack(t, "install", "app", "-f", good, "-n", ns)
	ctx := context.Background()
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "from-first-try", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a leftover of the failed install survived: %v", err)
	}
	if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the failed install's Deployment survived: %v", err)
	}
	if h := history(t, ns, "app"); h != "1:failed 2:deployed" {
		t.Fatalf("history: %s", h)
	}
}
