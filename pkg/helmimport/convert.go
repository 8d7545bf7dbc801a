package helmimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// ScopeFunc tells whether a kind is namespaced; known is false when the cluster does not serve it.
type ScopeFunc func(gvk schema.GroupVersionKind) (namespaced, known bool)

// StateError: Helm's latest revision is in a state that cannot be imported; Hint says what to
// do about it.
type StateError struct {
	Name, Namespace string
	Revision        int
	Status          string
	Hint            string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("Helm release %s in namespace %s: its latest revision %d is %s, so it is not imported (nothing was changed).\n%s",
		e.Name, e.Namespace, e.Revision, e.Status, e.Hint)
}

// ExitCode is 1: the import was refused.
func (e *StateError) ExitCode() int { return 1 }

// Importable refuses a release whose latest revision an operation still runs (or left pending
// when it died), and one that Helm uninstalled: there is nothing live to take over.
func Importable(recs []*Record) error {
	latest := recs[len(recs)-1]
	e := &StateError{Name: latest.Name, Namespace: latest.Namespace, Revision: latest.Version, Status: latest.Status}
	record := fmt.Sprintf("kubectl delete %s %s -n %s", strings.ToLower(latest.Kind), latest.ObjName, latest.ObjNamespace)
	if latest.Kind == "" {
		record = fmt.Sprintf("kubectl delete secret %s -n %s", RecordName(latest.Name, latest.Version), latest.Namespace)
	}
	prev := 0
	for i := len(recs) - 2; i >= 0; i-- {
		if s := recs[i].Status; s == "deployed" || s == "superseded" {
			prev = recs[i].Version
			break
		}
	}
	switch {
	case latest.Status == "pending-install":
		e.Hint = fmt.Sprintf("A Helm install is running, or died before it finished. Once no helm process works on it, finish with Helm "+
			"(helm uninstall %s -n %s), or delete the pending record (%s) and install again; check with helm status %s -n %s.",
			latest.Name, latest.Namespace, record, latest.Name, latest.Namespace)
	case isPending(latest.Status) && latest.Status != "uninstalling":
		back := ""
		if prev > 0 {
			back = fmt.Sprintf("helm rollback %s %d -n %s (Helm records a new deployed revision), or ", latest.Name, prev, latest.Namespace)
		}
		e.Hint = fmt.Sprintf("A Helm %s is running, or died before it finished. Once no helm process works on it: %s"+
			"delete the pending record (%s) so that the revision before it is the latest again; check with helm status %s -n %s "+
			"and helm history %s -n %s. Then import again.",
			strings.TrimPrefix(latest.Status, "pending-"), back, record, latest.Name, latest.Namespace, latest.Name, latest.Namespace)
	case latest.Status == "uninstalling":
		e.Hint = fmt.Sprintf("A Helm uninstall is running, or died before it finished: finish it with helm uninstall %s -n %s.", latest.Name, latest.Namespace)
	case latest.Status == "uninstalled":
		e.Hint = fmt.Sprintf("Helm uninstalled it (its history was kept with --keep-history): nothing runs that could be taken over. "+
			"Install it with kubectl sherpack install %s <chart> -n %s instead.", latest.Name, latest.Namespace)
	default:
		return nil
	}
	return e
}

// Converted is Helm's history as sherpack revisions.
type Converted struct {
	Releases []*releases.Release
	// Objects are the decoded objects of each revision (by revision), as stored.
	Objects map[int][]*manifest.Object
	// Hooks are the decoded hook objects of each revision.
	Hooks    map[int][]*manifest.Object
	Warnings []string
}

// Convert turns Helm's records (oldest first) into sherpack revisions: the same numbers,
// manifests (with the namespace set on namespaced objects that name none, and our release
// labels, as sherpack's own revisions store them), hooks, notes, values, states, descriptions
// and times. Of several revisions Helm left deployed only the newest stays deployed; an older
// revision Helm left pending is recorded as failed.
func Convert(recs []*Record, scope ScopeFunc, now time.Time) (*Converted, error) {
	out := &Converted{Objects: map[int][]*manifest.Object{}, Hooks: map[int][]*manifest.Object{}}
	newestDeployed := -1
	for i, r := range recs {
		if r.Status == "deployed" {
			newestDeployed = i
		}
	}
	unknown := map[string]bool{}
	for i, r := range recs {
		rel, objs, hooks, warns, err := convertOne(r, i == newestDeployed, i == len(recs)-1, scope, unknown, now)
		if err != nil {
			return nil, err
		}
		out.Releases = append(out.Releases, rel)
		out.Objects[rel.Revision], out.Hooks[rel.Revision] = objs, hooks
		out.Warnings = append(out.Warnings, warns...)
	}
	if err := releases.ValidateImport(out.Releases); err != nil {
		return nil, err
	}
	return out, nil
}

