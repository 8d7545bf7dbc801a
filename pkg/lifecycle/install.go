package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/hooks"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// InstallOptions of Install.
type InstallOptions struct {
	CommonOptions
	Name, Namespace string
	Render          RenderFunc
}

// Outcome is what an operation did, for the summary.
type Outcome struct {
	Release  *releases.Release
	Stats    deployStats
	Duration time.Duration
	// Plan is set for client dry runs: the objects in apply order.
	Plan *apply.Plan
	// DryRun results (server): what would be created, changed, pruned.
	DryRunResults []apply.Result
	Notes         string
}

// Install installs a release. An existing deployed release is refused; a failed or
// uninstalled (with history) one is replaced by a new revision.
func (c *Client) Install(ctx context.Context, o InstallOptions) (_ *Outcome, err error) {
	start := time.Now()
	if err := releases.ValidateName(o.Name); err != nil {
		return nil, err
	}
	if o.DryRun == DryRunClient {
		return c.clientDryRun(o.Name, o.Namespace, 1, true, o.Render, nil)
	}
	if o.DryRun == DryRunServer {
		return c.serverDryRun(ctx, o.Name, o.Namespace, 1, true, o.Render, nil, nil)
	}
	if err := c.prepareNamespace(ctx, o.Name, o.Namespace, o.CreateNamespace, o.Render); err != nil {
		return nil, err
	}
	op, err := c.Store.Begin(ctx, o.Namespace, o.Name, "install")
	if err != nil {
		return nil, err
	}
	defer op.End(context.WithoutCancel(ctx))
	defer explain(ctx, op, &err)
	revision := 1
	var leftovers []*manifest.Object
	latest, err := c.Store.Latest(op.Context(), o.Namespace, o.Name)
	switch {
	case releases.IsNotFound(err):
	case err != nil:
		return nil, err
	default:
		if exists, err := c.installedRevision(op.Context(), o.Namespace, o.Name, latest); err != nil || exists != nil {
			if err == nil {
				err = exists
			}
			return nil, err
		}
		// A failed first install, or an uninstalled release with its history: replaced by a
		// new revision, and what the failed attempts applied and this one no longer has goes.
		revision = latest.Revision + 1
		if latest.State == releases.StateFailed {
			if leftovers, err = c.orphanCandidates(op.Context(), o.Name, o.Namespace, latest, nil, nil, nil); err != nil {
				return nil, err
			}
		}
	}
	return c.installRevision(ctx, op, o, revision, start, leftovers)
}

