package helmimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// DefaultHelmManagers are the field managers taken as Helm's: Helm names its field manager
// after its binary, "helm". Any manager whose name starts with "helm" is taken as Helm's too
// (a renamed binary: helm4, helm-v4.3.1).
var DefaultHelmManagers = []string{"helm"}

// Takeover moves live objects from Helm to sherpack without changing them: the release labels
// are added and the fields the release sets are claimed by sherpack's field manager, then
// Helm's field managers are removed from managedFields. Nothing but labels and managedFields
// changes: a server dry run proves it before anything is written.
type Takeover struct {
	Client             *apply.Client
	Release, Namespace string
	// Managers are field managers taken as Helm's, beyond DefaultHelmManagers (--helm-field-manager).
	Managers []string
	// DryRun sends only server dry runs: nothing is written.
	DryRun bool
}

// ObjectResult is what the takeover did (or would do) to one object.
type ObjectResult struct {
	Key    manifest.Key `json:"-"`
	Object string       `json:"object"`
	// Action: taken-over, would-take-over, already (nothing to do), missing (not in the cluster).
	Action string `json:"action"`
	// Hook tells that the object is a hook of the release, not one of its objects.
	Hook bool `json:"hook,omitempty"`
	// Labels are the labels set ("key=value", "key=value (was X)").
	Labels []string `json:"labels,omitempty"`
	// ManagersRemoved are Helm's managedFields entries removed ("helm (Apply)").
	ManagersRemoved []string `json:"managersRemoved,omitempty"`
	// ResourceVersion is the object's after the takeover.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// InSync tells that the live object holds exactly what the release's manifest sets.
	InSync bool `json:"inSync"`
	// SharedWith are the other field managers that own fields the release sets too, with some
	// of those fields: an upgrade that changes them conflicts with them.
	SharedWith []string `json:"sharedWith,omitempty"`
}

// isHelm tells whether a field manager is Helm's.
func (t *Takeover) isHelm(name string) bool {
	if strings.HasPrefix(strings.ToLower(name), "helm") {
		return true
	}
	for _, m := range t.Managers {
		if m == name {
			return true
		}
	}
	return false
}

// Item is one object to take over.
type Item struct {
	// Object is the object as the latest revision has it, what Helm applied last: the takeover
	// claims the fields it sets.
	Object *manifest.Object
	// Base is the object as the revision recorded as applied has it (nil when that revision does
	// not have it): the object is in sync when it holds exactly that.
	Base *manifest.Object
	// Hook tells that the object is a hook Helm left in the cluster.
	Hook bool
}

// Run takes the objects over. Every object is checked first (read, owner, server dry run of the
// takeover): when any check fails, nothing at all is written. Then each object is taken over,
// in parallel. Objects not in the cluster are reported missing.
func (t *Takeover) Run(ctx context.Context, items []Item) ([]ObjectResult, error) {
	plans := make([]*plan, len(items))
	res := make([]ObjectResult, len(items))
	errs := make([]error, len(items))
	apply.Parallel(len(items), 8, func(i int) {
		plans[i], errs[i] = t.plan(ctx, items[i])
		res[i] = plans[i].result
	})
	if err := errors.Join(errs...); err != nil || t.DryRun {
		return dropGoneHooks(res), err
	}
	apply.Parallel(len(items), 8, func(i int) {
		errs[i] = t.commit(ctx, items[i], plans[i])
		res[i] = plans[i].result
	})
	return dropGoneHooks(res), errors.Join(errs...)
}

// plan is one object's takeover as checked: what to apply, and whether Helm's fields are forced.
type plan struct {
	result ObjectResult
	ri     dynamic.ResourceInterface
	live   *unstructured.Unstructured
	cfg    *unstructured.Unstructured
	force  bool
	todo   bool // false: missing, or already taken over
}

