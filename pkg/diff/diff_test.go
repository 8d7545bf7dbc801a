package diff

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(m map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: m} }

func TestCleanRemovesServerNoise(t *testing.T) {
	t.Parallel()
	u := obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "a", "uid": "x", "resourceVersion": "5", "generation": int64(2), "creationTimestamp": "t",
			"managedFields": []any{map[string]any{"manager": "m"}}, "annotations": map[string]any{"deployment.kubernetes.io/revision": "3"}},
		"status": map[string]any{"x": int64(1)}, "data": map[string]any{"k": "v"}})
	c := Clean(u)
	y, _ := yamlOf(c)
	for _, noise := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "status", "annotations"} {
		if strings.Contains(y, noise) {
			t.Fatalf("%s left in:\n%s", noise, y)
		}
	}
	if u.GetUID() != "x" {
		t.Fatal("Clean changed its input")
	}
}

func TestMaskHidesSecretValues(t *testing.T) {
	t.Parallel()
	a := obj(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"},
		"data": map[string]any{"same": "c2FtZQ==", "pw": "b2xk"}, "stringData": map[string]any{"token": "old-token"}})
	b := obj(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"},
		"data": map[string]any{"same": "c2FtZQ==", "pw": "bmV3", "added": "eA=="}, "stringData": map[string]any{"token": "new-token"}})
	ma, mb := Mask(a, b, false)
	d, err := Unified(ma, mb, "a", "b", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"b2xk", "bmV3", "old-token", "new-token", "eA=="} {
		if strings.Contains(d, secret) {
			t.Fatalf("value %s shown:\n%s", secret, d)
		}
	}
	if !strings.Contains(d, "pw: '*** (after)'") || !strings.Contains(d, "token: '*** (after)'") || !strings.Contains(d, "added: '***'") {
		t.Fatalf("changes must still show:\n%s", d)
	}
	// Other kinds pass untouched; --show-secrets shows values.
	if _, sb := Mask(a, b, true); sb.Object["data"].(map[string]any)["pw"] != "bmV3" {
		t.Fatal("show-secrets masked")
	}
}

func TestFieldDriftOnlyReleaseFields(t *testing.T) {
	t.Parallel()
	applied := obj(map[string]any{"metadata": map[string]any{"name": "d", "labels": map[string]any{"tier": "gold"}},
		"spec": map[string]any{"replicas": int64(2), "template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "a:1"}}}}}})
	live := obj(map[string]any{"metadata": map[string]any{"name": "d", "labels": map[string]any{"tier": "gold", "extra": "x"}, "uid": "u"},
		"spec": map[string]any{"replicas": float64(5), "paused": true, "template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "a:1", "imagePullPolicy": "Always"}}}}}})
	d := FieldDrift(applied, live, "kubectl-edit")
	if len(d) != 1 || d[0].Path != ".spec.replicas" || d[0].Release != "2" || d[0].Live != "5" || d[0].Managers != "kubectl-edit" {
		t.Fatalf("drift: %+v", d)
	}
}