// installedRevision refuses an install over a release that has a deployed revision, even with
// failed upgrades after it (Helm's rule): that release is changed with upgrade.
func (c *Client) installedRevision(ctx context.Context, namespace, name string, latest *releases.Release) (*ExistsError, error) {
	hist, err := c.Store.History(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	b := releases.InstallBlocker(hist)
	if b == nil {
		return nil, nil
	}
	e := &ExistsError{Name: name, Namespace: namespace, Revision: b.Revision, State: b.State}
	if latest.Revision > b.Revision {
		e.Latest, e.LatestState = latest.Revision, latest.State
	}
	return e, nil
}

// ExistsError: install of a release that is already deployed.
type ExistsError struct {
	Name, Namespace string
	Revision        int
	State           releases.State
	// Latest is a newer revision (a failed upgrade), if any.
	Latest      int
	LatestState releases.State
}

func (e *ExistsError) Error() string {
	what := fmt.Sprintf("revision %d, %s", e.Revision, e.State)
	if e.Latest > e.Revision {
		what += fmt.Sprintf("; revision %d after it is %s", e.Latest, e.LatestState)
	}
	return fmt.Sprintf("release %s already exists in namespace %s (%s): use `kubectl sherpack upgrade %s ...` to change it, "+
		"or uninstall it first to install afresh", e.Name, e.Namespace, what, e.Name)
}

// ExitCode is 3: the input names a release that exists.
func (e *ExistsError) ExitCode() int { return 3 }

func (c *Client) installRevision(ctx context.Context, op *releases.Operation, o InstallOptions, revision int, start time.Time, leftovers []*manifest.Object) (*Outcome, error) {
	rendered, err := o.Render(render.ReleaseInfo{Name: o.Name, Namespace: o.Namespace, Revision: revision, IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	objects, rel, err := c.begin(op, o.Name, o.Namespace, revision, releases.StatePendingInstall, rendered, o.CommonOptions, sweepKinds(nil, leftovers))
	if err != nil {
		return nil, err
	}
	dctx, cancel := withDeadline(op, o.timeout())
	defer cancel()
	d := &deployment{c: c, name: o.Name, ns: o.Namespace, opts: o.CommonOptions, objects: objects, hooks: rendered.Hooks,
		prune: leftovers, pre: "pre-install", post: "post-install"}
	derr := d.run(dctx)
	d.record(rel, nil)
	if derr != nil {
		derr = describeTimeout(dctx, stopCause(dctx, op, derr), o.timeout())
		var undone string
		var hf *hooks.FailedError
		if o.Atomic || (errors.As(derr, &hf) && hf.Rollback) {
			c.announceInterrupt(ctx, o.Name, revision, "deleting what it applied (--atomic)")
			undone = c.undoInstall(ctx, op, o.Name, o.Namespace, objects)
		} else {
			c.announceInterrupt(ctx, o.Name, revision, "")
		}
		if err := c.finish(ctx, op, rel, derr); err != nil {
			return nil, err
		}
		return &Outcome{Release: rel, Stats: d.stats}, &OperationError{Op: "install", Release: o.Name, Revision: revision, Err: derr, Undone: undone}
	}
	if rel.Description == "" {
		rel.Description = "Install complete"
	}
	if err := c.finish(ctx, op, rel, nil); err != nil {
		return nil, err
	}
	return &Outcome{Release: rel, Stats: d.stats, Duration: time.Since(start), Notes: rel.Notes}, nil
}

// undoInstall deletes what a failed install applied (--atomic).
func (c *Client) undoInstall(ctx context.Context, op *releases.Operation, name, ns string, objects []*manifest.Object) string {
	if op.Lost() != nil {
		return "Nothing was undone: the lock was lost, and undoing could delete what another operation applies."
	}
	ctx, cancel := c.afterContext(ctx, op, 2*time.Minute, false)
	defer cancel()
	_, err := c.Apply.Delete(ctx, objects, apply.DeleteOptions{ReleaseName: name, ReleaseNamespace: ns,
		Observe: func(e apply.Event) { c.emit(name, Event{Type: "object", Name: e.Key.String(), Action: e.Action}) }})
	if err != nil {
		return fmt.Sprintf("Uninstalling what was applied (--atomic) failed too: %v", stopCause(ctx, op, err))
	}
	return "Everything it had applied was deleted (--atomic)."
}

// InputError: the release's content is wrong (exit code 3).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ExitCode is 3.
func (e *InputError) ExitCode() int { return 3 }

func newRecord(name, ns string, revision int, state releases.State, r *Rendered, h releases.Holder, objects []*manifest.Object, desc string) *releases.Release {
	holder := h
	rel := &releases.Release{Name: name, Namespace: ns, Revision: revision, State: state, Manifest: encodeManifest(objects),
		Notes: r.Notes, Description: desc, ApplyMethod: "server-side-apply", Holder: &holder}
	rel.Hooks = hookRecords(r.Hooks, nil, nil)
	rel.Labels = r.Labels
	recordSecrets(rel, r)
	if r.Pack != nil {
		rel.Pack = releases.PackInfo{Name: r.Pack.Metadata.Name, Version: r.Pack.Metadata.Version, AppVersion: r.Pack.Metadata.AppVersion, Description: r.Pack.Metadata.Description}
	} else {
		rel.Pack = releases.PackInfo{Name: "manifests"}
	}
	if r.Values != nil {
		rel.Values, rel.UserValues = r.Values.Values, r.Values.User
		rel.Provenance = map[string]releases.ValueSource{}
		for k, s := range r.Values.Provenance {
			rel.Provenance[k] = releases.ValueSource{Kind: s.Kind, Source: s.Name}
		}
	}
	return rel
}

func (c *Client) checkKubeVersion(r *Rendered) error {
	if r.Pack == nil || r.Pack.Metadata.KubeVersion == "" || c.Apply == nil {
		return nil
	}
	v, err := c.Apply.Discovery.ServerVersion()
	if err != nil {
		return nil // unknown version: nothing to enforce against
	}
	if err := r.Pack.CheckKubeVersion(v.GitVersion); err != nil {
		return &InputError{Err: err}
	}
	return nil
}

// describeTimeout replaces a bare "context deadline exceeded" with what ran out.
func describeTimeout(ctx context.Context, err error, d time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) || (ctx.Err() == context.DeadlineExceeded && !isNotReady(err)) {
		return fmt.Errorf("timed out after %s (--timeout): %w", d, err)
	}
	return err
}

// clientDryRun renders and returns the plan; nothing is sent to the cluster or stored.
func (c *Client) clientDryRun(name, ns string, revision int, install bool, rf RenderFunc, prev []pack.Layer) (*Outcome, error) {
	rendered, err := rf(render.ReleaseInfo{Name: name, Namespace: ns, Revision: revision, IsInstall: install, IsUpgrade: !install}, prev)
	if err != nil {
		return nil, err
	}
	objects := append(append([]*manifest.Object{}, rendered.CRDs...), rendered.Objects...)
	plan, err := apply.BuildPlan(objects)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	rel := newRecord(name, ns, revision, releases.StatePendingInstall, rendered, releases.Holder{}, objects, "dry run")
	return &Outcome{Release: rel, Plan: plan, Notes: rendered.Notes}, nil
}

// serverDryRun sends every object with dryRun=All: admission and validation run for real.
func (c *Client) serverDryRun(ctx context.Context, name, ns string, revision int, install bool, rf RenderFunc, prev []pack.Layer, previous []*manifest.Object) (*Outcome, error) {
	out, err := c.clientDryRun(name, ns, revision, install, rf, prev)
	if err != nil {
		return nil, err
	}
	var results []apply.Result
	crdKinds := map[string]bool{}
	for _, step := range out.Plan.Steps {
		var send []*manifest.Object
		for _, o := range step.Objects {
			if crdKinds[o.GroupVersionKind().Group+"/"+o.GetKind()] {
				results = append(results, apply.Result{Key: o.Key(), Action: "created (its CRD is created first)"})
				continue
			}
			if o.GetKind() == "CustomResourceDefinition" {
				g, k := crdGroupKind(o)
				gvk := schemaGVK(g, k)
				gvk.Version = crdVersion(o)
				if _, err := c.Apply.Mapping(gvk); err != nil {
					crdKinds[g+"/"+k] = true
				}
			}
			send = append(send, o)
		}
		res, err := c.Apply.ApplyStep(ctx, send, apply.Options{ReleaseName: name, ReleaseNamespace: ns, DryRun: true})
		if err != nil {
			return nil, &InputError{Err: err}
		}
		results = append(results, res...)
	}
	keep := map[manifest.Key]bool{}
	for _, o := range out.Plan.Objects() {
		keep[normKey(o, ns)] = true
	}
	for _, o := range previous {
		if !keep[normKey(o, ns)] {
			results = append(results, apply.Result{Key: o.Key(), Action: "pruned"})
		}
	}
	out.DryRunResults = results
	return out, nil
}

// PreflightError: the release cannot be applied as it is (an object belongs to someone else, a
// kind is not served). Nothing was written. Exit code 1.
type PreflightError struct{ Err error }

func (e *PreflightError) Error() string {
	return e.Err.Error() + "\nNothing was changed: no object applied, no revision recorded."
}
func (e *PreflightError) Unwrap() error { return e.Err }

// ExitCode is 1.
func (e *PreflightError) ExitCode() int { return 1 }

// begin checks a rendered revision (Kubernetes version, plan, ownership) and records it as
// pending: after it, the operation has started. Nothing is written if a check fails.
func (c *Client) begin(op *releases.Operation, name, ns string, revision int, state releases.State, rendered *Rendered, o CommonOptions, sweep []string) ([]*manifest.Object, *releases.Release, error) {
	if err := c.checkKubeVersion(rendered); err != nil {
		return nil, nil, err
	}
	objects := append(c.packCRDs(op.Context(), rendered, name, ns), rendered.Objects...)
	if _, err := apply.BuildPlan(objects); err != nil {
		return nil, nil, &InputError{Err: err}
	}
	if err := c.checkCRDChanges(op.Context(), rendered, objects); err != nil {
		return nil, nil, err
	}
	if err := c.Apply.Preflight(op.Context(), objects, apply.Options{ReleaseName: name, ReleaseNamespace: ns, TakeOwnership: o.TakeOwnership}); err != nil {
		return nil, nil, &PreflightError{Err: err}
	}
	rel := newRecord(name, ns, revision, state, rendered, op.Holder, objects, o.Description)
	rel.SweepKinds = sweep
	if err := c.Store.Create(op.Context(), rel); err != nil {
		return nil, nil, err
	}
	verb := strings.TrimPrefix(string(state), "pending-")
	c.emit(name, Event{Type: "operation", Action: "started", Name: verb, Detail: fmt.Sprintf("revision %d", revision)})
	return objects, rel, nil
}
