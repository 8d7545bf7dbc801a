package diff

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func withFields(obj map[string]any, entries ...metav1.ManagedFieldsEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: obj}
	u.SetManagedFields(entries)
	return u
}

func entry(manager string, op metav1.ManagedFieldsOperationType, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)}
}

const deployFields = `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:name":{},"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}`

func deployment(replicas int64, envA string, extra map[string]any) map[string]any {
	c := map[string]any{"name": "web", "env": []any{map[string]any{"name": "A", "value": envA}}, "imagePullPolicy": "Always"}
	for k, v := range extra {
		c[k] = v
	}
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"app": "web"}},
		"spec":     map[string]any{"replicas": replicas, "template": map[string]any{"spec": map[string]any{"containers": []any{c}}}}}
}

func TestOwnedDriftComparesOnlyOwnedFields(t *testing.T) {
	want := withFields(deployment(2, "x", nil), entry("sherpack", metav1.ManagedFieldsOperationApply, deployFields))
	// Defaults and another manager's field differ: not drift.
	live := withFields(deployment(2, "x", map[string]any{"terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent"}),
		entry("sherpack", metav1.ManagedFieldsOperationApply, deployFields))
	if d, err := OwnedDrift(want, live, "sherpack", false); err != nil || len(d) != 0 {
		t.Fatalf("fields the release does not own must not drift: %v %v", d, err)
	}
	// Two owned fields changed by others: two drifts, naming them.
	live = withFields(deployment(5, "y", nil),
		entry("sherpack", metav1.ManagedFieldsOperationApply, deployFields),
		entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:replicas":{}}}`),
		entry("kubectl-set", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:env":{"k:{\"name\":\"A\"}":{"f:value":{}}}}}}}}}`))
	d, err := OwnedDrift(want, live, "sherpack", false)
	if err != nil || len(d) != 2 {
		t.Fatalf("want 2 drifts, got %v %v", d, err)
	}
	if d[0].Path != ".spec.replicas" || d[0].Release != "2" || d[0].Live != "5" || d[0].Managers != "kubectl-edit" {
		t.Errorf("replicas drift: %+v", d[0])
	}
	if d[1].Path != ".spec.template.spec.containers[name=web].env[name=A].value" || d[1].Live != "y" || d[1].Managers != "kubectl-set" {
		t.Errorf("env drift: %+v", d[1])
	}
	// An owned list item deleted by hand is one drift, not one per field it held.
	gone := deployment(2, "x", nil)
	gone["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"] = []any{}
	d, _ = OwnedDrift(want, withFields(gone), "sherpack", false)
	if len(d) != 1 || d[0].Path != ".spec.template.spec.containers[name=web].env[name=A]" || d[0].Live != "(unset)" {
		t.Errorf("a deleted env var: %+v", d)
	}
}

func TestOwnedDriftSecretStringDataIsData(t *testing.T) {
	fields := `{"f:stringData":{"f:password":{}},"f:type":{}}`
	secret := func(pw string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "type": "Opaque",
			"data": map[string]any{"password": pw}}
	}
	want := withFields(secret("aHVudGVyMg=="), entry("sherpack", metav1.ManagedFieldsOperationApply, fields))
	if d, _ := OwnedDrift(want, withFields(secret("aHVudGVyMg==")), "sherpack", false); len(d) != 0 {
		t.Fatalf("stringData folded into data is not drift: %v", d)
	}
	d, _ := OwnedDrift(want, withFields(secret("bGV0bWVpbg==")), "sherpack", false)
	if len(d) != 1 || d[0].Path != ".data.password" || strings.Contains(d[0].Release+d[0].Live, "aHVudGVy") || strings.Contains(d[0].Live, "bGV0") {
		t.Fatalf("a changed Secret value: one masked drift on .data.password, got %+v", d)
	}
	d, _ = OwnedDrift(want, withFields(secret("bGV0bWVpbg==")), "sherpack", true)
	if len(d) != 1 || d[0].Live != "bGV0bWVpbg==" {
		t.Fatalf("--show-secrets shows the value: %+v", d)
	}
}
