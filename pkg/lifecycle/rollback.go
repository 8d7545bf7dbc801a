package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// RollbackOptions of Rollback.
type RollbackOptions struct {
	CommonOptions
	Name, Namespace string
	// Revision to go back to; 0 means the previous deployed one.
	Revision int
}

// Rollback makes a new revision that runs what an earlier one had (its manifest, values,
// hooks, pack), with pre/post-rollback hooks, pruning what the current revision added.
func (c *Client) Rollback(ctx context.Context, o RollbackOptions) (_ *Outcome, err error) {
	op, err := c.Store.Begin(ctx, o.Namespace, o.Name, "rollback")
	if err != nil {
		return nil, err
	}
	defer op.End(context.WithoutCancel(ctx))
	defer explain(ctx, op, &err)
	latest, err := c.Store.Latest(op.Context(), o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	return c.rollbackLocked(ctx, op.Context(), op, o, latest, "Rollback to %d")
}

// rollbackTarget picks the revision to go back to.
func (c *Client) rollbackTarget(ctx context.Context, o RollbackOptions, latest *releases.Release) (*releases.Release, error) {
	if o.Revision > 0 {
		if o.Revision == latest.Revision && latest.State == releases.StateDeployed {
			return nil, &InputError{Err: fmt.Errorf("revision %d of %s is the one deployed now; name an earlier revision (see: kubectl sherpack history %s)", o.Revision, o.Name, o.Name)}
		}
		return c.Store.Get(ctx, o.Namespace, o.Name, o.Revision)
	}
	hist, err := c.Store.History(ctx, o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	current := 0
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].State == releases.StateDeployed {
			current = hist[i].Revision
			break
		}
	}
	for i := len(hist) - 1; i >= 0; i-- {
		m := hist[i]
		if m.Revision == latest.Revision || m.Revision == current {
			continue
		}
		if m.State == releases.StateSuperseded || m.State == releases.StateDeployed {
			return c.Store.Get(ctx, o.Namespace, o.Name, m.Revision)
		}
	}
	return nil, &InputError{Err: fmt.Errorf("release %s has no earlier deployed revision to roll back to (see: kubectl sherpack history %s)", o.Name, o.Name)}
}

// rollbackLocked runs a rollback under a lock already held; work is the context its steps run
// in (the operation's, or the grace period of an --atomic undo), ctx the caller's.
func (c *Client) rollbackLocked(ctx, work context.Context, op *releases.Operation, o RollbackOptions, latest *releases.Release, descFormat string) (*Outcome, error) {
	start := time.Now()
	target, err := c.rollbackTarget(work, o, latest)
	if err != nil {
		return nil, err
	}
	objects, err := decodeManifest(target)
	if err != nil {
		return nil, err
	}
	hooksObjs, err := decodeHooks(target)
	if err != nil {
		return nil, err
	}
	lastDeployed, _ := c.Store.LastDeployed(work, o.Namespace, o.Name)
	stored := revisionObjects{} // not the target's objects: those are applied, and so modified
	prune, err := c.orphanCandidates(work, o.Name, o.Namespace, latest, lastDeployed, objects, stored)
	if err != nil {
		return nil, err
	}
	desc := o.Description
	if desc == "" {
		desc = fmt.Sprintf(descFormat, target.Revision)
	}
	holder := op.Holder
	rel := &releases.Release{Name: o.Name, Namespace: o.Namespace, Revision: latest.Revision + 1, State: releases.StatePendingRollback,
		Pack: target.Pack, Values: target.Values, UserValues: target.UserValues, Provenance: target.Provenance,
		Manifest: target.Manifest, Hooks: target.Hooks, GeneratedSecrets: target.GeneratedSecrets, Notes: target.Notes, Labels: target.Labels,
		Description: desc, ApplyMethod: "server-side-apply", Holder: &holder, SweepKinds: sweepKinds(latest, prune)}
	if err := c.Store.Create(work, rel); err != nil {
		return nil, err
	}
	c.emit(o.Name, Event{Type: "operation", Action: "started", Name: "rollback", Detail: fmt.Sprintf("revision %d, as revision %d", rel.Revision, target.Revision)})
	dctx, cancel := context.WithTimeout(work, o.timeout())
	defer cancel()
	d := &deployment{c: c, name: o.Name, ns: o.Namespace, opts: o.CommonOptions, objects: objects, hooks: hooksObjs,
		prune: prune, pre: "pre-rollback", post: "post-rollback"}
	d.setPrevious(lastDeployed, stored)
	derr := d.run(dctx)
	d.record(rel, target.Hooks)
	if derr != nil {
		derr = describeTimeout(dctx, stopCause(ctx, op, derr), o.timeout())
		c.announceInterrupt(ctx, o.Name, rel.Revision, "")
		if err := c.finish(ctx, op, rel, derr); err != nil {
			return nil, errors.Join(derr, err)
		}
		return &Outcome{Release: rel, Stats: d.stats}, &OperationError{Op: "rollback", Release: o.Name, Revision: rel.Revision, Err: derr}
	}
	if err := c.finish(ctx, op, rel, nil); err != nil {
		return nil, err
	}
	return &Outcome{Release: rel, Stats: d.stats, Duration: time.Since(start), Notes: rel.Notes}, nil
}
