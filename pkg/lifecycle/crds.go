package lifecycle

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

func isCRD(o *manifest.Object) bool {
	return o.GetKind() == "CustomResourceDefinition" && o.GroupVersionKind().Group == "apiextensions.k8s.io"
}

// splitCRDs separates the CustomResourceDefinitions from the rest: deleting one deletes every
// custom resource of its kind in the whole cluster, so uninstall and prune keep them unless
// --delete-crds is given.
func splitCRDs(objs []*manifest.Object) (crds, rest []*manifest.Object) {
	for _, o := range objs {
		if isCRD(o) {
			crds = append(crds, o)
		} else {
			rest = append(rest, o)
		}
	}
	return crds, rest
}

// keepCRDs reports each CRD as kept, with how many custom resources of it exist (one metadata
// list across all namespaces).
func (c *Client) keepCRDs(ctx context.Context, release string, crds []*manifest.Object) []apply.DeleteResult {
	out := make([]apply.DeleteResult, len(crds))
	parallel(len(crds), 8, func(i int) {
		crd := crds[i]
		reason := "CustomResourceDefinitions are kept"
		switch n, err := c.countCustomResources(ctx, crd); {
		case err != nil:
			reason += fmt.Sprintf(" (custom resources not counted: %v)", err)
		default:
			reason += fmt.Sprintf(": %d %s exist in the cluster; --delete-crds deletes it and them", n, plural(crd))
		}
		out[i] = apply.DeleteResult{Key: crd.Key(), Action: "kept", Reason: reason}
		c.emit(release, Event{Type: "object", Name: crd.Key().String(), Action: "kept", Detail: reason})
	})
	return out
}

func plural(crd *manifest.Object) string {
	p, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	g, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	return p + "." + g
}

// countCustomResources counts the custom resources of a CRD in every namespace, in the version
// it stores (a metadata list: names and labels only).
func (c *Client) countCustomResources(ctx context.Context, crd *manifest.Object) (int, error) {
	g, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	p, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	gvr := schema.GroupVersionResource{Group: g, Version: storageVersion(crd), Resource: p}
	list, err := c.Apply.Metadata.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// storageVersion is the CRD's stored version (else its first served one).
func storageVersion(crd *manifest.Object) string {
	vs, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	first := ""
	for _, v := range vs {
		m, _ := v.(map[string]any)
		name, _ := m["name"].(string)
		if st, _ := m["storage"].(bool); st {
			return name
		}
		if served, _ := m["served"].(bool); served && first == "" {
			first = name
		}
	}
	if first == "" {
		first = "v1"
	}
	return first
}