// plan reads the object and checks its takeover with a server dry run: what the apply would
// store must be the live object with only our labels added.
func (t *Takeover) plan(ctx context.Context, it Item) (*plan, error) {
	want := it.Object
	desired := want.DeepCopy()
	p := &plan{result: ObjectResult{Key: want.Key(), Object: want.Key().String(), Hook: it.Hook}}
	ri, _, err := t.Client.Resource(desired, t.Namespace)
	if err != nil {
		return p, fmt.Errorf("%s: %w", want.Key(), err)
	}
	k := (&manifest.Object{Unstructured: desired}).Key()
	p.ri, p.result = ri, ObjectResult{Key: k, Object: k.String(), Hook: it.Hook}
	r := &p.result
	live, err := ri.Get(ctx, desired.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		r.Action = "missing"
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read %s: %w", k, err)
	}
	if err := t.checkOwner(k, live); err != nil {
		return p, err
	}
	cfg := restrictObject(live, desired)
	apply.Label(cfg, t.Release, t.Namespace)
	// In sync: the revision recorded as applied has the object as Helm applied it last, and the
	// live object holds exactly that. Then applying that revision again changes nothing.
	if it.Base != nil {
		base := it.Base.DeepCopy()
		if base.GetNamespace() == "" {
			base.SetNamespace(desired.GetNamespace())
		}
		r.InSync = equality.Semantic.DeepEqual(normalized(base.Object), normalized(desired.Object)) && inSync(cfg, desired)
	}
	r.Labels = labelChanges(live.GetLabels(), cfg.GetLabels())
	helmEntries := t.helmEntries(live)
	if len(r.Labels) == 0 && len(helmEntries) == 0 && hasApplyEntry(live, apply.FieldManager) {
		r.Action, r.ResourceVersion = "already", live.GetResourceVersion()
		return p, nil
	}
	r.ManagersRemoved = nil
	for _, e := range helmEntries {
		r.ManagersRemoved = append(r.ManagersRemoved, describeEntry(e))
	}
	// The apply is conditional on the object being as it was read: a write in between makes it
	// fail, instead of putting back what was read.
	cfg.SetResourceVersion(live.GetResourceVersion())
	force := false
	dry, err := t.Client.Apply(ctx, cfg.DeepCopy(), t.Namespace, apply.ApplyOptions{DryRun: true})
	if err != nil {
		if force, err = t.onlyHelmConflicts(k, err); !force {
			return p, err
		}
		if dry, err = t.Client.Apply(ctx, cfg.DeepCopy(), t.Namespace, apply.ApplyOptions{DryRun: true, Force: true}); err != nil {
			return p, fmt.Errorf("take %s over: %w", k, err)
		}
	}
	if diffs := changedBeyondLabels(live, dry, cfg.GetLabels()); len(diffs) > 0 {
		return p, fmt.Errorf("taking %s over would change it (%s); nothing was changed. Make the live object match the release "+
			"(helm upgrade, or undo the change by hand), or leave it to Helm", k, strings.Join(diffs, ", "))
	}
	r.Action = "would-take-over"
	r.SharedWith = t.sharedFields(dry)
	p.live, p.cfg, p.force, p.todo = live, cfg, force, true
	return p, nil
}

// commit applies a checked takeover, then removes Helm's managedFields entries. An object
// written to since it was checked is checked again.
func (t *Takeover) commit(ctx context.Context, it Item, p *plan) error {
	for attempt := 0; p.todo; attempt++ {
		k := p.result.Key
		applied, err := t.Client.Apply(ctx, p.cfg.DeepCopy(), t.Namespace, apply.ApplyOptions{Force: p.force})
		if isModified(err) && attempt < 3 {
			np, perr := t.plan(ctx, it)
			if perr != nil {
				return perr
			}
			*p = *np
			continue
		}
		if err != nil {
			return fmt.Errorf("take %s over: %w", k, err)
		}
		final, err := t.dropHelmManagers(ctx, p.ri, applied)
		if err != nil {
			return fmt.Errorf("take %s over: our labels and fields are set, but Helm's field managers could not be removed: %w; run the import again", k, err)
		}
		if final.GetGeneration() != p.live.GetGeneration() {
			return fmt.Errorf("take %s over: its generation moved from %d to %d: something besides the takeover changed it", k, p.live.GetGeneration(), final.GetGeneration())
		}
		p.result.Action, p.result.ResourceVersion = "taken-over", final.GetResourceVersion()
		p.result.SharedWith = t.sharedFields(final)
		return nil
	}
	return nil
}

