package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/diff"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// DiffDrift compares the deployed revision with the live cluster. Each object the release
// applied is sent again as a server-side dry run, and the fields the release owns in that
// answer are compared with the live object: only a value someone changed is drift, never a
// default, a field of another manager or a form the server normalises. An object still at the
// resourceVersion the release left it at is not looked at further: nobody wrote to it. Objects
// deleted by hand are reported; with AllFields, every difference between what the release
// applied and the live object is shown as well (defaults included).
func (c *Client) DiffDrift(ctx context.Context, o DiffOptions) (*diff.Report, error) {
	rel, err := c.Store.LastDeployed(ctx, o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	objs, err := decodeManifest(rel)
	if err != nil {
		return nil, err
	}
	lv, err := c.liveObjects(ctx, objs, o.Namespace)
	if err != nil {
		return nil, err
	}
	changes := make([]diff.Change, len(objs))
	errs := make([]error, len(objs))
	parallel(len(objs), 16, func(i int) {
		ob := objs[i]
		k := normKey(ob, o.Namespace)
		ch := diff.Change{Key: k, Object: k.String(), Type: diff.Unchanged}
		defer func() { changes[i] = ch }()
		if e := lv.missing[k]; e != nil {
			ch.Type, ch.Diff = diff.Deleted, e.Error()
			return
		}
		live := lv.objects[k]
		if live == nil {
			ch.Type = diff.Deleted
			return
		}
		if o.AllFields {
			// Every difference between what the release applied and what is stored, defaults too.
			f, t := diff.Mask(diff.Clean(ob.Unstructured), diff.Clean(live), o.ShowSecrets)
			ch.Diff, _ = diff.Unified(f, t, "release", "live", o.Context)
			if ch.Diff != "" {
				ch.Type = diff.Changed
			}
		}
		if rel.Applied[k.String()] != "" && rel.Applied[k.String()] == live.GetResourceVersion() {
			return // nobody wrote to it since the release applied it
		}
		want, err := c.dryRunApplied(ctx, ob, o)
		if err != nil {
			errs[i] = err
			return
		}
		if ch.Drift, errs[i] = diff.OwnedDrift(want, live, apply.FieldManager, o.ShowSecrets); len(ch.Drift) > 0 {
			ch.Type = diff.Changed
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rep := &diff.Report{Changes: changes}
	sortChanges(rep.Changes)
	return rep, nil
}

// dryRunApplied is the server's answer to applying ob again (labelled as the release labels
// it, taking back fields others took): what the release's fields look like once stored.
func (c *Client) dryRunApplied(ctx context.Context, ob *manifest.Object, o DiffOptions) (*unstructured.Unstructured, error) {
	desired := ob.DeepCopy()
	apply.Label(desired, o.Name, o.Namespace)
	want, err := c.Apply.Apply(ctx, desired, o.Namespace, apply.ApplyOptions{DryRun: true, Force: true})
	if err != nil {
		return nil, fmt.Errorf("%s: dry-run apply of what the release applied: %w", normKey(ob, o.Namespace), err)
	}
	return want, nil
}

// driftOf is the drift of one object in diff upgrade: nothing if the object is still at the
// resourceVersion the release left; else the owned fields of a dry run of what the release last
// applied, compared with the live object. When the new object is what was applied, the dry run
// of the new one (result) serves.
func (c *Client) driftOf(ctx context.Context, prev *manifest.Object, desired, result, live *unstructured.Unstructured, appliedRV string, o DiffOptions) ([]diff.Drift, error) {
	if appliedRV != "" && appliedRV == live.GetResourceVersion() {
		return nil, nil
	}
	want := result
	old := prev.DeepCopy()
	apply.Label(old, o.Name, o.Namespace)
	if old.GetNamespace() == "" {
		old.SetNamespace(desired.GetNamespace())
	}
	if want == nil || !equality.Semantic.DeepEqual(old.Object, desired.Object) {
		var err error
		if want, err = c.dryRunApplied(ctx, prev, o); err != nil {
			return nil, err
		}
	}
	return diff.OwnedDrift(want, live, apply.FieldManager, o.ShowSecrets)
}

// live is what the cluster holds of a set of objects.
type live struct {
	objects map[manifest.Key]*unstructured.Unstructured
	missing map[manifest.Key]error // kind not served
}

// liveObjects reads objects as they are: one list per resource and namespace when many
// objects share it, parallel gets when few do. Keys carry the release namespace for objects
// that name none.
func (c *Client) liveObjects(ctx context.Context, objs []*manifest.Object, ns string) (*live, error) {
	out := &live{objects: map[manifest.Key]*unstructured.Unstructured{}, missing: map[manifest.Key]error{}}
	type group struct {
		names map[string]manifest.Key
		objs  []*manifest.Object
	}
	type key struct{ res, ns string }
	groups := map[key]*group{}
	var order []key
	for _, ob := range objs {
		k := normKey(ob, ns)
		cp := ob.DeepCopy()
		_, m, err := c.Apply.Resource(cp, ns)
		if err != nil {
			out.missing[k] = err
			continue
		}
		gk := key{m.Resource.String(), ""}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			gk.ns = cp.GetNamespace()
		}
		g := groups[gk]
		if g == nil {
			g = &group{names: map[string]manifest.Key{}}
			groups[gk] = g
			order = append(order, gk)
		}
		g.names[cp.GetName()] = k
		g.objs = append(g.objs, &manifest.Object{Unstructured: cp, Source: ob.Source})
	}
	var mu sync.Mutex
	var errs []error
	var jobs []func()
	for _, gk := range order {
		g := groups[gk]
		first := g.objs[0]
		ri, _, _ := c.Apply.Resource(first.Unstructured, ns)
		if len(g.objs) > 4 {
			jobs = append(jobs, func() {
				list, err := ri.List(ctx, metav1.ListOptions{})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if !apierrors.IsNotFound(err) {
						errs = append(errs, fmt.Errorf("list %s in %q: %w", gk.res, gk.ns, err))
					}
					return
				}
				for i := range list.Items {
					if k, ok := g.names[list.Items[i].GetName()]; ok {
						out.objects[k] = &list.Items[i]
					}
				}
			})
			continue
		}
		for _, ob := range g.objs {
			jobs = append(jobs, func() {
				u, err := ri.Get(ctx, ob.GetName(), metav1.GetOptions{})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case apierrors.IsNotFound(err):
				case err != nil:
					errs = append(errs, fmt.Errorf("read %s: %w", g.names[ob.GetName()], err))
				default:
					out.objects[g.names[ob.GetName()]] = u
				}
			})
		}
	}
	parallel(len(jobs), 16, func(i int) { jobs[i]() })
	return out, errors.Join(errs...)
}