func convertOne(r *Record, newestDeployed, latest bool, scope ScopeFunc, unknown map[string]bool, now time.Time) (*releases.Release, []*manifest.Object, []*manifest.Object, []string, error) {
	var warns []string
	rel := &releases.Release{Name: r.Name, Namespace: r.Namespace, Revision: r.Version, Notes: r.Notes, Description: r.Description,
		Pack:     releases.PackInfo{Name: r.Chart.Name, Version: r.Chart.Version, AppVersion: r.Chart.AppVersion, Description: r.Chart.Description},
		Imported: &releases.ImportSource{From: "helm", Object: r.Object, Status: r.Status, At: now.UTC()}}
	switch r.ApplyMethod {
	case "ssa":
		rel.ApplyMethod = "helm-server-side-apply"
	default:
		rel.ApplyMethod = "helm-client-side-apply"
	}
	rel.State, rel.Reason = state(r, newestDeployed, latest)
	if rel.State == releases.StateFailed && rel.Reason == "" {
		rel.Reason = "failed (recorded by Helm)"
	}
	rel.CreatedAt = r.LastDeployed
	if rel.CreatedAt.IsZero() {
		rel.CreatedAt = r.FirstDeployed
	}
	if rel.CreatedAt.IsZero() {
		rel.CreatedAt = r.Created
	}
	rel.CreatedAt = rel.CreatedAt.UTC()
	rel.UpdatedAt = rel.CreatedAt
	for k, v := range r.Labels {
		if err := releases.ValidateUserLabels(map[string]string{k: v}); err != nil {
			warns = append(warns, fmt.Sprintf("revision %d: Helm's release label %s=%s is not kept: %v", r.Version, k, v, err))
			continue
		}
		if rel.Labels == nil {
			rel.Labels = map[string]string{}
		}
		rel.Labels[k] = v
	}
	chart := r.Chart.Name
	if r.Chart.Version != "" {
		chart += "-" + r.Chart.Version
	}
	merged, prov := pack.Merge(
		pack.Layer{Source: pack.Source{Kind: "pack-default", Name: "values.yaml of chart " + chart}, Values: r.ChartValues},
		pack.Layer{Source: pack.Source{Kind: "previous-release", Name: fmt.Sprintf("Helm revision %d (user-supplied values)", r.Version)}, Values: r.Config})
	rel.Values, rel.UserValues = merged, pack.DeepCopy(r.Config)
	if len(prov) > 0 {
		rel.Provenance = map[string]releases.ValueSource{}
		for k, s := range prov {
			rel.Provenance[k] = releases.ValueSource{Kind: s.Kind, Source: s.Name}
		}
	}
	where := fmt.Sprintf("Helm release %s revision %d", r.Name, r.Version)
	objs, err := decodeWithSources(r.Manifest, where)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, o := range objs {
		setNamespace(o, r.Namespace, scope, unknown, &warns)
		apply.Label(o.Unstructured, r.Name, r.Namespace)
	}
	if len(objs) > 0 {
		b, err := manifest.Encode(objs, true)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		rel.Manifest = string(b)
	}
	var hookObjs []*manifest.Object
	for _, h := range r.Hooks {
		hr, obj, err := convertHook(h, r, where)
		if err != nil {
			warns = append(warns, err.Error())
			continue
		}
		rel.Hooks = append(rel.Hooks, hr)
		hookObjs = append(hookObjs, obj)
	}
	return rel, objs, hookObjs, warns, nil
}

// state maps Helm's status to ours.
func state(r *Record, newestDeployed, latest bool) (releases.State, string) {
	switch r.Status {
	case "deployed":
		if newestDeployed {
			return releases.StateDeployed, ""
		}
		return releases.StateSuperseded, ""
	case "superseded":
		return releases.StateSuperseded, ""
	case "failed":
		return releases.StateFailed, r.Description
	case "uninstalled":
		return releases.StateUninstalled, ""
	}
	if isPending(r.Status) && !latest {
		return releases.StateFailed, fmt.Sprintf("interrupted: Helm left this revision %s and went on with a newer one", r.Status)
	}
	return releases.StateFailed, fmt.Sprintf("Helm recorded the status %q", r.Status)
}

