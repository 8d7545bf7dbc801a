package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// Labels that tie an applied object to its release.
const (
	LabelManagedBy        = "app.kubernetes.io/managed-by"
	LabelReleaseName      = "sherpack.io/release-name"
	LabelReleaseNamespace = "sherpack.io/release-namespace"
	ManagedByValue        = "sherpack"
)

// Options of an apply.
type Options struct {
	ReleaseName, ReleaseNamespace string
	// Force takes fields other managers own (--force-conflicts).
	Force bool
	// TakeOwnership adopts objects that exist without belonging to this release.
	TakeOwnership bool
	// DryRun sends everything with dryRun=All: admission and validation run, nothing is stored.
	DryRun bool
	// Concurrency bounds parallel requests (default 16).
	Concurrency int
	// Observe, if set, is told about every object as it is applied.
	Observe func(Event)
}

// Event is one object's progress.
type Event struct {
	Key    manifest.Key
	Action string // applying, created, configured, unchanged, failed, deleting, deleted, pruned, kept
	Err    error
}

// Result of applying one object.
type Result struct {
	Key    manifest.Key
	Action string // created, configured, unchanged (with DryRun: would be)
	Live   *unstructured.Unstructured
}

// OwnershipError: the object exists and belongs to someone else.
type OwnershipError struct {
	Key   manifest.Key
	Owner string
}

func (e *OwnershipError) Error() string {
	return fmt.Sprintf("%s already exists and %s; it is not taken over. Re-run with --take-ownership to adopt it into this release", e.Key, e.Owner)
}

// ConflictError: other field managers own fields the release sets.
type ConflictError struct {
	Key       manifest.Key
	Conflicts []FieldConflict
	Release   string
	Namespace string
}

// FieldConflict is one field and who owns it.
type FieldConflict struct {
	Field, Manager string
}

func (e *ConflictError) Error() string {
	var parts []string
	for _, c := range e.Conflicts {
		parts = append(parts, fmt.Sprintf("field manager %q on %s", c.Manager, c.Field))
	}
	return fmt.Sprintf("%s: conflict with %s.\nThe release wants to set what was changed by another manager. Re-run with --force-conflicts to take it back, or see the drift with: kubectl sherpack diff drift %s -n %s",
		e.Key, strings.Join(parts, ", "), e.Release, e.Namespace)
}

func (o Options) concurrency() int {
	if o.Concurrency <= 0 {
		return 32
	}
	return o.Concurrency
}

func (o Options) observe(ev Event) {
	if o.Observe != nil {
		o.Observe(ev)
	}
}

// Label marks an object as part of the release.
func Label(obj *unstructured.Unstructured, release, namespace string) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[LabelManagedBy] = ManagedByValue
	l[LabelReleaseName] = release
	l[LabelReleaseNamespace] = namespace
	obj.SetLabels(l)
}

