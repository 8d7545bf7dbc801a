package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/hooks"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// Values modes of an upgrade (Helm 4's meanings).
const (
	// ValuesDefault: no value flags reuse the previous user values; any value flag starts afresh.
	ValuesDefault = ""
	// ValuesReuse: the previous merged values, then the new flags on top.
	ValuesReuse = "reuse"
	// ValuesReset: only the pack's defaults and the new flags.
	ValuesReset = "reset"
	// ValuesResetThenReuse: the new pack's defaults, the previous user values, then the new flags.
	ValuesResetThenReuse = "reset-then-reuse"
)

// UpgradeOptions of Upgrade.
type UpgradeOptions struct {
	CommonOptions
	Name, Namespace string
	Render          RenderFunc
	// ValuesMode is how previous values are reused; UserGaveValues tells whether value flags were given.
	ValuesMode     string
	UserGaveValues bool
	// Install installs when the release does not exist (--install).
	Install bool
	// CleanupOnFail deletes the objects a failed upgrade created.
	CleanupOnFail bool
}

// previousLayers are the values an upgrade starts from.
func previousLayers(prev *releases.Release, mode string, gaveValues bool) []pack.Layer {
	if prev == nil {
		return nil
	}
	src := pack.Source{Kind: "previous-release", Name: fmt.Sprintf("revision %d", prev.Revision)}
	switch mode {
	case ValuesReset:
		return nil
	case ValuesReuse:
		return []pack.Layer{{Source: src, Values: jsonToValues(prev.Values)}}
	case ValuesResetThenReuse:
		return []pack.Layer{{Source: src, Values: jsonToValues(prev.UserValues)}}
	}
	if gaveValues {
		return nil
	}
	return []pack.Layer{{Source: src, Values: jsonToValues(prev.UserValues)}}
}

// Upgrade moves a release to a new revision: pending-upgrade, hooks, apply, wait, prune;
// deployed, and only then is the previous revision superseded.
func (c *Client) Upgrade(ctx context.Context, o UpgradeOptions) (_ *Outcome, err error) {
	start := time.Now()
	if err := releases.ValidateName(o.Name); err != nil {
		return nil, err
	}
	if o.DryRun == DryRunClient || o.DryRun == DryRunServer {
		return c.upgradeDryRun(ctx, o)
	}
	if o.Install {
		if err := c.prepareNamespace(ctx, o.Name, o.Namespace, o.CreateNamespace, o.Render); err != nil {
			return nil, err
		}
	}
	op, err := c.Store.Begin(ctx, o.Namespace, o.Name, "upgrade")
	if err != nil {
		return nil, err
	}
	defer op.End(context.WithoutCancel(ctx))
	defer explain(ctx, op, &err)
	latest, err := c.Store.Latest(op.Context(), o.Namespace, o.Name)
	if releases.IsNotFound(err) {
		if !o.Install {
			return nil, err
		}
		return c.installRevision(ctx, op, InstallOptions{CommonOptions: o.CommonOptions, Name: o.Name, Namespace: o.Namespace, Render: o.Render}, 1, start, nil)
	}
	if err != nil {
		return nil, err
	}
	if latest.State == releases.StateUninstalled && o.Install {
		return c.installRevision(ctx, op, InstallOptions{CommonOptions: o.CommonOptions, Name: o.Name, Namespace: o.Namespace, Render: o.Render}, latest.Revision+1, start, nil)
	}
	lastDeployed, _ := c.Store.LastDeployed(op.Context(), o.Namespace, o.Name)
	base := lastDeployed
	if base == nil {
		base = latest
	}
	revision := latest.Revision + 1
	rendered, err := o.Render(withPreviousSecrets(render.ReleaseInfo{Name: o.Name, Namespace: o.Namespace, Revision: revision, IsUpgrade: true}, base),
		previousLayers(base, o.ValuesMode, o.UserGaveValues))
	if err != nil {
		return nil, err
	}
	// The stored manifests are decoded once: the prune candidates and the previous objects
	// (what an unchanged object is compared with) come from the same revisions.
	stored := revisionObjects{}
	prune, err := c.orphanCandidates(op.Context(), o.Name, o.Namespace, latest, lastDeployed, rendered.Objects, stored)
	if err != nil {
		return nil, err
	}
	objects, rel, err := c.begin(op, o.Name, o.Namespace, revision, releases.StatePendingUpgrade, rendered, o.CommonOptions, sweepKinds(latest, prune))
	if err != nil {
		return nil, err
	}
	dctx, cancel := withDeadline(op, o.timeout())
	defer cancel()
	d := &deployment{c: c, name: o.Name, ns: o.Namespace, opts: o.CommonOptions, objects: objects, hooks: rendered.Hooks,
		prune: prune, pre: "pre-upgrade", post: "post-upgrade"}
	d.setPrevious(lastDeployed, stored)
	derr := d.run(dctx)
	d.record(rel, nil)
	if derr == nil {
		if rel.Description == "" {
			rel.Description = "Upgrade complete"
		}
		if err := c.finish(ctx, op, rel, nil); err != nil {
			return nil, err
		}
		return &Outcome{Release: rel, Stats: d.stats, Duration: time.Since(start), Notes: rel.Notes}, nil
	}
	derr = describeTimeout(dctx, stopCause(dctx, op, derr), o.timeout())
	var hf *hooks.FailedError
	rollback := (o.Atomic || (errors.As(derr, &hf) && hf.Rollback)) && lastDeployed != nil
	cleanup := !rollback && o.CleanupOnFail && len(d.created) > 0
	switch {
	case rollback:
		c.announceInterrupt(ctx, o.Name, revision, fmt.Sprintf("rolling back to revision %d (--atomic)", lastDeployed.Revision))
	case cleanup:
		c.announceInterrupt(ctx, o.Name, revision, fmt.Sprintf("deleting the %d objects it created (--cleanup-on-fail)", len(d.created)))
	default:
		c.announceInterrupt(ctx, o.Name, revision, "")
	}
	if err := c.finish(ctx, op, rel, derr); err != nil {
		return nil, err
	}
	opErr := &OperationError{Op: "upgrade", Release: o.Name, Revision: revision, Err: derr}
	switch {
	case (rollback || cleanup) && op.Lost() != nil:
		opErr.Undone = "Nothing was undone: the lock was lost, and undoing could delete what another operation applies."
	case rollback:
		rctx, rcancel := c.afterContext(ctx, op, o.timeout(), false)
		defer rcancel()
		back, rerr := c.rollbackLocked(ctx, rctx, op, RollbackOptions{CommonOptions: CommonOptions{Wait: o.Wait, Timeout: o.Timeout, NoHooks: true, ForceConflicts: true, HistoryMax: o.HistoryMax},
			Name: o.Name, Namespace: o.Namespace, Revision: lastDeployed.Revision}, rel, "Rollback to %d after failed upgrade (--atomic)")
		if rerr != nil {
			opErr.Undone = fmt.Sprintf("Rolling back to revision %d failed too: %v", lastDeployed.Revision, rerr)
		} else {
			opErr.Undone = fmt.Sprintf("Rolled back to revision %d (--atomic): revision %d now runs what revision %d had.", lastDeployed.Revision, back.Release.Revision, lastDeployed.Revision)
		}
	case cleanup:
		cctx, ccancel := c.afterContext(ctx, op, 2*time.Minute, false)
		defer ccancel()
		if _, err := c.Apply.Delete(cctx, d.created, apply.DeleteOptions{ReleaseName: o.Name, ReleaseNamespace: o.Namespace}); err != nil {
			opErr.Undone = fmt.Sprintf("Deleting the %d objects it created (--cleanup-on-fail) failed: %v", len(d.created), stopCause(cctx, op, err))
		} else {
			opErr.Undone = fmt.Sprintf("The %d objects it created were deleted (--cleanup-on-fail).", len(d.created))
		}
	}
	return &Outcome{Release: rel, Stats: d.stats}, opErr
}

