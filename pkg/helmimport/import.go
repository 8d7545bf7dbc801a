package helmimport

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// Options of an import.
type Options struct {
	Name, Namespace string
	// Storage is where Helm keeps its records: StorageSecret or StorageCM.
	Storage string
	// DryRun reads and checks everything (server dry runs included) and changes nothing.
	DryRun bool
	// DeleteHelmRecords deletes Helm's records once the import succeeded.
	DeleteHelmRecords bool
	// HelmManagers are more field managers to take as Helm's.
	HelmManagers []string
}

// Importer adopts Helm releases into a sherpack release store.
type Importer struct {
	Store *releases.Store
	Apply *apply.Client
	Typed kubernetes.Interface
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Report is what an import did, or would do with DryRun.
type Report struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Storage is where Helm's records were read: secret or configmap.
	Storage string `json:"helmStorage"`
	DryRun  bool   `json:"dryRun,omitempty"`
	// AlreadyImported tells that an earlier import did it all: nothing was changed.
	AlreadyImported bool             `json:"alreadyImported,omitempty"`
	Revisions       []RevisionReport `json:"revisions"`
	Objects         []ObjectResult   `json:"objects,omitempty"`
	// DeletedHelmRecords are Helm's records deleted (--delete-helm-records).
	DeletedHelmRecords []string `json:"deletedHelmRecords,omitempty"`
	Warnings           []string `json:"warnings,omitempty"`
}