// ApplyStep applies objects of one plan step in parallel (bounded), after checking that none
// belongs to someone else. Objects are modified in place: labels, and the default namespace.
func (c *Client) ApplyStep(ctx context.Context, objs []*manifest.Object, o Options) ([]Result, error) {
	for _, obj := range objs {
		Label(obj.Unstructured, o.ReleaseName, o.ReleaseNamespace)
		if _, _, err := c.Resource(obj.Unstructured, o.ReleaseNamespace); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", obj.Key(), obj.Source, err)
		}
	}
	existing, err := c.existing(ctx, objs, o)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, obj := range objs {
		if cur, ok := existing[obj.Key()]; ok {
			if err := checkOwner(obj.Key(), cur, o); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	results := make([]Result, len(objs))
	errList := make([]error, len(objs))
	c.parallel(len(objs), o.concurrency(), func(i int) {
		obj := objs[i]
		o.observe(Event{Key: obj.Key(), Action: "applying"})
		live, err := c.Apply(ctx, obj.Unstructured, o.ReleaseNamespace, ApplyOptions{DryRun: o.DryRun, Force: o.Force})
		if err != nil {
			err = explain(obj, err, o)
			errList[i] = err
			o.observe(Event{Key: obj.Key(), Action: "failed", Err: err})
			return
		}
		action := "created"
		if cur, ok := existing[obj.Key()]; ok {
			action = "configured"
			if o.DryRun {
				// A dry run does not move the resourceVersion: compare with what is stored.
				if same, err := c.sameAsStored(ctx, obj, live); err == nil && same {
					action = "unchanged"
				}
			} else if cur.GetResourceVersion() == live.GetResourceVersion() {
				action = "unchanged"
			}
		}
		results[i] = Result{Key: obj.Key(), Action: action, Live: live}
		o.observe(Event{Key: obj.Key(), Action: action})
	})
	c.knownMu.Lock()
	for _, obj := range objs {
		delete(c.known, obj.Key()) // applied: what was read before is stale now
	}
	c.knownMu.Unlock()
	if err := errors.Join(errList...); err != nil {
		return results, err
	}
	if !o.DryRun {
		if err := c.awaitCRDs(ctx, objs); err != nil {
			return results, err
		}
	}
	return results, nil
}

func (c *Client) parallel(n, limit int, f func(i int)) { Parallel(n, limit, f) }

// Parallel runs f(0..n-1) with at most limit at a time, and returns when all are done.
func Parallel(n, limit int, f func(i int)) {
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

// existing reads what is there already: one metadata list per resource and namespace when a
// step holds many objects of it, parallel metadata gets when it holds few.
func (c *Client) existing(ctx context.Context, objs []*manifest.Object, o Options) (map[manifest.Key]*metav1.PartialObjectMetadata, error) {
	type group struct {
		gvr  schema.GroupVersionResource
		ns   string
		objs []*manifest.Object
	}
	groups := map[string]*group{}
	var order []string
	for _, obj := range objs {
		m, err := c.Mapping(obj.GroupVersionKind())
		if err != nil {
			return nil, err
		}
		ns := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = obj.GetNamespace()
		}
		k := m.Resource.String() + "|" + ns
		if groups[k] == nil {
			groups[k] = &group{gvr: m.Resource, ns: ns}
			order = append(order, k)
		}
		groups[k].objs = append(groups[k].objs, obj)
	}
	out := map[manifest.Key]*metav1.PartialObjectMetadata{}
	// What Preflight read a moment ago need not be read again.
	c.knownMu.Lock()
	for _, k := range order {
		g := groups[k]
		var rest []*manifest.Object
		for _, obj := range g.objs {
			if m, ok := c.known[obj.Key()]; ok {
				if m != nil {
					out[obj.Key()] = m
				}
				continue
			}
			rest = append(rest, obj)
		}
		g.objs = rest
	}
	c.knownMu.Unlock()
	var mu sync.Mutex
	var errs []error
	var jobs []func()
	for _, k := range order {
		g := groups[k]
		if len(g.objs) == 0 {
			continue
		}
		if len(g.objs) > 4 {
			jobs = append(jobs, func() {
				list, err := c.Metadata.Resource(g.gvr).Namespace(g.ns).List(ctx, metav1.ListOptions{})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if apierrors.IsNotFound(err) && g.ns != "" {
						return // the namespace does not exist yet
					}
					errs = append(errs, fmt.Errorf("list %s in %q: %w", g.gvr.Resource, g.ns, err))
					return
				}
				want := map[string]*manifest.Object{}
				for _, obj := range g.objs {
					want[obj.GetName()] = obj
				}
				for i := range list.Items {
					if obj, ok := want[list.Items[i].Name]; ok {
						out[obj.Key()] = &list.Items[i]
					}
				}
			})
			continue
		}
		for _, obj := range g.objs {
			jobs = append(jobs, func() {
				m, err := c.Metadata.Resource(g.gvr).Namespace(g.ns).Get(ctx, obj.GetName(), metav1.GetOptions{})
				mu.Lock()
				defer mu.Unlock()
				if apierrors.IsNotFound(err) {
					return
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("read %s: %w", obj.Key(), err))
					return
				}
				out[obj.Key()] = m
			})
		}
	}
	c.parallel(len(jobs), o.concurrency(), func(i int) { jobs[i]() })
	return out, errors.Join(errs...)
}

func checkOwner(k manifest.Key, cur *metav1.PartialObjectMetadata, o Options) error {
	if o.TakeOwnership {
		return nil
	}
	l := cur.GetLabels()
	rel, relNS := l[LabelReleaseName], l[LabelReleaseNamespace]
	if rel == o.ReleaseName && relNS == o.ReleaseNamespace {
		return nil
	}
	if rel != "" {
		return &OwnershipError{Key: k, Owner: fmt.Sprintf("belongs to release %s in namespace %s", rel, relNS)}
	}
	owner := "belongs to no sherpack release"
	if h := cur.GetAnnotations()["meta.helm.sh/release-name"]; h != "" {
		owner = fmt.Sprintf("belongs to Helm release %s", h)
	} else if mgrs := managers(cur); len(mgrs) > 0 {
		owner += " (managed by " + strings.Join(mgrs, ", ") + ")"
	}
	return &OwnershipError{Key: k, Owner: owner}
}

