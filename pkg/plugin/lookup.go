package plugin

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// lookup reads live objects for templates: missing objects and refused reads give an empty
// mapping (as in Helm), so that a template can test for them.
func lookup(ctx context.Context, lc *lifecycle.Client) render.LookupFunc {
	if lc == nil || lc.Apply == nil {
		return nil
	}
	return func(apiVersion, kind, namespace, name string) (map[string]any, error) {
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return nil, err
		}
		m, err := lc.Apply.Mapping(gv.WithKind(kind))
		if err != nil {
			return map[string]any{}, nil
		}
		ri := lc.Apply.Dynamic.Resource(m.Resource).Namespace(namespace)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if name == "" {
			list, err := ri.List(ctx, metav1.ListOptions{})
			if err != nil {
				return map[string]any{"items": []any{}}, nil
			}
			items := make([]any, len(list.Items))
			for i := range list.Items {
				items[i] = list.Items[i].Object
			}
			return map[string]any{"items": items}, nil
		}
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			return map[string]any{}, nil
		}
		if err != nil {
			return nil, err
		}
		return u.Object, nil
	}
}
