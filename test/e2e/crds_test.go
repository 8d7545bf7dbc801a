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

func policyPack(t *testing.T, group, crdsBlock, crd, cr string) string {
	return writeFiles(t, map[string]string{
		"Pack.yaml":         "apiVersion: sherpack/v1\nmetadata: {name: gadgets, version: 1.0.0}\n" + crdsBlock,
		"values.yaml":       "{}\n",
		"crds/gadget.yaml":  crd,
		"templates/cr.yaml": cr,
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gadgets-config}\ndata: {group: " + group + "}\n",
	})
}

// Pack.yaml crds: is honoured. The safe strategy (the default) refuses a CRD change that removes
// a field existing custom resources set, or stops serving a version, saying which; force applies
// it. install: false leaves crds/ alone; uninstall.keep: false lets --delete-crds delete them,
// while the default keeps them even then.
func TestPackCRDPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dc := testenv.Dynamic(t)
	group := "policy.crds.sherpack.io"
	t.Cleanup(func() { _ = dc.Resource(crdGVR).Delete(ctx, "gadgets."+group, metav1.DeleteOptions{}) })
	ns := testenv.Namespace(t)
	cr := "apiVersion: " + group + "/v1\nkind: Gadget\nmetadata: {name: mine}\nspec: {size: 1, color: red}\n"
	full := gadgetCRD(group)
	noColor := strings.Replace(full, ", color: {type: string}", "", 1)
	mustSherpack(t, "install", "gp", policyPack(t, group, "", full, cr), "-n", ns)

	crNoColor := strings.Replace(cr, ", color: red", "", 1)
	r := expectExit(t, 3, "would remove field .spec.color, which Gadget/"+ns+"/mine sets", "upgrade", "gp", policyPack(t, group, "", noColor, crNoColor), "-n", ns)
	if !strings.Contains(r.stderr, "crds.upgrade.strategy: force") {
		t.Fatalf("the refusal must say how to go on:\n%s", r.stderr)
	}
	// A second served version, then a CRD without it: refused too.
	twoVersions := full + `  - name: v2
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string}}}
`
	mustSherpack(t, "upgrade", "gp", policyPack(t, group, "", twoVersions, cr), "-n", ns)
	expectExit(t, 3, "version v2 is served now and would no longer be (1 gadgets exist)", "upgrade", "gp", policyPack(t, group, "", full, cr), "-n", ns)
	mustSherpack(t, "upgrade", "gp", policyPack(t, group, "crds: {upgrade: {strategy: force}}\n", noColor, crNoColor), "-n", ns)
	u, err := dc.Resource(crdGVR).Get(ctx, "gadgets."+group, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vs, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
	props, _, _ := unstructured.NestedMap(vs[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec", "properties")
	if _, has := props["color"]; has {
		t.Fatalf("strategy force must apply the change: %v", props)
	}

	// The default keeps crds/ even with --delete-crds; uninstall.keep: false lets it delete them.
	un := mustSherpack(t, "uninstall", "gp", "-n", ns, "--delete-crds")
	if !strings.Contains(un.stdout, "kept CustomResourceDefinition/gadgets."+group+" (resource-policy keep)") {
		t.Fatalf("crds/ are kept by default (uninstall.keep), even with --delete-crds:\n%s", un.stdout)
	}
	mustSherpack(t, "install", "gp", policyPack(t, group, "crds: {uninstall: {keep: false}}\n", full, cr), "-n", ns)
	mustSherpack(t, "uninstall", "gp", "-n", ns, "--delete-crds", "--wait")
	if u, err := dc.Resource(crdGVR).Get(ctx, "gadgets."+group, metav1.GetOptions{}); err == nil && u.GetDeletionTimestamp() == nil {
		t.Fatal("uninstall.keep: false with --delete-crds must delete the CRD")
	}

	other := "noinstall.crds.sherpack.io"
	mustSherpack(t, "install", "ni", policyPack(t, other, "crds: {install: false}\n", gadgetCRD(other), ""), "-n", ns)
	if _, err := dc.Resource(crdGVR).Get(ctx, "gadgets."+other, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		_ = dc.Resource(crdGVR).Delete(ctx, "gadgets."+other, metav1.DeleteOptions{})
		t.Fatalf("crds.install: false must not install crds/: %v", err)
	}
}
