package lifecycle

import (
	"context"

	"errors"
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/health"
	"github.com/sherpack/kubectl-sherpack/pkg/hooks"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// deployment is one apply of a release: hooks before, waves, hooks after, pruning.
type deployment struct {
	c         *Client
	name, ns  string
	opts      CommonOptions
	objects   []*manifest.Object // what the release is made of (CRDs of crds/ included)
	hooks     []*manifest.Object
	prune     []*manifest.Object // what the previous revisions had
	pre, post string             // hook phases

	// previous is the last revision's objects and the resourceVersions it left them at: an object
	// that renders the same and is still at that version needs no apply.
	previous        map[manifest.Key]*manifest.Object
	previousApplied map[string]string
	applied         map[string]string // resourceVersions after this apply

	created  []*manifest.Object // objects this attempt created (for --cleanup-on-fail)
	outcomes []hooks.Outcome
	stats    deployStats
}

type deployStats struct {
	Created, Configured, Unchanged, Pruned, Kept int
	HooksRun                                     int
}

// run executes the deployment. A hook failure with policy rollback is returned as a
// *hooks.FailedError with Rollback set.
func (d *deployment) run(ctx context.Context) error {
	if !d.opts.NoHooks && d.pre != "" {
		if err := d.runHooks(ctx, d.pre); err != nil {
			return err
		}
	}
	plan, err := apply.BuildPlan(d.objects)
	if err != nil {
		return err
	}
	waiter := &health.Waiter{Client: d.c.Apply, JobsReadyOnStart: d.opts.JobsReadyOnStart, Observe: func(s health.State) {
		action := "waiting"
		switch {
		case s.Ready():
			action = "ready"
		case s.Status == "Failed":
			action = "failed"
		}
		d.c.emit(d.name, Event{Type: "object", Name: s.Key.String(), Action: action, Detail: s.Message})
	}}
	for _, wave := range plan.Waves() {
		w := wave
		d.c.emit(d.name, Event{Type: "wave", Action: "started", Wave: &w, Name: "wave " + strconv.Itoa(w)})
		var waveObjs []*manifest.Object
		for _, step := range plan.Steps {
			if step.Wave != wave {
				continue
			}
			send := d.skipUnchanged(step.Objects, &w)
			res, err := d.c.Apply.ApplyStep(ctx, send, apply.Options{
				ReleaseName: d.name, ReleaseNamespace: d.ns, Force: d.opts.ForceConflicts, TakeOwnership: d.opts.TakeOwnership,
				Observe: func(e apply.Event) {
					d.c.emit(d.name, Event{Type: "object", Name: e.Key.String(), Action: e.Action, Wave: &w, Detail: errString(e.Err)})
				},
			})
			for i, r := range res {
				if r.Live != nil {
					d.recordApplied(r.Key, r.Live.GetResourceVersion())
				}
				switch r.Action {
				case "created":
					d.stats.Created++
					d.created = append(d.created, send[i])
				case "configured":
					d.stats.Configured++
				case "unchanged":
					d.stats.Unchanged++
				}
			}
			if err != nil {
				return fmt.Errorf("wave %d: %w", wave, err)
			}
			waveObjs = append(waveObjs, step.Objects...)
		}
		if d.opts.Wait {
			if err := waiter.Wait(ctx, waitable(waveObjs)); err != nil {
				return fmt.Errorf("wave %d: %w", wave, err)
			}
			if err := d.customChecks(ctx, waitable(waveObjs)); err != nil {
				return fmt.Errorf("wave %d: %w", wave, err)
			}
			d.c.emit(d.name, Event{Type: "wave", Action: "ready", Wave: &w, Name: "wave " + strconv.Itoa(w)})
		}
	}
	if len(d.prune) > 0 {
		if err := d.pruneLeftovers(ctx); err != nil {
			return err
		}
	}
	if !d.opts.NoHooks && d.post != "" {
		if err := d.runHooks(ctx, d.post); err != nil {
			return err
		}
	}
	return nil
}

// customChecks runs the sherpack.io/health-check checks of a wave's objects, in parallel.
func (d *deployment) customChecks(ctx context.Context, objs []*manifest.Object) error {
	type job struct {
		obj *manifest.Object
		hc  *manifest.HealthCheck
	}
	var jobs []job
	for _, o := range objs {
		if a, _ := manifest.ParseAnnotations(o); a.HealthCheck != nil {
			jobs = append(jobs, job{o, a.HealthCheck})
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	checker := &health.Checker{Typed: d.c.Typed, Config: d.c.Config}
	errs := make([]error, len(jobs))
	parallel(len(jobs), 8, func(i int) {
		j := jobs[i]
		name := j.obj.Key().String()
		d.c.emit(d.name, Event{Type: "check", Name: name, Action: "checking", Detail: j.hc.Type})
		errs[i] = checker.Run(ctx, j.obj, j.hc, func(msg string) {
			d.c.emit(d.name, Event{Type: "check", Name: name, Action: "waiting", Detail: msg})
		})
		action := "passed"
		if errs[i] != nil {
			action = "failed"
		}
		d.c.emit(d.name, Event{Type: "check", Name: name, Action: action, Detail: errString(errs[i])})
	})
	return errors.Join(errs...)
}

// skipUnchanged keeps the objects that need an apply. An object is skipped when it renders
// exactly as the previous revision had it and the cluster still holds it at the resourceVersion
// that revision left: nobody touched it, so a server-side apply would change nothing.
func (d *deployment) skipUnchanged(objs []*manifest.Object, wave *int) []*manifest.Object {
	if len(d.previous) == 0 {
		return objs
	}
	var send []*manifest.Object
	for _, o := range objs {
		apply.Label(o.Unstructured, d.name, d.ns)
		k := normKey(o, d.ns)
		prev, ok := d.previous[k]
		rv := d.previousApplied[k.String()]
		if ok && rv != "" && o.GetNamespace() == "" {
			o.SetNamespace(prev.GetNamespace())
		}
		if ok && rv != "" && d.c.Apply.KnownResourceVersion(k) == rv && equality.Semantic.DeepEqual(prev.Object, o.Object) {
			d.stats.Unchanged++
			d.recordApplied(k, rv)
			d.c.emit(d.name, Event{Type: "object", Name: k.String(), Action: "unchanged", Wave: wave})
			continue
		}
		send = append(send, o)
	}
	return send
}

// record writes what the deployment did into its revision: objects, where it left them, hooks.
func (d *deployment) record(rel *releases.Release, previousHooks []releases.Hook) {
	rel.Manifest = encodeManifest(d.objects)
	rel.Applied = d.applied
	rel.Hooks = hookRecords(d.hooks, d.outcomes, previousHooks)
}

// setPrevious gives the deployment what the last deployed revision applied (decoded through
// stored, which may be nil). The objects are only read.
func (d *deployment) setPrevious(r *releases.Release, stored revisionObjects) {
	if r == nil || len(r.Applied) == 0 {
		return
	}
	objs, err := stored.decode(r)
	if err != nil {
		return
	}
	d.previous = map[manifest.Key]*manifest.Object{}
	for _, o := range objs {
		d.previous[normKey(o, d.ns)] = o
	}
	d.previousApplied = r.Applied
}

func (d *deployment) recordApplied(k manifest.Key, rv string) {
	if d.applied == nil {
		d.applied = map[string]string{}
	}
	if k.Namespace == "" {
		k.Namespace = d.ns
	}
	d.applied[k.String()] = rv
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// waitable drops objects marked sherpack.io/skip-wait.
func waitable(objs []*manifest.Object) []*manifest.Object {
	var out []*manifest.Object
	for _, o := range objs {
		if a, _ := manifest.ParseAnnotations(o); !a.SkipWait {
			out = append(out, o)
		}
	}
	return out
}

func (d *deployment) runHooks(ctx context.Context, phase string) error {
	r := &hooks.Runner{Client: d.c.Apply, Typed: d.c.Typed, Release: d.name, ReleaseNamespace: d.ns,
		Observe: func(e hooks.Event) {
			d.c.emit(d.name, Event{Type: "hook", Name: e.Hook.String(), Action: e.Action, Detail: e.Phase + " " + e.Detail})
		}}
	// Hooks run in the release namespace.
	for _, h := range d.hooks {
		h.SetNamespace(d.ns)
	}
	out, err := r.Run(ctx, d.hooks, phase)
	d.outcomes = append(d.outcomes, out...)
	d.stats.HooksRun += len(out)
	return err
}

// pruneLeftovers deletes what the previous revisions had and this one does not.
func (d *deployment) pruneLeftovers(ctx context.Context) error {
	keep := map[manifest.Key]bool{}
	for _, o := range d.objects {
		keep[normKey(o, d.ns)] = true
	}
	var gone []*manifest.Object
	seen := map[manifest.Key]bool{}
	for _, o := range d.prune {
		k := normKey(o, d.ns)
		if keep[k] || seen[k] {
			continue
		}
		seen[k] = true
		gone = append(gone, o)
	}
	if len(gone) == 0 {
		return nil
	}
	nsObjs, gone := splitNamespaces(gone)
	var kept []apply.DeleteResult
	if !d.opts.DeleteCRDs {
		var crds []*manifest.Object
		crds, gone = splitCRDs(gone)
		kept = d.c.keepCRDs(ctx, d.name, crds)
	}
	res, err := d.c.Apply.Delete(ctx, gone, apply.DeleteOptions{ReleaseName: d.name, ReleaseNamespace: d.ns, Action: "pruned",
		Observe: func(e apply.Event) { d.c.emit(d.name, Event{Type: "object", Name: e.Key.String(), Action: e.Action}) }})
	res = append(res, kept...)
	if err == nil {
		res = append(res, d.c.deleteNamespaces(ctx, nsObjs, nsDeletion{name: d.name, ns: d.ns, objects: d.objects, recordsStay: true, action: "pruned"})...)
	}
	for _, r := range res {
		switch r.Action {
		case "deleted":
			d.stats.Pruned++
		case "kept":
			d.stats.Kept++
			if r.Key.Kind == "Namespace" {
				d.c.emit(d.name, Event{Type: "object", Name: r.Key.String(), Action: "kept", Detail: r.Reason})
			}
		case "unknown-kind":
			d.c.emit(d.name, Event{Type: "object", Name: r.Key.String(), Action: "not-pruned", Detail: r.Reason})
		}
	}
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	return nil
}

// normKey is an object's key with the release namespace for objects that name none.
func normKey(o *manifest.Object, ns string) manifest.Key {
	k := o.Key()
	if k.Namespace == "" {
		k.Namespace = ns
	}
	return k
}

// hookRecords turns hooks and their outcomes into what the release stores.
func hookRecords(hs []*manifest.Object, outcomes []hooks.Outcome, previous []releases.Hook) []releases.Hook {
	last := map[string]*releases.HookRun{}
	for _, h := range previous {
		if h.LastRun != nil {
			last[h.Kind+"/"+h.Name] = h.LastRun
		}
	}
	for _, o := range outcomes {
		res := "succeeded"
		if !o.Succeeded {
			res = "failed"
		}
		last[o.Kind+"/"+o.Name] = &releases.HookRun{Phase: o.Phase, Started: o.Started, Finished: o.Finished, Result: res, Message: o.Message}
	}
	var out []releases.Hook
	for _, h := range hs {
		ann, _ := manifest.ParseAnnotations(h)
		y, _ := manifest.Encode([]*manifest.Object{h}, false)
		out = append(out, releases.Hook{Name: h.GetName(), Kind: h.GetKind(), Phases: ann.HookPhases, Weight: ann.HookWeight,
			Manifest: string(y), LastRun: last[h.GetKind()+"/"+h.GetName()]})
	}
	return out
}

// decodeManifest reads a stored manifest back into objects.
func decodeManifest(r *releases.Release) ([]*manifest.Object, error) {
	if r == nil || r.Manifest == "" {
		return nil, nil
	}
	return manifest.Decode([]byte(r.Manifest), fmt.Sprintf("release %s revision %d", r.Name, r.Revision))
}

// revisionObjects are the decoded manifests of one release's revisions, by revision, for an
// operation that reads a revision more than once: decoding thousands of objects is the costly
// part of reading a record. The objects are shared: whoever modifies them (applies or deletes
// them) must be the last to use them. A nil revisionObjects decodes every time.
type revisionObjects map[int][]*manifest.Object

func (s revisionObjects) decode(r *releases.Release) ([]*manifest.Object, error) {
	if r == nil {
		return nil, nil
	}
	if objs, ok := s[r.Revision]; ok {
		return objs, nil
	}
	objs, err := decodeManifest(r)
	if err == nil && s != nil {
		s[r.Revision] = objs
	}
	return objs, err
}

func decodeHooks(r *releases.Release) ([]*manifest.Object, error) {
	var out []*manifest.Object
	for _, h := range r.Hooks {
		objs, err := manifest.Decode([]byte(h.Manifest), fmt.Sprintf("release %s revision %d hook %s", r.Name, r.Revision, h.Name))
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func encodeManifest(objs []*manifest.Object) string {
	b, _ := manifest.Encode(objs, true)
	return string(b)
}

// markCRDsKept: CRDs of a pack's crds/ are never deleted by uninstall (their deletion would
// delete every custom resource of the cluster).
func markCRDsKept(crds []*manifest.Object) {
	for _, c := range crds {
		a := c.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		if _, set := a[manifest.AnnResourcePolicy]; !set {
			a[manifest.AnnResourcePolicy] = "keep"
		}
		c.SetAnnotations(a)
	}
}

// finish records the outcome: on success deployed (and the previous deployed superseded), on
// failure failed with the reason; then the history is pruned. It runs past the caller's context
// (a signal, the --timeout) but not past the lock, and within the grace period after a signal.
// Once the revision is marked deployed the deploy has succeeded: what fails after that is a
// warning, repaired by the next operation.
func (c *Client) finish(ctx context.Context, op *releases.Operation, rel *releases.Release, deployErr error) error {
	rctx, cancel := c.afterContext(ctx, op, 30*time.Second, true)
	defer cancel()
	if deployErr != nil {
		warnings, err := c.Store.MarkFailed(rctx, rel, deployErr.Error())
		if err != nil {
			return errors.Join(deployErr, fmt.Errorf("could not record the failure: %w", err))
		}
		c.warn(rel.Name, warnings)
		return nil
	}
	rel.SweepKinds = nil // what was left to sweep is swept: this revision is the new base
	warnings, err := c.Store.MarkDeployed(rctx, rel, rel.Description)
	if err != nil {
		return err
	}
	c.warn(rel.Name, warnings)
	return nil
}
