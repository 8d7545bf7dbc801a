package lifecycle

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// orphanCandidates is everything that may belong to the release in the cluster, for an upgrade,
// rollback or uninstall to delete what its new state no longer has: what the latest and the last
// deployed revisions had, what every revision after the last deployed one had (failed upgrades
// in a row each created something), and the live objects that carry the release's labels, of
// the kinds of all these and of also (the new revision's objects). Hooks are not swept: their
// delete policies decide.
func (c *Client) orphanCandidates(ctx context.Context, name, ns string, latest, lastDeployed *releases.Release, also []*manifest.Object, stored revisionObjects) ([]*manifest.Object, error) {
	objs, err := pruneCandidates(latest, lastDeployed, stored)
	if err != nil {
		return nil, err
	}
	hist, err := c.Store.History(ctx, ns, name)
	if err != nil && !releases.IsNotFound(err) {
		return nil, err
	}
	from := 0
	if lastDeployed != nil {
		from = lastDeployed.Revision
	}
	for _, m := range hist {
		if m.Revision <= from || (latest != nil && m.Revision == latest.Revision) || m.State == releases.StateUninstalled {
			continue
		}
		r, err := c.Store.Get(ctx, ns, name, m.Revision)
		if err != nil {
			return nil, err
		}
		more, err := decodeManifest(r)
		if err != nil {
			return nil, err
		}
		objs = append(objs, more...)
	}
	like := append(append([]*manifest.Object{}, objs...), also...)
	if latest != nil {
		like = append(like, kindStubs(latest.SweepKinds)...)
	}
	labelled, err := c.labelled(ctx, name, ns, like)
	if err != nil {
		return nil, err
	}
	return append(objs, labelled...), nil
}

// labelled lists the live objects carrying the release's labels, of the kinds (and, for
// namespaced kinds, in the namespaces) of like. Kinds the cluster does not serve are skipped.
func (c *Client) labelled(ctx context.Context, name, ns string, like []*manifest.Object) ([]*manifest.Object, error) {
	if c.Apply == nil || c.Apply.Metadata == nil {
		return nil, nil
	}
	type where struct {
		gvr   schema.GroupVersionResource
		gvk   schema.GroupVersionKind
		ns    string
		scope bool // namespaced
	}
	seen := map[string]where{}
	for _, o := range like {
		gvk := o.GroupVersionKind()
		m, err := c.Apply.Mapping(gvk)
		if err != nil {
			continue
		}
		w := where{gvr: m.Resource, gvk: m.GroupVersionKind, scope: m.Scope.Name() == meta.RESTScopeNameNamespace}
		if w.scope {
			w.ns = normKey(o, ns).Namespace
		}
		seen[w.gvr.String()+"|"+w.ns] = w
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sel := fmt.Sprintf("%s=%s,%s=%s", apply.LabelReleaseName, name, apply.LabelReleaseNamespace, ns)
	var out []*manifest.Object
	for _, k := range keys {
		w := seen[k]
		ri := c.Apply.Metadata.Resource(w.gvr)
		var list *metav1.PartialObjectMetadataList
		var err error
		if w.scope {
			list, err = ri.Namespace(w.ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
		} else {
			list, err = ri.List(ctx, metav1.ListOptions{LabelSelector: sel})
		}
		if err != nil {
			return nil, fmt.Errorf("list %s labelled as release %s (to sweep what failed operations left): %w", w.gvr.Resource, name, err)
		}
		for _, it := range list.Items {
			if w.gvk.Group == "" && w.gvk.Kind == "Namespace" && it.Name == ns {
				// The release's own namespace carries its labels when --create-namespace made it;
				// it is the release's to delete only when a revision's manifest holds it, and
				// those are candidates already. Found by label alone, it is never swept.
				continue
			}
			a := it.GetAnnotations()
			if _, hook := a[manifest.AnnHook]; hook {
				continue
			}
			if _, hook := a["helm.sh/hook"]; hook {
				continue
			}
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(w.gvk)
			u.SetName(it.Name)
			u.SetNamespace(it.Namespace)
			u.SetLabels(it.GetLabels())
			u.SetAnnotations(a)
			out = append(out, &manifest.Object{Unstructured: u, Source: "cluster (labelled " + sel + ")"})
		}
	}
	return out, nil
}

// sweepKinds is what a new revision carries for the next operation to sweep: the kinds of the
// candidates it prunes and of what its predecessor carried (see releases.Release.SweepKinds).
func sweepKinds(latest *releases.Release, candidates []*manifest.Object) []string {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	if latest != nil {
		for _, k := range latest.SweepKinds {
			add(k)
		}
	}
	for _, o := range candidates {
		add(o.GetAPIVersion() + "|" + o.GetKind() + "|" + o.GetNamespace())
	}
	sort.Strings(out)
	return out
}

// kindStubs turns SweepKinds back into objects that name a kind and a namespace.
func kindStubs(kinds []string) []*manifest.Object {
	var out []*manifest.Object
	for _, k := range kinds {
		parts := strings.SplitN(k, "|", 3)
		if len(parts) != 3 {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(parts[0])
		u.SetKind(parts[1])
		u.SetNamespace(parts[2])
		out = append(out, &manifest.Object{Unstructured: u})
	}
	return out
}