func setNamespace(o *manifest.Object, ns string, scope ScopeFunc, unknown map[string]bool, warns *[]string) {
	gvk := o.GroupVersionKind()
	namespaced, known := scope(gvk)
	if !known {
		if k := gvk.String(); !unknown[k] {
			unknown[k] = true
			*warns = append(*warns, fmt.Sprintf("the cluster does not serve %s %s: its objects are kept as Helm recorded them", gvk.Kind, gvk.GroupVersion()))
		}
		return
	}
	switch {
	case namespaced && o.GetNamespace() == "":
		o.SetNamespace(ns)
	case !namespaced && o.GetNamespace() != "":
		o.SetNamespace("") // as the apply client does: a namespace on a cluster-scoped object means nothing
	}
}

// convertHook turns one Helm hook into the hook record sherpack keeps.
func convertHook(h Hook, r *Record, where string) (releases.Hook, *manifest.Object, error) {
	src := h.Path
	if src == "" {
		src = where + " hook " + h.Name
	}
	objs, err := manifest.Decode([]byte(h.Manifest), src)
	if err != nil {
		return releases.Hook{}, nil, fmt.Errorf("%s: hook %s is not kept: %v", where, h.Name, err)
	}
	if len(objs) != 1 {
		return releases.Hook{}, nil, fmt.Errorf("%s: hook %s holds %d objects, not one: it is not kept", where, h.Name, len(objs))
	}
	obj := objs[0]
	var phases []string
	for _, e := range h.Events {
		if e == "test-success" {
			e = "test"
		}
		for _, p := range manifest.HookPhases {
			if p == e {
				phases = append(phases, e)
			}
		}
	}
	y, err := manifest.Encode(objs, false)
	if err != nil {
		return releases.Hook{}, nil, fmt.Errorf("%s: hook %s: %w", where, h.Name, err)
	}
	out := releases.Hook{Name: obj.GetName(), Kind: obj.GetKind(), Phases: phases, Weight: h.Weight, Manifest: string(y)}
	if run := h.LastRun; !run.StartedAt.IsZero() {
		res := map[string]string{"Succeeded": "succeeded", "Failed": "failed", "Running": "running"}[run.Phase]
		if res != "" {
			out.LastRun = &releases.HookRun{Phase: ranPhase(phases, r), Started: run.StartedAt.UTC(), Finished: run.CompletedAt.UTC(), Result: res}
		}
	}
	return out, obj, nil
}

// ranPhase guesses which of a hook's phases ran for a revision: Helm records when a hook last
// ran, not for which event.
func ranPhase(phases []string, r *Record) string {
	op := "upgrade"
	d := strings.ToLower(r.Description)
	switch {
	case r.Version == 1 || strings.HasPrefix(d, "install"):
		op = "install"
	case strings.HasPrefix(d, "rollback"):
		op = "rollback"
	}
	for _, p := range phases {
		if strings.HasSuffix(p, "-"+op) {
			return p
		}
	}
	if len(phases) > 0 {
		return phases[0]
	}
	return ""
}

// decodeWithSources reads Helm's manifest, each document preceded by "# Source: <template>",
// and keeps the template as each object's source.
func decodeWithSources(text, where string) ([]*manifest.Object, error) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var out []*manifest.Object
	for i := 1; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &manifest.DecodeError{Source: where, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		src := sourceComment(&doc)
		if src == "" {
			src = fmt.Sprintf("%s document %d", where, i)
		}
		if len(doc.Content) == 0 {
			continue
		}
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		if err := enc.Encode(doc.Content[0]); err != nil {
			return nil, &manifest.DecodeError{Source: src, Msg: err.Error()}
		}
		_ = enc.Close()
		objs, err := manifest.Decode(b.Bytes(), src)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
}

// sourceComment finds "# Source: x" in the comments at the head of a document.
func sourceComment(doc *yaml.Node) string {
	comments := []string{doc.HeadComment}
	if len(doc.Content) > 0 {
		c := doc.Content[0]
		comments = append(comments, c.HeadComment)
		if c.Kind == yaml.MappingNode && len(c.Content) > 0 {
			comments = append(comments, c.Content[0].HeadComment)
		}
	}
	for _, c := range comments {
		for _, line := range strings.Split(c, "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
			if s, ok := strings.CutPrefix(line, "Source:"); ok {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}
