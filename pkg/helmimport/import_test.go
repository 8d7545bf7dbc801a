package helmimport

import (
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

func TestTakeoverSetAfterAFailedUpgrade(t *testing.T) {
	r1, r2 := fixtureRecord(t, 1, "deployed"), fixtureRecord(t, 2, "failed")
	// The failed upgrade changed the Deployment and dropped the ServiceAccount from the manifest.
	r2.Manifest = "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  replicas: 9\n" +
		"---\n# Source: shop/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n"
	c, err := Convert([]*Record{r1, r2}, testScope, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	items, base := takeoverSet(c)
	if base == nil || base.Revision != 1 || base.State != releases.StateDeployed {
		t.Fatalf("base %+v", base)
	}
	got := map[string]Item{}
	var order []string
	for _, it := range items {
		k := it.Object.Key().String()
		got[k], order = it, append(order, k)
	}
	// What Helm applied last is what is claimed; the base's version is what in sync means.
	dep := got["Deployment/shop-ns/shop"]
	if r, _, _ := unstructuredInt(dep.Object.Object, "spec", "replicas"); r != 9 {
		t.Fatalf("the Deployment claimed is the failed revision's: replicas %d", r)
	}
	if dep.Base == nil {
		t.Fatal("the Deployment is in the base revision")
	}
	if it := got["ConfigMap/shop-ns/new"]; it.Object == nil || it.Base != nil {
		t.Fatalf("only the failed revision has ConfigMap new: %+v", it)
	}
	if it := got["ServiceAccount/shop-ns/shop"]; it.Object == nil || it.Base == nil {
		t.Fatalf("the ServiceAccount only the base has is taken over too: %+v", it)
	}
	if it := got["Job/shop-ns/shop-migrate"]; !it.Hook || it.Base != nil || it.Object.GetLabels()["sherpack.io/release-name"] != "shop" {
		t.Fatalf("hook: %+v", it)
	}
	if len(items) != 5 || order[0] != "Deployment/shop-ns/shop" {
		t.Fatalf("items %v", order)
	}
}

func unstructuredInt(m map[string]any, path ...string) (int64, bool, error) {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return 0, false, nil
		}
		v = mm[p]
	}
	i, ok := v.(int64)
	return i, ok, nil
}