func managers(m *metav1.PartialObjectMetadata) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range m.GetManagedFields() {
		if !seen[f.Manager] {
			seen[f.Manager] = true
			out = append(out, f.Manager)
		}
	}
	sort.Strings(out)
	return out
}

// explain turns an API error into one that names the object and what to do.
func explain(obj *manifest.Object, err error, o Options) error {
	var se apierrors.APIStatus
	if apierrors.IsConflict(err) && errors.As(err, &se) && se.Status().Details != nil {
		ce := &ConflictError{Key: obj.Key(), Release: o.ReleaseName, Namespace: o.ReleaseNamespace}
		for _, cause := range se.Status().Details.Causes {
			mgr := cause.Message
			if i := strings.Index(mgr, `"`); i >= 0 {
				if j := strings.Index(mgr[i+1:], `"`); j >= 0 {
					mgr = mgr[i+1 : i+1+j]
				}
			}
			ce.Conflicts = append(ce.Conflicts, FieldConflict{Field: cause.Field, Manager: mgr})
		}
		if len(ce.Conflicts) > 0 {
			return ce
		}
	}
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%s (%s): %w\nAsk for the rights above, or install into a namespace where you have them", obj.Key(), obj.Source, err)
	}
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		return fmt.Errorf("%s (%s) was refused by the API server: %w", obj.Key(), obj.Source, err)
	}
	return fmt.Errorf("%s (%s): %w", obj.Key(), obj.Source, err)
}

// awaitCRDs waits until the CRDs just applied are Established, then refreshes the mapper so that
// their custom resources can be applied in the next step.
func (c *Client) awaitCRDs(ctx context.Context, objs []*manifest.Object) error {
	var crds []*manifest.Object
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o)
		}
	}
	if len(crds) == 0 {
		return nil
	}
	wait := c.CRDWait
	if wait == 0 {
		wait = 60 * time.Second
	}
	if wait < 0 {
		c.ResetMapper()
		return nil
	}
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	deadline := time.Now().Add(wait)
	for _, crd := range crds {
		for {
			u, err := c.Dynamic.Resource(gvr).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err == nil && established(u) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CustomResourceDefinition %s not Established after %s (Pack.yaml crds.waitTimeout)", crd.GetName(), wait)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	c.ResetMapper()
	return nil
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// KnownResourceVersion is the resourceVersion Preflight read for an object ("" if absent or
// not read).
func (c *Client) KnownResourceVersion(k manifest.Key) string {
	c.knownMu.Lock()
	defer c.knownMu.Unlock()
	if m := c.known[k]; m != nil {
		return m.GetResourceVersion()
	}
	return ""
}

// Preflight checks, before anything is written, that every object's kind is served (or defined
// by a CRD of the same batch) and that no object belongs to someone else.
func (c *Client) Preflight(ctx context.Context, objs []*manifest.Object, o Options) error {
	defined := map[string]bool{}
	for _, obj := range objs {
		if obj.GetKind() == "CustomResourceDefinition" {
			g, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
			defined[g+"/"+k] = true
		}
	}
	var check []*manifest.Object
	var errs []error
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		if defined[gvk.Group+"/"+gvk.Kind] {
			continue
		}
		cp := &manifest.Object{Unstructured: obj.DeepCopy(), Source: obj.Source}
		if _, _, err := c.Resource(cp.Unstructured, o.ReleaseNamespace); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", obj.Key(), obj.Source, err))
			continue
		}
		check = append(check, cp)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	existing, err := c.existing(ctx, check, o)
	if err != nil {
		return err
	}
	c.knownMu.Lock()
	if c.known == nil {
		c.known = map[manifest.Key]*metav1.PartialObjectMetadata{}
	}
	for _, obj := range check {
		c.known[obj.Key()] = existing[obj.Key()] // nil: known to be absent
	}
	c.knownMu.Unlock()
	for _, obj := range check {
		if cur, ok := existing[obj.Key()]; ok {
			if err := checkOwner(obj.Key(), cur, o); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// sameAsStored tells whether a dry-run result equals the stored object, apart from the fields
// the server sets on every write.
func (c *Client) sameAsStored(ctx context.Context, obj *manifest.Object, result *unstructured.Unstructured) (bool, error) {
	ri, _, err := c.Resource(obj.DeepCopy(), obj.GetNamespace())
	if err != nil {
		return false, err
	}
	stored, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	a, b := stored.DeepCopy(), result.DeepCopy()
	for _, u := range []*unstructured.Unstructured{a, b} {
		u.SetManagedFields(nil)
		u.SetResourceVersion("")
		u.SetGeneration(0)
	}
	return equality.Semantic.DeepEqual(a.Object, b.Object), nil
}
