package lifecycle

import (
	"errors"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

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

func parallel(n, limit int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}
