package lifecycle

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/diff"
	"github.com/sherpack/kubectl-sherpack/pkg/hooks"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// DiffOptions of the diffs.
type DiffOptions struct {
	Name, Namespace string
	Render          RenderFunc
	ValuesMode      string
	UserGaveValues  bool
	ShowSecrets     bool
	Context         int
	AllFields       bool
}

// DiffUpgrade says what an upgrade would do, without changing anything: each new object is sent
// as a server-side dry run and compared with the live one, so defaults, webhooks and other
// managers' fields count; fields of the release changed by hand are marked as drift.
func (c *Client) DiffUpgrade(ctx context.Context, o DiffOptions) (*diff.Report, error) {
	latest, err := c.Store.Latest(ctx, o.Namespace, o.Name)
	if err != nil && !releases.IsNotFound(err) {
		return nil, err
	}
	var lastDeployed, base *releases.Release
	var prev []pack.Layer
	revision := 1
	if latest != nil {
		lastDeployed, _ = c.Store.LastDeployed(ctx, o.Namespace, o.Name)
		base = lastDeployed
		if base == nil {
			base = latest
		}
		prev = previousLayers(base, o.ValuesMode, o.UserGaveValues)
		revision = latest.Revision + 1
	}
	rendered, err := o.Render(withPreviousSecrets(render.ReleaseInfo{Name: o.Name, Namespace: o.Namespace, Revision: revision, IsInstall: latest == nil, IsUpgrade: latest != nil}, base), prev)
	if err != nil {
		return nil, err
	}
	objects := append(c.packCRDs(ctx, rendered, o.Name, o.Namespace), rendered.Objects...)
	applied := map[manifest.Key]*manifest.Object{}
	if lastDeployed != nil {
		old, err := decodeManifest(lastDeployed)
		if err != nil {
			return nil, err
		}
		for _, ob := range old {
			applied[normKey(ob, o.Namespace)] = ob
		}
	}
	lv, err := c.liveObjects(ctx, objects, o.Namespace)
	if err != nil {
		return nil, err
	}
	var appliedRV map[string]string
	if lastDeployed != nil {
		appliedRV = lastDeployed.Applied
	}
	changes := make([]diff.Change, len(objects))
	errs := make([]error, len(objects))
	parallel(len(objects), 16, func(i int) {
		k := normKey(objects[i], o.Namespace)
		changes[i], errs[i] = c.diffObject(ctx, objects[i], lv.objects[k], applied[k], appliedRV[k.String()], o)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	keep := map[manifest.Key]bool{}
	for _, ob := range objects {
		keep[normKey(ob, o.Namespace)] = true
	}
	var olds []*manifest.Object
	if latest != nil {
		olds, _ = pruneCandidates(latest, lastDeployed, nil)
	}
	seen := map[manifest.Key]bool{}
	for _, ob := range olds {
		k := normKey(ob, o.Namespace)
		if keep[k] || seen[k] {
			continue
		}
		seen[k] = true
		if a, _ := manifest.ParseAnnotations(ob); a.Keep {
			continue
		}
		changes = append(changes, diff.Change{Key: k, Object: k.String(), Type: diff.Pruned})
	}
	rep := &diff.Report{Changes: changes}
	phase := "upgrade"
	if latest == nil {
		phase = "install"
	}
	for _, p := range []string{"pre-" + phase, "post-" + phase} {
		hs, _ := hooks.ForPhase(rendered.Hooks, p)
		for _, h := range hs {
			rep.Hooks = append(rep.Hooks, fmt.Sprintf("%s %s (%s)", p, h.GetName(), h.GetKind()))
		}
	}
	sortChanges(rep.Changes)
	return rep, nil
}

// diffObject compares the server's dry run of the new object with the live one. An object that
// renders as the release last applied it and is still at the resourceVersion it left it at is
// unchanged without a dry run: nobody wrote to it, and the same input gives the same answer.
func (c *Client) diffObject(ctx context.Context, ob *manifest.Object, live *unstructured.Unstructured, prev *manifest.Object, appliedRV string, o DiffOptions) (diff.Change, error) {
	desired := ob.DeepCopy()
	apply.Label(desired, o.Name, o.Namespace)
	_, _, err := c.Apply.Resource(desired, o.Namespace)
	k := manifest.Key{Group: desired.GroupVersionKind().Group, Kind: desired.GetKind(), Namespace: desired.GetNamespace(), Name: desired.GetName()}
	ch := diff.Change{Key: k, Object: k.String()}
	if err != nil {
		// A kind its CRD (in this release) will define: it would be created.
		ch.Type = diff.Added
		ch.Diff, _ = unified(nil, desired, o)
		return ch, nil
	}
	if live == nil {
		ch.Type = diff.Added
		result, derr := c.Apply.Apply(ctx, desired.DeepCopy(), o.Namespace, apply.ApplyOptions{DryRun: true, Force: true})
		if derr != nil {
			return ch, fmt.Errorf("%s (%s): the API server refuses it: %w", k, ob.Source, derr)
		}
		ch.Diff, err = unified(nil, result, o)
		return ch, err
	}
	if prev != nil && appliedRV != "" && appliedRV == live.GetResourceVersion() {
		old := prev.DeepCopy()
		apply.Label(old, o.Name, o.Namespace)
		if old.GetNamespace() == "" {
			old.SetNamespace(desired.GetNamespace())
		}
		if equality.Semantic.DeepEqual(old.Object, desired.Object) {
			ch.Type = diff.Unchanged
			return ch, nil
		}
	}
	result, err := c.Apply.Apply(ctx, desired.DeepCopy(), o.Namespace, apply.ApplyOptions{DryRun: true, Force: true})
	if err != nil {
		return ch, fmt.Errorf("%s (%s): the API server refuses it: %w", k, ob.Source, err)
	}
	ch.Diff, err = unified(live, result, o)
	if err != nil {
		return ch, err
	}
	ch.Type = diff.Unchanged
	if ch.Diff != "" {
		ch.Type = diff.Changed
	}
	if prev != nil {
		if ch.Drift, err = c.driftOf(ctx, prev, desired, result, live, appliedRV, o); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

func unified(from, to *unstructured.Unstructured, o DiffOptions) (string, error) {
	f, t := diff.Clean(from), diff.Clean(to)
	f, t = diff.Mask(f, t, o.ShowSecrets)
	return diff.Unified(f, t, "live", "after", o.Context)
}

// DiffRevisions compares two stored revisions: objects, values and hooks.
func (c *Client) DiffRevisions(ctx context.Context, o DiffOptions, r1, r2 int) (*diff.Report, error) {
	a, err := c.Store.Get(ctx, o.Namespace, o.Name, r1)
	if err != nil {
		return nil, err
	}
	b, err := c.Store.Get(ctx, o.Namespace, o.Name, r2)
	if err != nil {
		return nil, err
	}
	oa, err := decodeManifest(a)
	if err != nil {
		return nil, err
	}
	ob, err := decodeManifest(b)
	if err != nil {
		return nil, err
	}
	byKey := func(objs []*manifest.Object) map[manifest.Key]*manifest.Object {
		m := map[manifest.Key]*manifest.Object{}
		for _, x := range objs {
			m[normKey(x, o.Namespace)] = x
		}
		return m
	}
	ma, mb := byKey(oa), byKey(ob)
	rep := &diff.Report{}
	from, to := fmt.Sprintf("revision %d", r1), fmt.Sprintf("revision %d", r2)
	for k, x := range mb {
		ch := diff.Change{Key: k, Object: k.String()}
		var prev *unstructured.Unstructured
		if y, ok := ma[k]; ok {
			prev = y.Unstructured
		}
		f, t := diff.Mask(diff.Clean(prev), diff.Clean(x.Unstructured), o.ShowSecrets)
		ch.Diff, err = diff.Unified(f, t, from, to, o.Context)
		if err != nil {
			return nil, err
		}
		switch {
		case prev == nil:
			ch.Type = diff.Added
		case ch.Diff == "":
			ch.Type = diff.Unchanged
		default:
			ch.Type = diff.Changed
		}
		rep.Changes = append(rep.Changes, ch)
	}
	for k := range ma {
		if _, ok := mb[k]; !ok {
			rep.Changes = append(rep.Changes, diff.Change{Key: k, Object: k.String(), Type: diff.Pruned})
		}
	}
	for _, pseudo := range []struct {
		name string
		a, b any
	}{{"values", a.UserValues, b.UserValues}, {"computed values", a.Values, b.Values}, {"hooks", hookNames(a), hookNames(b)}} {
		ya, _ := pack.MarshalYAML(pack.Normalize(pseudo.a))
		yb, _ := pack.MarshalYAML(pack.Normalize(pseudo.b))
		if string(ya) != string(yb) {
			d := unifiedText(string(ya), string(yb), from, to, o.Context)
			rep.Changes = append(rep.Changes, diff.Change{Object: pseudo.name, Type: diff.Changed, Diff: d})
		}
	}
	sortChanges(rep.Changes)
	return rep, nil
}

func hookNames(r *releases.Release) []any {
	var out []any
	for _, h := range r.Hooks {
		out = append(out, fmt.Sprintf("%s/%s %v weight %d", h.Kind, h.Name, h.Phases, h.Weight))
	}
	return out
}

func unifiedText(a, b, from, to string, context int) string {
	return diff.Text(a, b, from, to, context)
}

func sortChanges(cs []diff.Change) {
	rank := map[string]int{diff.Changed: 0, diff.Added: 1, diff.Deleted: 2, diff.Pruned: 3, diff.Unchanged: 4}
	sort.SliceStable(cs, func(i, j int) bool {
		if rank[cs[i].Type] != rank[cs[j].Type] {
			return rank[cs[i].Type] < rank[cs[j].Type]
		}
		return cs[i].Object < cs[j].Object
	})
}