// isModified tells whether an apply failed on its resourceVersion precondition (the object was
// written to since it was read), not on a field conflict.
func isModified(err error) bool {
	var se apierrors.APIStatus
	if !apierrors.IsConflict(err) || !errors.As(err, &se) {
		return false
	}
	if d := se.Status().Details; d != nil {
		for _, c := range d.Causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				return false
			}
		}
	}
	return true
}

// sharedFields names the field managers other than sherpack and Helm's that own fields
// sherpack's apply entry owns too, each with a few of those fields.
func (t *Takeover) sharedFields(u *unstructured.Unstructured) []string {
	var ours *fieldpath.Set
	for _, e := range u.GetManagedFields() {
		if e.Manager == apply.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			ours = fieldSet(e)
		}
	}
	if ours == nil {
		return nil
	}
	var out []string
	for _, e := range u.GetManagedFields() {
		if e.Manager == apply.FieldManager || t.isHelm(e.Manager) || e.Subresource != "" {
			continue
		}
		s := fieldSet(e)
		if s == nil {
			continue
		}
		var paths []string
		ours.Intersection(s).Leaves().Iterate(func(p fieldpath.Path) { paths = append(paths, p.String()) })
		if len(paths) == 0 {
			continue
		}
		sort.Strings(paths)
		if len(paths) > 3 {
			paths = append(paths[:3], fmt.Sprintf("and %d more", len(paths)-3))
		}
		out = append(out, fmt.Sprintf("%s (%s): %s", e.Manager, e.Operation, strings.Join(paths, ", ")))
	}
	return out
}

func fieldSet(e metav1.ManagedFieldsEntry) *fieldpath.Set {
	if e.FieldsV1 == nil {
		return nil
	}
	s := &fieldpath.Set{}
	if err := s.FromJSON(bytes.NewReader(e.FieldsV1.GetRawBytes())); err != nil {
		return nil
	}
	return s
}

// checkOwner refuses an object of another sherpack release or of another Helm release.
func (t *Takeover) checkOwner(k manifest.Key, live *unstructured.Unstructured) error {
	l := live.GetLabels()
	if rel := l[apply.LabelReleaseName]; rel != "" && (rel != t.Release || l[apply.LabelReleaseNamespace] != t.Namespace) {
		return fmt.Errorf("%s belongs to the sherpack release %s in namespace %s; it is not taken over", k, rel, l[apply.LabelReleaseNamespace])
	}
	a := live.GetAnnotations()
	if rel := a["meta.helm.sh/release-name"]; rel != "" && rel != t.Release {
		return fmt.Errorf("%s belongs to the Helm release %s, not %s; it is not taken over", k, rel, t.Release)
	}
	if ns := a["meta.helm.sh/release-namespace"]; ns != "" && ns != t.Namespace {
		return fmt.Errorf("%s belongs to the Helm release %s of namespace %s, not %s; it is not taken over", k, a["meta.helm.sh/release-name"], ns, t.Namespace)
	}
	return nil
}

func (t *Takeover) helmEntries(u *unstructured.Unstructured) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, e := range u.GetManagedFields() {
		if t.isHelm(e.Manager) {
			out = append(out, e)
		}
	}
	return out
}

// HelmManagers names the Helm field managers found on an object.
func (t *Takeover) HelmManagers(u *unstructured.Unstructured) []string {
	var out []string
	for _, e := range t.helmEntries(u) {
		out = append(out, describeEntry(e))
	}
	return out
}

func describeEntry(e metav1.ManagedFieldsEntry) string {
	s := fmt.Sprintf("%s (%s)", e.Manager, e.Operation)
	if e.Subresource != "" {
		s = fmt.Sprintf("%s (%s, %s)", e.Manager, e.Operation, e.Subresource)
	}
	return s
}