// pruneCandidates: everything the latest and the last deployed revisions had (decoded through
// stored, which may be nil).
func pruneCandidates(latest, lastDeployed *releases.Release, stored revisionObjects) ([]*manifest.Object, error) {
	a, err := stored.decode(latest)
	if err != nil {
		return nil, err
	}
	out := append([]*manifest.Object(nil), a...)
	if lastDeployed == nil || lastDeployed.Revision == latest.Revision {
		return out, nil
	}
	b, err := stored.decode(lastDeployed)
	if err != nil {
		return nil, err
	}
	return append(out, b...), nil
}

func (c *Client) upgradeDryRun(ctx context.Context, o UpgradeOptions) (*Outcome, error) {
	latest, err := c.Store.Latest(ctx, o.Namespace, o.Name)
	if releases.IsNotFound(err) && o.Install {
		if o.DryRun == DryRunClient {
			return c.clientDryRun(o.Name, o.Namespace, 1, true, o.Render, nil)
		}
		return c.serverDryRun(ctx, o.Name, o.Namespace, 1, true, o.Render, nil, nil)
	}
	if err != nil {
		return nil, err
	}
	lastDeployed, _ := c.Store.LastDeployed(ctx, o.Namespace, o.Name)
	base := lastDeployed
	if base == nil {
		base = latest
	}
	prev := previousLayers(base, o.ValuesMode, o.UserGaveValues)
	if o.DryRun == DryRunClient {
		return c.clientDryRun(o.Name, o.Namespace, latest.Revision+1, false, o.Render, prev)
	}
	old, err := pruneCandidates(latest, lastDeployed, nil)
	if err != nil {
		return nil, err
	}
	return c.serverDryRun(ctx, o.Name, o.Namespace, latest.Revision+1, false, o.Render, prev, old)
}

// jsonToValues turns stored values (JSON numbers) back into values with integers.
func jsonToValues(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	v, _ := pack.Normalize(pack.DeepCopy(m)).(map[string]any)
	return v
}
