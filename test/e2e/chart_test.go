package e2e

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

const storefrontChart = "testdata/charts/storefront"

// TestChartLifecycle installs a Helm chart directly (no Helm anywhere): Helm's engine renders
// it, lookup and .Capabilities read the cluster, crds/ is applied first, the subchart and its
// globals render, the hook runs, and then upgrade (null deleting a chart default), reuse of
// values, diff, drift, rollback, history and uninstall all work on it.
func TestChartLifecycle(t *testing.T) {
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "storefront-db"},
		StringData: map[string]string{"password": "s3cret"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := func(name string) map[string]string {
		t.Helper()
		c, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("configmap %s: %v", name, err)
		}
		return c.Data
	}
	replicas := func() int32 {
		t.Helper()
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "shop-storefront", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return *d.Spec.Replicas
	}

	r := mustSherpack(t, "install", "shop", storefrontChart, "-n", ns, "--wait", "--timeout", "2m")
	if !strings.Contains(r.stdout, "shop-storefront is serving in "+ns+" (revision 1)") {
		t.Errorf("install should print the chart's NOTES.txt rendered by Helm's engine:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "subchart notes") {
		t.Errorf("a subchart's NOTES.txt is not shown (as with Helm):\n%s", r.stdout)
	}
	data := cm("shop-storefront")
	want := map[string]string{"GREETING": "Welcome", "LOG_LEVEL": "info", "DB_SECRET_FOUND": "yes", "REVISION": "1",
		"HAS_DEPLOYMENTS_API": "true", "FEATURES": `{"newCheckout":false}`}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("configmap %s = %q, want %q (all: %v)", k, data[k], v, data)
		}
	}
	if got := cm("shop-cache"); got["maxmemory"] != "64mb" {
		t.Errorf("subchart configmap: %v", got)
	}
	cache, _ := cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-cache", metav1.GetOptions{})
	if cache.Labels["team"] != "shop" {
		t.Errorf("global values reach the subchart: team label %q, want shop", cache.Labels["team"])
	}
	widgets := schema.GroupVersionResource{Group: "storefront.sherpack.test", Version: "v1", Resource: "widgets"}
	if _, err := testenv.Dynamic(t).Resource(widgets).Namespace(ns).Get(ctx, "shop-storefront-banner", metav1.GetOptions{}); err != nil {
		t.Errorf("the Widget needs the CRD of crds/ applied first: %v", err)
	}
	if _, err := cs.BatchV1().Jobs(ns).Get(ctx, "shop-storefront-migrate", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the pre-install hook Job has hook-succeeded: it should be gone, got %v", err)
	}
	if replicas() != 2 {
		t.Errorf("replicas %d, want the chart's default 2", replicas())
	}

	// null deletes a chart default (Helm's rule), --set types an integer.
	mustSherpack(t, "upgrade", "shop", storefrontChart, "-n", ns, "--set", "config.logLevel=null", "--set", "replicaCount=3", "--wait", "--timeout", "2m")
	data = cm("shop-storefront")
	if _, ok := data["LOG_LEVEL"]; ok || data["REVISION"] != "2" {
		t.Errorf("after --set config.logLevel=null: LOG_LEVEL should be gone and REVISION 2: %v", data)
	}
	if replicas() != 3 {
		t.Errorf("replicas %d, want 3", replicas())
	}
	// An upgrade without values reuses the previous ones, the null too.
	mustSherpack(t, "upgrade", "shop", storefrontChart, "-n", ns)
	if _, ok := cm("shop-storefront")["LOG_LEVEL"]; ok || replicas() != 3 {
		t.Errorf("an upgrade without values should reuse the previous ones: %v, replicas %d", cm("shop-storefront"), replicas())
	}
	v := mustSherpack(t, "get", "values", "shop", "-n", ns, "-o", "json")
	var user map[string]any
	if err := json.Unmarshal([]byte(v.stdout), &user); err != nil {
		t.Fatalf("get values -o json: %v\n%s", err, v.stdout)
	}
	if user["replicaCount"] != float64(3) {
		t.Errorf("get values: %v", user)
	}

	d := sherpack(t, "diff", "upgrade", "shop", storefrontChart, "-n", ns, "--set", "replicaCount=4", "--detailed-exitcode")
	if d.code != 2 || !strings.Contains(d.stdout, "+  replicas: 4") {
		t.Errorf("diff upgrade: exit %d, want 2 with the replicas change\n%s%s", d.code, d.stdout, d.stderr)
	}
	if dr := sherpack(t, "diff", "drift", "shop", "-n", ns, "--detailed-exitcode"); dr.code != 0 {
		t.Errorf("diff drift right after an upgrade: exit %d\n%s%s", dr.code, dr.stdout, dr.stderr)
	}

	mustSherpack(t, "rollback", "shop", "1", "-n", ns, "--wait", "--timeout", "2m")
	if data := cm("shop-storefront"); data["LOG_LEVEL"] != "info" || replicas() != 2 {
		t.Errorf("rollback to 1: %v, replicas %d", data, replicas())
	}
	if h := history(t, ns, "shop"); h != "1:superseded 2:superseded 3:superseded 4:deployed" {
		t.Errorf("history: %s", h)
	}
	st := mustSherpack(t, "status", "shop", "-n", ns, "-o", "json")
	if !strings.Contains(st.stdout, `"storefront"`) || !strings.Contains(st.stdout, `"1.2.0"`) {
		t.Errorf("status should name the chart and its version as the pack:\n%s", st.stdout)
	}

	mustSherpack(t, "uninstall", "shop", "-n", ns, "--wait")
	if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "shop-storefront", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("uninstall should delete the Deployment: %v", err)
	}
}