func hasApplyEntry(u *unstructured.Unstructured, manager string) bool {
	for _, e := range u.GetManagedFields() {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			return true
		}
	}
	return false
}

// onlyHelmConflicts tells whether an apply error is a conflict with Helm's managers only: those
// fields are taken (forced). A conflict with any other manager is returned as an error that
// names the fields and managers.
func (t *Takeover) onlyHelmConflicts(k manifest.Key, err error) (bool, error) {
	var se apierrors.APIStatus
	if !apierrors.IsConflict(err) || !errors.As(err, &se) || se.Status().Details == nil || len(se.Status().Details.Causes) == 0 {
		return false, fmt.Errorf("take %s over: %w", k, err)
	}
	var others []string
	for _, c := range se.Status().Details.Causes {
		if m := quoted(c.Message); !t.isHelm(m) {
			others = append(others, fmt.Sprintf("%s (field manager %q)", c.Field, m))
		}
	}
	if len(others) > 0 {
		return false, fmt.Errorf("take %s over: field managers other than Helm's hold fields the takeover sets with other values: %s. "+
			"If they may be overridden (another Helm client, a change by hand), name them with --helm-field-manager", k, strings.Join(others, ", "))
	}
	return true, nil
}

// quoted is the first double-quoted part of s (the manager in a conflict message).
func quoted(s string) string {
	i := strings.Index(s, `"`)
	if i < 0 {
		return s
	}
	j := strings.Index(s[i+1:], `"`)
	if j < 0 {
		return s
	}
	return s[i+1 : i+1+j]
}

// dropHelmManagers removes Helm's managedFields entries, with a test on the resourceVersion so
// that a concurrent write is never overwritten (read again and retried instead).
func (t *Takeover) dropHelmManagers(ctx context.Context, ri dynamic.ResourceInterface, cur *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	for attempt := 0; ; attempt++ {
		all := cur.GetManagedFields()
		var keep []metav1.ManagedFieldsEntry
		for _, e := range all {
			if !t.isHelm(e.Manager) {
				keep = append(keep, e)
			}
		}
		if len(keep) == len(all) {
			return cur, nil
		}
		if len(keep) == 0 {
			return nil, errors.New("no field manager would be left")
		}
		patch, err := json.Marshal([]map[string]any{
			{"op": "test", "path": "/metadata/resourceVersion", "value": cur.GetResourceVersion()},
			{"op": "replace", "path": "/metadata/managedFields", "value": keep},
		})
		if err != nil {
			return nil, err
		}
		out, err := ri.Patch(ctx, cur.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: apply.FieldManager})
		if err == nil {
			return out, nil
		}
		if attempt >= 4 || !(apierrors.IsConflict(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || strings.Contains(err.Error(), "test")) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
		if cur, err = ri.Get(ctx, cur.GetName(), metav1.GetOptions{}); err != nil {
			return nil, err
		}
	}
}

// restrictObject is what the takeover applies: the live object's own values, for exactly the
// fields the release's manifest sets (so that sherpack comes to own what its next apply sends,
// and the values stay what they are), plus the object's identity.
func restrictObject(live, want *unstructured.Unstructured) *unstructured.Unstructured {
	m, _ := restrict(live.Object, want.Object).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	out := &unstructured.Unstructured{Object: m}
	out.SetAPIVersion(want.GetAPIVersion())
	out.SetKind(want.GetKind())
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		m["metadata"] = md
	}
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink", "deletionTimestamp"} {
		delete(md, f)
	}
	md["name"] = live.GetName()
	if ns := live.GetNamespace(); ns != "" {
		md["namespace"] = ns
	}
	return out
}

// restrict keeps of lv what wv declares: maps key by key, lists item by item, leaves as lv has
// them. What the manifest declares and the live object lacks (stringData, a null) is left out.
func restrict(lv, wv any) any {
	switch w := wv.(type) {
	case map[string]any:
		l, ok := lv.(map[string]any)
		if !ok {
			return lv
		}
		out := make(map[string]any, len(w))
		for k, wx := range w {
			lx, ok := l[k]
			if !ok || wx == nil {
				continue
			}
			out[k] = restrict(lx, wx)
		}
		return out
	case []any:
		l, ok := lv.([]any)
		if !ok {
			return lv
		}
		return restrictList(l, w)
	}
	return lv
}