// RevisionReport is one revision of the import.
type RevisionReport struct {
	Revision    int            `json:"revision"`
	HelmStatus  string         `json:"helmStatus"`
	State       releases.State `json:"state"`
	Chart       string         `json:"chart"`
	AppVersion  string         `json:"appVersion,omitempty"`
	Description string         `json:"description,omitempty"`
	Updated     time.Time      `json:"updated"`
	// Record is Helm's record it comes from.
	Record string `json:"record"`
	// Action: written, would-write, already (stored by an earlier import).
	Action string `json:"action"`
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

// scope asks the cluster's REST mapper whether a kind is namespaced.
func (im *Importer) scope(gvk schema.GroupVersionKind) (bool, bool) {
	m, err := im.Apply.Mapping(gvk)
	if err != nil {
		return false, false
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, true
}

// Run imports a Helm release: it reads Helm's records, refuses a release Helm is still working
// on, takes the objects over under the release lock and writes the revisions; Helm's records
// are left alone unless DeleteHelmRecords. An import that was already done changes nothing.
func (im *Importer) Run(ctx context.Context, o Options) (*Report, error) {
	if err := releases.ValidateName(o.Name); err != nil {
		return nil, err
	}
	rep := &Report{Name: o.Name, Namespace: o.Namespace, Storage: o.Storage, DryRun: o.DryRun}
	recs, err := ReadRecords(ctx, im.Typed, o.Storage, o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	if err := Importable(recs); err != nil {
		return nil, err
	}
	st, err := im.existing(ctx, o, recs)
	if err != nil {
		return nil, err
	}
	conv, err := Convert(recs, im.scope, im.now())
	if err != nil {
		return nil, err
	}
	rep.Warnings = conv.Warnings
	im.reportRevisions(rep, recs, conv, st)
	if st.complete {
		rep.AlreadyImported = true
		if o.DeleteHelmRecords && !o.DryRun {
			rep.DeletedHelmRecords, err = DeleteRecords(ctx, im.Typed, recs)
		}
		return rep, err
	}
	items, base := takeoverSet(conv)
	t := &Takeover{Client: im.Apply, Release: o.Name, Namespace: o.Namespace, Managers: o.HelmManagers, DryRun: o.DryRun}
	if o.DryRun {
		rep.Objects, err = t.Run(ctx, items)
		rep.Warnings = append(rep.Warnings, sharedWarnings(rep.Objects)...)
		return rep, err
	}

	op, err := im.Store.Begin(ctx, o.Namespace, o.Name, "import")
	if err != nil {
		return nil, err
	}
	defer op.End(context.WithoutCancel(ctx))
	octx := op.Context()
	// What was read before the lock is read again under it: another import may have run.
	if st, err = im.existing(octx, o, recs); err != nil {
		return nil, err
	}
	if st.complete {
		rep.AlreadyImported = true
		im.reportRevisions(rep, recs, conv, st)
		return rep, nil
	}
	rep.Objects, err = t.Run(octx, items)
	rep.Warnings = append(rep.Warnings, sharedWarnings(rep.Objects)...)
	if err != nil {
		taken := 0
		for _, ob := range rep.Objects {
			if ob.Action == "taken-over" {
				taken++
			}
		}
		if taken == 0 {
			return rep, fmt.Errorf("%w\nNothing was changed: no object was taken over, no revision written", err)
		}
		return rep, fmt.Errorf("%w\nNo revision was written. %d objects were taken over before this (our labels, sherpack's field manager): "+
			"Helm still manages the release, and a helm upgrade that changes their fields needs --force-conflicts; running the import again finishes it", err, taken)
	}
	if base != nil {
		recordApplied(base, rep.Objects, o.Namespace)
	}
	// Helm must not have written a revision meanwhile (a helm upgrade run during the import).
	again, err := ReadRecords(octx, im.Typed, o.Storage, o.Namespace, o.Name)
	if err != nil {
		return rep, err
	}
	if changed := changedRecords(recs, again); changed != "" {
		return rep, fmt.Errorf("the Helm release changed while it was imported (%s); no revision was written: run the import again once Helm is done", changed)
	}
	written, err := im.Store.Import(octx, conv.Releases)
	if err != nil {
		return rep, err
	}
	done := map[int]bool{}
	for _, w := range written {
		done[w] = true
	}
	for i := range rep.Revisions {
		if done[rep.Revisions[i].Revision] {
			rep.Revisions[i].Action = "written"
		}
	}
	if o.DeleteHelmRecords {
		rep.DeletedHelmRecords, err = DeleteRecords(octx, im.Typed, recs)
		if err != nil {
			return rep, fmt.Errorf("the release was imported, but not every Helm record could be deleted: %w", err)
		}
	}
	return rep, nil
}

// importState is what the release store already holds of the release.
type importState struct {
	stored   map[int]bool // Helm revisions stored by an earlier import
	complete bool         // every Helm revision is
}

// existing judges the sherpack release of that name, if any: an earlier import of the same Helm
// history (complete, or cut short) is fine; anything else is refused.
func (im *Importer) existing(ctx context.Context, o Options, recs []*Record) (importState, error) {
	st := importState{stored: map[int]bool{}}
	hist, err := im.Store.History(ctx, o.Namespace, o.Name)
	if releases.IsNotFound(err) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	byRev := map[int]releases.Meta{}
	for _, m := range hist {
		byRev[m.Revision] = m
	}
	helmRevs := map[int]*Record{}
	for _, r := range recs {
		helmRevs[r.Version] = r
	}
	imported := 0
	for _, m := range hist {
		if _, ok := helmRevs[m.Revision]; !ok {
			continue
		}
		r, err := im.Store.Get(ctx, o.Namespace, o.Name, m.Revision)
		if err != nil {
			return st, err
		}
		if r.Imported == nil || r.Imported.From != "helm" || r.Imported.Object != helmRevs[m.Revision].Object {
			return st, &releases.ImportConflictError{Namespace: o.Namespace, Name: o.Name, Msg: fmt.Sprintf(
				"a sherpack release of that name already exists (revisions %s), and its revision %d was not imported from %s; "+
					"import does not mix two histories. Nothing was changed", revList(hist), m.Revision, helmRevs[m.Revision].Object)}
		}
		st.stored[m.Revision] = true
		imported++
	}
	if imported == 0 {
		return st, &releases.ImportConflictError{Namespace: o.Namespace, Name: o.Name, Msg: fmt.Sprintf(
			"a sherpack release of that name already exists (revisions %s); import does not mix two histories. Nothing was changed", revList(hist))}
	}
	newestStored := 0
	for r := range st.stored {
		newestStored = max(newestStored, r)
	}
	var after []string
	for _, r := range recs {
		if !st.stored[r.Version] && r.Version > newestStored {
			after = append(after, fmt.Sprint(r.Version))
		}
	}
	if len(after) > 0 {
		return st, &releases.ImportConflictError{Namespace: o.Namespace, Name: o.Name, Msg: fmt.Sprintf(
			"it was imported, and Helm has made revision %s since: Helm and sherpack must not both manage one release. Nothing was changed",
			strings.Join(after, ", "))}
	}
	st.complete = len(st.stored) == len(recs)
	return st, nil
}

func revList(hist []releases.Meta) string {
	var parts []string
	for _, m := range hist {
		parts = append(parts, fmt.Sprint(m.Revision))
	}
	return strings.Join(parts, ", ")
}

func (im *Importer) reportRevisions(rep *Report, recs []*Record, conv *Converted, st importState) {
	rep.Revisions = nil
	for i, rel := range conv.Releases {
		action := "would-write"
		if st.stored[rel.Revision] {
			action = "already"
		}
		chart := rel.Pack.Name
		if rel.Pack.Version != "" {
			chart += "-" + rel.Pack.Version
		}
		desc := rel.Description
		if rel.State == releases.StateFailed {
			desc = rel.Reason
		}
		rep.Revisions = append(rep.Revisions, RevisionReport{Revision: rel.Revision, HelmStatus: recs[i].Status, State: rel.State,
			Chart: chart, AppVersion: rel.Pack.AppVersion, Description: desc, Updated: rel.UpdatedAt, Record: recs[i].Object, Action: action})
	}
}

// takeoverSet is what is live of the release: the objects of the latest revision (what Helm
// applied last, also when that upgrade failed), those only the last deployed one has, and the
// hooks of both that Helm left in the cluster. base is the revision whose objects are recorded
// as applied (the last deployed one; nil when none was deployed).
func takeoverSet(conv *Converted) (items []Item, base *releases.Release) {
	revs := conv.Releases
	latest := revs[len(revs)-1]
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].State == releases.StateDeployed {
			base = revs[i]
			break
		}
	}
	order := []*releases.Release{latest}
	baseObjs := map[manifest.Key]*manifest.Object{}
	if base != nil {
		for _, o := range conv.Objects[base.Revision] {
			baseObjs[o.Key()] = o
		}
		if base != latest {
			order = append(order, base)
		}
	}
	seen := map[manifest.Key]bool{}
	for _, r := range order {
		for _, o := range conv.Objects[r.Revision] {
			if k := o.Key(); !seen[k] {
				seen[k] = true
				items = append(items, Item{Object: o, Base: baseObjs[k]})
			}
		}
	}
	for _, r := range order {
		for _, h := range conv.Hooks[r.Revision] {
			hk := h.DeepCopy()
			if hk.GetNamespace() == "" {
				hk.SetNamespace(r.Namespace) // hooks run in the release namespace
			}
			apply.Label(hk, r.Name, r.Namespace)
			o := &manifest.Object{Unstructured: hk, Source: h.Source}
			if k := o.Key(); !seen[k] {
				seen[k] = true
				items = append(items, Item{Object: o, Hook: true})
			}
		}
	}
	return items, base
}

// recordApplied notes, on the revision taken as the base, the resourceVersion the takeover left
// each object at, for the objects whose live state is exactly that revision's: a later apply of
// the same content may then be skipped, and drift is measured from there. Objects that differ
// from it are not noted, so that what changed is never hidden.
func recordApplied(base *releases.Release, results []ObjectResult, ns string) {
	for _, r := range results {
		if r.Hook || !r.InSync || r.ResourceVersion == "" || (r.Action != "taken-over" && r.Action != "already") {
			continue
		}
		k := r.Key
		if k.Namespace == "" {
			k.Namespace = ns // as the lifecycle keys them
		}
		if base.Applied == nil {
			base.Applied = map[string]string{}
		}
		base.Applied[k.String()] = r.ResourceVersion
	}
}

// changedRecords says which of Helm's records changed between two reads ("" when none).
func changedRecords(before, after []*Record) string {
	rv := map[string]string{}
	for _, r := range before {
		rv[r.ObjName] = r.ResourceVersion
	}
	var changed []string
	for _, r := range after {
		if old, ok := rv[r.ObjName]; !ok {
			changed = append(changed, r.Object+" appeared")
		} else if old != r.ResourceVersion {
			changed = append(changed, r.Object+" was rewritten")
		}
		delete(rv, r.ObjName)
	}
	for name := range rv {
		changed = append(changed, name+" was deleted")
	}
	sort.Strings(changed)
	return strings.Join(changed, ", ")
}

// sharedWarnings tell of the fields other field managers own along with the release.
func sharedWarnings(objs []ObjectResult) []string {
	var out []string
	for _, o := range objs {
		for _, sw := range o.SharedWith {
			out = append(out, fmt.Sprintf("%s: fields the release sets are also owned by %s. An upgrade that changes them conflicts with that "+
				"manager unless --force-conflicts; if it is Helm's, name it with --helm-field-manager (the import can be tried with --dry-run first)", o.Object, sw))
		}
	}
	return out
}
