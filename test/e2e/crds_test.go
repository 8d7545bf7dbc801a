package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func gadgetCRD(group string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.` + group + `}
spec:
  group: ` + group + `
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string}}}
`
}

func gadget(group, name string) string {
	return "apiVersion: " + group + "/v1\nkind: Gadget\nmetadata: {name: " + name + "}\nspec: {size: 1}\n"
}

// Uninstall and prune keep CustomResourceDefinitions, saying how many custom resources of them
// exist; --delete-crds deletes them.
func TestCRDsKeptUnlessDeleteCRDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dc := testenv.Dynamic(t)
	group := "keep.crds.sherpack.io"
	t.Cleanup(func() { _ = dc.Resource(crdGVR).Delete(ctx, "gadgets."+group, metav1.DeleteOptions{}) })
	ns, other := testenv.Namespace(t), testenv.Namespace(t)
	dir := writeFiles(t, map[string]string{"crd.yaml": gadgetCRD(group), "cr.yaml": gadget(group, "mine")})
	mustSherpack(t, "install", "g", "-f", dir, "-n", ns)
	// A custom resource nobody's release holds, elsewhere in the cluster.
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gadgets"}
	cr := &unstructured.Unstructured{Object: map[string]any{"apiVersion": group + "/v1", "kind": "Gadget", "metadata": map[string]any{"name": "theirs"}, "spec": map[string]any{"size": int64(2)}}}
	if _, err := dc.Resource(gvr).Namespace(other).Create(ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Prune: the CRD leaves the release, the upgrade keeps it.
	up := mustSherpack(t, "upgrade", "g", "-f", writeFiles(t, map[string]string{"cr.yaml": gadget(group, "mine")}), "-n", ns, "--progress=plain")
	if _, err := dc.Resource(crdGVR).Get(ctx, "gadgets."+group, metav1.GetOptions{}); err != nil {
		t.Fatalf("prune must keep the CRD: %v\n%s", err, up.stderr)
	}
	if !strings.Contains(up.stderr, "2 gadgets."+group+" exist in the cluster") {
		t.Fatalf("prune must say it kept the CRD, with its custom resources counted:\n%s", up.stderr)
	}
	mustSherpack(t, "upgrade", "g", "-f", dir, "-n", ns)

	un := mustSherpack(t, "uninstall", "g", "-n", ns)
	if !strings.Contains(un.stdout, "kept CustomResourceDefinition/gadgets."+group+" (CustomResourceDefinitions are kept: 1 gadgets."+group+" exist in the cluster; --delete-crds deletes it and them)") {
		t.Fatalf("uninstall must keep the CRD and count what is left of it:\n%s", un.stdout)
	}
	if _, err := dc.Resource(gvr).Namespace(other).Get(ctx, "theirs", metav1.GetOptions{}); err != nil {
		t.Fatalf("a custom resource of another namespace must survive the uninstall: %v", err)
	}
	if _, err := dc.Resource(gvr).Namespace(ns).Get(ctx, "mine", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the release's own custom resource must be deleted: %v", err)
	}

	mustSherpack(t, "install", "g", "-f", dir, "-n", ns)
	mustSherpack(t, "uninstall", "g", "-n", ns, "--delete-crds", "--wait")
	if _, err := dc.Resource(crdGVR).Get(ctx, "gadgets."+group, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		if u, err2 := dc.Resource(crdGVR).Get(ctx, "gadgets."+group, metav1.GetOptions{}); err2 != nil || u.GetDeletionTimestamp() == nil {
			t.Fatalf("--delete-crds must delete the CRD: %v", err)
		}
	}
}