// TestChartArchiveAndErrors: a .tgz of the chart renders as the directory does; a chart whose
// dependency is not vendored, a value the schema refuses, and a failing `required` are refused
// with exit 3 and what to do; lint names the template file and line.
func TestChartArchiveAndErrors(t *testing.T) {
	dir := mustSherpack(t, "template", "shop", storefrontChart, "-n", "shop", "--include-crds")
	tgz := filepath.Join(t.TempDir(), "storefront-1.2.0.tgz")
	writeTgz(t, storefrontChart, "storefront", tgz)
	arch := mustSherpack(t, "template", "shop", tgz, "-n", "shop", "--include-crds")
	if arch.stdout != dir.stdout {
		t.Errorf("the .tgz renders differently from the directory:\n--- dir\n%s\n--- tgz\n%s", dir.stdout, arch.stdout)
	}
	if !strings.Contains(dir.stdout, "# Source: storefront/crds/widgets.yaml") || !strings.Contains(dir.stdout, "# Source: storefront/charts/cache/templates/configmap.yaml") {
		t.Errorf("template --include-crds should print crds/ and the subchart:\n%s", dir.stdout)
	}

	noDeps := copyTree(t, storefrontChart)
	if err := os.RemoveAll(filepath.Join(noDeps, "charts")); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 3, "helm dependency build", "template", "shop", noDeps)
	expectExit(t, 3, "replicaCount", "template", "shop", storefrontChart, "--set", "replicaCount=-1")
	r := expectExit(t, 3, "values don't meet the specifications of the schema", "template", "shop", storefrontChart, "--set", "replicaCount=-1")
	if strings.Contains(r.stdout, "kind:") {
		t.Errorf("nothing is printed when the values are refused:\n%s", r.stdout)
	}

	broken := copyTree(t, storefrontChart)
	svc := filepath.Join(broken, "templates", "service.yaml")
	b, _ := os.ReadFile(svc)
	b = []byte(strings.Replace(string(b), "{{ .Values.service.type }}", `{{ required "service.type is required" .Values.service.kind }}`, 1))
	if err := os.WriteFile(svc, b, 0o644); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 3, "service.type is required", "install", "shop", broken, "-n", testenv.Namespace(t))
	l := sherpack(t, "lint", broken, "-o", "json")
	if l.code != 1 || !strings.Contains(l.stdout, `"file": "`+filepath.Join(broken, "templates/service.yaml")+`"`) || !strings.Contains(l.stdout, `"line": 8`) {
		t.Errorf("lint should report the failing required at templates/service.yaml:8: exit %d\n%s%s", l.code, l.stdout, l.stderr)
	}
	if ok := sherpack(t, "lint", storefrontChart); ok.code != 0 {
		t.Errorf("lint of the chart: exit %d\n%s%s", ok.code, ok.stdout, ok.stderr)
	}
}

// writeTgz packs dir as Helm packages a chart: every file under a top folder named top.
func writeTgz(t *testing.T, dir, top, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: top + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// copyTree copies a directory into a fresh temp dir.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