// restrictList pairs live items with the manifest's: by position when the lists are as long
// (the server keeps the order it was given), else by the items' identity; the live order is kept.
func restrictList(l, w []any) []any {
	out := []any{}
	if len(l) == len(w) {
		for i := range l {
			out = append(out, restrict(l[i], w[i]))
		}
		return out
	}
	match := make([]any, len(l)) // live index -> the manifest item it matches
	used := make([]bool, len(l))
	for _, wi := range w {
		for j, li := range l {
			if !used[j] && sameItem(li, wi) {
				used[j], match[j] = true, wi
				break
			}
		}
	}
	for j, li := range l {
		if used[j] {
			out = append(out, restrict(li, match[j]))
		}
	}
	return out
}

// sameItem tells whether a live list item is the manifest's: equal scalars, or maps whose
// scalar fields in the manifest all hold the same values live (name, port, key...).
func sameItem(li, wi any) bool {
	wm, ok := wi.(map[string]any)
	if !ok {
		return scalarEqual(li, wi)
	}
	lm, ok := li.(map[string]any)
	if !ok {
		return false
	}
	n := 0
	for k, wv := range wm {
		switch wv.(type) {
		case map[string]any, []any, nil:
			continue
		}
		n++
		if !scalarEqual(lm[k], wv) {
			return false
		}
	}
	return n > 0
}

func scalarEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == b
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// labelChanges lists the labels set that were absent or different.
func labelChanges(live, want map[string]string) []string {
	var out []string
	for _, k := range []string{apply.LabelManagedBy, apply.LabelReleaseName, apply.LabelReleaseNamespace} {
		v := want[k]
		old, had := live[k]
		switch {
		case !had:
			out = append(out, fmt.Sprintf("%s=%s", k, v))
		case old != v:
			out = append(out, fmt.Sprintf("%s=%s (was %s)", k, v, old))
		}
	}
	return out
}

// changedBeyondLabels lists what a dry run would change beyond our labels, managedFields and
// the resourceVersion (empty: the takeover changes nothing else).
func changedBeyondLabels(live, result *unstructured.Unstructured, ours map[string]string) []string {
	a, b := live.DeepCopy(), result.DeepCopy()
	labels := a.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	for _, k := range []string{apply.LabelManagedBy, apply.LabelReleaseName, apply.LabelReleaseNamespace} {
		labels[k] = ours[k]
	}
	a.SetLabels(labels)
	for _, u := range []*unstructured.Unstructured{a, b} {
		u.SetManagedFields(nil)
		u.SetResourceVersion("")
	}
	var diffs []string
	diffPaths("", a.Object, b.Object, &diffs)
	sort.Strings(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
	}
	return diffs
}

func diffPaths(p string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for k := range am {
			diffPaths(p+"."+k, am[k], bm[k], out)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				*out = append(*out, p+"."+k)
			}
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			diffPaths(fmt.Sprintf("%s[%d]", p, i), al[i], bl[i], out)
		}
		return
	}
	if !equality.Semantic.DeepEqual(a, b) {
		*out = append(*out, p)
	}
}

// inSync tells whether what the takeover claims (the live values of the manifest's fields) is
// the manifest itself: the live object is then exactly as the release left it.
func inSync(cfg, want *unstructured.Unstructured) bool {
	return equality.Semantic.DeepEqual(normalized(cfg.Object), normalized(want.Object))
}

// normalized is v through JSON, so that numbers read the same whether they came from YAML or the
// API server.
func normalized(v map[string]any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// dropGoneHooks leaves out hooks that are not in the cluster: most are deleted once they ran.
func dropGoneHooks(res []ObjectResult) []ObjectResult {
	out := res[:0]
	for _, r := range res {
		if !(r.Hook && r.Action == "missing") {
			out = append(out, r)
		}
	}
	return out
}
