package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/retry"
)

// DeleteResult says what happened to one object.
type DeleteResult struct {
	Key    manifest.Key
	Action string // deleted, kept (resource-policy keep), gone (already absent), skipped (not ours), unknown-kind
	Reason string
	uid    types.UID // of the object deleted, so that a new one of the same name is not waited for
}

// DeleteOptions of Delete.
type DeleteOptions struct {
	ReleaseName, ReleaseNamespace string
	DryRun                        bool
	// Wait until the objects are gone (finalizers done), up to the context's deadline.
	Wait    bool
	Observe func(Event)
	// Action names what is done in events: deleted (uninstall) or pruned (upgrade).
	Action string
}

// Delete removes objects in reverse plan order, one step at a time (objects of a step in
// parallel). Objects with resource-policy keep, objects that no longer carry this release's
// labels, and objects whose kind the API no longer serves are left and reported. What is there
// is read first as metadata, one list per resource and namespace (or a few gets), not one read
// per object.
func (c *Client) Delete(ctx context.Context, objs []*manifest.Object, o DeleteOptions) ([]DeleteResult, error) {
	if o.Action == "" {
		o.Action = "deleted"
	}
	plan, err := BuildPlan(objs)
	if err != nil {
		return nil, err
	}
	var results []DeleteResult
	for i := len(plan.Steps) - 1; i >= 0; i-- {
		step := plan.Steps[i].Objects
		res := make([]DeleteResult, len(step))
		errs := make([]error, len(step))
		targets := make([]*manifest.Object, len(step)) // nil: nothing to delete
		var read []*manifest.Object
		for j, obj := range step {
			res[j].Key = obj.Key()
			ann, err := manifest.ParseAnnotations(obj)
			if err != nil {
				errs[j] = err
				continue
			}
			if ann.Keep {
				res[j].Action, res[j].Reason = "kept", "resource-policy keep"
				c.emit(o, Event{Key: res[j].Key, Action: "kept"})
				continue
			}
			cp := &manifest.Object{Unstructured: obj.DeepCopy(), Source: obj.Source, Line: obj.Line}
			if _, _, err := c.Resource(cp.Unstructured, o.ReleaseNamespace); err != nil {
				var unknown *UnknownKindError
				if errors.As(err, &unknown) {
					res[j].Action, res[j].Reason = "unknown-kind", err.Error()
					continue
				}
				errs[j] = fmt.Errorf("%s: %w", res[j].Key, err)
				continue
			}
			targets[j] = cp
			read = append(read, cp)
		}
		if err := errors.Join(errs...); err != nil {
			return append(results, res...), err
		}
		live, err := c.existing(ctx, read, Options{})
		if err != nil {
			return append(results, res...), err
		}
		c.parallel(len(step), 16, func(j int) {
			if targets[j] != nil {
				res[j], errs[j] = c.deleteOne(ctx, targets[j], res[j].Key, live[targets[j].Key()], o)
			}
		})
		results = append(results, res...)
		if err := errors.Join(errs...); err != nil {
			return results, err
		}
		if o.Wait && !o.DryRun {
			if err := c.waitGone(ctx, targets, res); err != nil {
				return results, err
			}
		}
	}
	return results, nil
}

// deleteOne deletes obj (namespace set) if live says it is there and still this release's;
// the UID precondition makes sure that what is deleted is what was read.
func (c *Client) deleteOne(ctx context.Context, obj *manifest.Object, k manifest.Key, live *metav1.PartialObjectMetadata, o DeleteOptions) (DeleteResult, error) {
	if live == nil {
		return DeleteResult{Key: k, Action: "gone"}, nil
	}
	if live.Labels[LabelReleaseName] != o.ReleaseName || live.Labels[LabelReleaseNamespace] != o.ReleaseNamespace {
		return DeleteResult{Key: k, Action: "skipped", Reason: "no longer belongs to this release"}, nil
	}
	ri, _, err := c.Resource(obj.Unstructured, o.ReleaseNamespace)
	if err != nil {
		return DeleteResult{Key: k}, err
	}
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptr(live.UID)}}
	if o.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	bg := metav1.DeletePropagationBackground
	opts.PropagationPolicy = &bg
	if err := ri.Delete(ctx, obj.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
		return DeleteResult{Key: k}, fmt.Errorf("delete %s: %w", k, err)
	}
	c.emit(o, Event{Key: k, Action: o.Action})
	return DeleteResult{Key: k, Action: "deleted", uid: live.UID}, nil
}

func (c *Client) emit(o DeleteOptions, ev Event) {
	if o.Observe != nil {
		o.Observe(ev)
	}
}

func ptr[T any](v T) *T { return &v }

// waitGone returns when every object of a step that was deleted has disappeared (or been
// replaced by another of the same name), reading one metadata list per resource and namespace
// every half second; the context bounds it.
func (c *Client) waitGone(ctx context.Context, objs []*manifest.Object, res []DeleteResult) error {
	type group struct {
		gvr  schema.GroupVersionResource
		ns   string
		uids map[string]types.UID // name -> UID deleted
		keys map[string]manifest.Key
	}
	groups := map[string]*group{}
	for i, obj := range objs {
		if obj == nil || res[i].Action != "deleted" {
			continue
		}
		m, err := c.Mapping(obj.GroupVersionKind())
		if err != nil {
			continue
		}
		gk := m.Resource.String() + "|" + obj.GetNamespace()
		g := groups[gk]
		if g == nil {
			g = &group{gvr: m.Resource, ns: obj.GetNamespace(), uids: map[string]types.UID{}, keys: map[string]manifest.Key{}}
			groups[gk] = g
		}
		g.uids[obj.GetName()], g.keys[obj.GetName()] = res[i].uid, res[i].Key
	}
	for len(groups) > 0 {
		for gk, g := range groups {
			list, err := c.Metadata.Resource(g.gvr).Namespace(g.ns).List(ctx, metav1.ListOptions{})
			if err != nil && !retry.Transient(err) {
				return fmt.Errorf("list %s in %q: %w", g.gvr.Resource, g.ns, err)
			}
			if err != nil {
				continue // busy or unreachable: look again
			}
			left := map[string]types.UID{}
			for _, it := range list.Items {
				if uid, ok := g.uids[it.Name]; ok && (uid == "" || uid == it.UID) {
					left[it.Name] = uid
				}
			}
			g.uids = left
			if len(left) == 0 {
				delete(groups, gk)
			}
		}
		if len(groups) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var still []string
			for _, g := range groups {
				for name := range g.uids {
					still = append(still, g.keys[name].String())
				}
			}
			sort.Strings(still)
			return fmt.Errorf("still there (finalizers?): %s: %w", strings.Join(still, ", "), ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}
