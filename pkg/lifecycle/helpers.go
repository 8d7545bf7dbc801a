package lifecycle

import (
	"context"
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/health"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

func isNotReady(err error) bool {
	var nr *health.NotReadyError
	return errors.As(err, &nr)
}

// crdGroupKind reads the group, kind and first version a CRD defines.
func crdGroupKind(o *manifest.Object) (group, kind string) {
	group, _, _ = unstructured.NestedString(o.Object, "spec", "group")
	kind, _, _ = unstructured.NestedString(o.Object, "spec", "names", "kind")
	return group, kind
}

func crdVersion(o *manifest.Object) string {
	vs, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
	for _, v := range vs {
		if m, ok := v.(map[string]any); ok {
			if name, ok := m["name"].(string); ok {
				return name
			}
		}
	}
	return "v1"
}

func schemaGVK(group, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Kind: kind}
}

var getOpts = metav1.GetOptions{}

func parallel(n, limit int, f func(i int)) { apply.Parallel(n, limit, f) }

// crdsToApply keeps the CRDs of crds/ that are missing or already this release's. A CRD that
// exists and belongs to someone else (another release, or installed by hand) is left as it is,
// as Helm does with crds/: reported, not an error, never taken over.
func (c *Client) crdsToApply(ctx context.Context, crds []*manifest.Object, name, ns string) []*manifest.Object {
	var out []*manifest.Object
	for _, crd := range crds {
		ri, _, err := c.Apply.Resource(crd.DeepCopy(), ns)
		if err != nil {
			out = append(out, crd)
			continue
		}
		live, err := ri.Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			out = append(out, crd) // missing (or unreadable): apply, and let the apply say why not
			continue
		}
		l := live.GetLabels()
		if l[apply.LabelReleaseName] == name && l[apply.LabelReleaseNamespace] == ns {
			out = append(out, crd)
			continue
		}
		c.emit(name, Event{Type: "object", Name: crd.Key().String(), Action: "skipped", Detail: "exists already and is not this release's; crds/ are only installed when missing"})
	}
	return out
}
