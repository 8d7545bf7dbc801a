package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// DeleteResult says what happened to one object.
type DeleteResult struct {
	Key    manifest.Key
	Action string // deleted, kept (resource-policy keep), gone (already absent), skipped (not ours), unknown-kind
	Reason string
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
// labels, and objects whose kind the API no longer serves are left and reported.
func (c *Client) Delete(ctx context.Context, objs []*manifest.Object, o DeleteOptions) ([]DeleteResult, error) {
	if o.Action == "" {
		o.Action = "deleted"
	}
	plan, err := BuildPlan(objs)
	if err != nil {
		return nil, err
	}
	var results []DeleteResult
	var errs []error
	for i := len(plan.Steps) - 1; i >= 0; i-- {
		step := plan.Steps[i].Objects
		res := make([]DeleteResult, len(step))
		stepErrs := make([]error, len(step))
		c.parallel(len(step), 16, func(j int) {
			res[j], stepErrs[j] = c.deleteOne(ctx, step[j], o)
		})
		results = append(results, res...)
		errs = append(errs, stepErrs...)
		if err := errors.Join(errs...); err != nil {
			return results, err
		}
		if o.Wait && !o.DryRun {
			if err := c.waitGone(ctx, step, res); err != nil {
				return results, err
			}
		}
	}
	return results, nil
}

func (c *Client) deleteOne(ctx context.Context, obj *manifest.Object, o DeleteOptions) (DeleteResult, error) {
	k := obj.Key()
	ann, err := manifest.ParseAnnotations(obj)
	if err != nil {
		return DeleteResult{Key: k}, err
	}
	if ann.Keep {
		c.emit(o, Event{Key: k, Action: "kept"})
		return DeleteResult{Key: k, Action: "kept", Reason: "resource-policy keep"}, nil
	}
	cp := obj.DeepCopy()
	ri, _, err := c.Resource(cp, o.ReleaseNamespace)
	if err != nil {
		// The kind is gone from the API (CRD removed, API version retired): report, go on.
		return DeleteResult{Key: k, Action: "unknown-kind", Reason: err.Error()}, nil
	}
	live, err := ri.Get(ctx, cp.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return DeleteResult{Key: k, Action: "gone"}, nil
	}
	if err != nil {
		return DeleteResult{Key: k}, fmt.Errorf("read %s: %w", k, err)
	}
	l := live.GetLabels()
	if l[LabelReleaseName] != o.ReleaseName || l[LabelReleaseNamespace] != o.ReleaseNamespace {
		return DeleteResult{Key: k, Action: "skipped", Reason: "no longer belongs to this release"}, nil
	}
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptr(live.GetUID())}}
	if o.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	bg := metav1.DeletePropagationBackground
	opts.PropagationPolicy = &bg
	if err := ri.Delete(ctx, cp.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
		return DeleteResult{Key: k}, fmt.Errorf("delete %s: %w", k, err)
	}
	c.emit(o, Event{Key: k, Action: o.Action})
	return DeleteResult{Key: k, Action: "deleted"}, nil
}

func (c *Client) emit(o DeleteOptions, ev Event) {
	if o.Observe != nil {
		o.Observe(ev)
	}
}

func ptr[T any](v T) *T { return &v }

// waitGone watches until every deleted object of a step has disappeared.
func (c *Client) waitGone(ctx context.Context, objs []*manifest.Object, res []DeleteResult) error {
	for i, obj := range objs {
		if res[i].Action != "deleted" {
			continue
		}
		cp := obj.DeepCopy()
		ri, _, err := c.Resource(cp, obj.GetNamespace())
		if err != nil {
			continue
		}
		w, err := ri.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + cp.GetName()})
		if err != nil {
			return err
		}
		// The object may be gone before the watch starts: check once.
		if _, err := ri.Get(ctx, cp.GetName(), metav1.GetOptions{}); apierrors.IsNotFound(err) {
			w.Stop()
			continue
		}
		gone := false
		for !gone {
			select {
			case <-ctx.Done():
				w.Stop()
				return fmt.Errorf("%s still exists (finalizers?): %w", obj.Key(), ctx.Err())
			case ev, ok := <-w.ResultChan():
				if !ok {
					if _, err := ri.Get(ctx, cp.GetName(), metav1.GetOptions{}); apierrors.IsNotFound(err) {
						gone = true
						break
					}
					w, err = ri.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + cp.GetName()})
					if err != nil {
						return err
					}
					continue
				}
				if ev.Type == watch.Deleted {
					gone = true
				}
			case <-time.After(5 * time.Second):
				if _, err := ri.Get(ctx, cp.GetName(), metav1.GetOptions{}); apierrors.IsNotFound(err) {
					gone = true
				}
			}
		}
		w.Stop()
	}
	return nil
}
