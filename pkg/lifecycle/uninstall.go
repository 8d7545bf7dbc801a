package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/hooks"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// UninstallOptions of Uninstall.
type UninstallOptions struct {
	Name, Namespace string
	KeepHistory     bool
	Wait            bool
	Timeout         time.Duration
	NoHooks         bool
	DryRun          bool
	Description     string
	// DeleteCRDs deletes the release's CustomResourceDefinitions too (and with them every
	// custom resource of their kinds in the cluster); without it they are kept and counted.
	DeleteCRDs bool
}

// UninstallOutcome says what was deleted and what was kept.
type UninstallOutcome struct {
	Release *releases.Release
	Deleted []apply.DeleteResult
	DryRun  bool
}

// Uninstall deletes a release's objects in reverse order (keep-policy respected), with the
// pre/post-delete hooks, then removes its records (or marks them uninstalled with --keep-history).
// A dry run changes nothing, not even the records.
func (c *Client) Uninstall(ctx context.Context, o UninstallOptions) (_ *UninstallOutcome, err error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.DryRun {
		latest, err := c.Store.Latest(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		objs, err := decodeManifest(latest)
		if err != nil {
			return nil, err
		}
		nsObjs, crds, rest := c.protect(o, dedupe(objs, o.Namespace))
		res, err := c.Apply.Delete(ctx, rest, apply.DeleteOptions{ReleaseName: o.Name, ReleaseNamespace: o.Namespace, DryRun: true})
		res = append(res, c.keepCRDs(ctx, o.Name, crds)...)
		res = append(res, c.deleteNamespaces(ctx, nsObjs, nsDeletion{name: o.Name, ns: o.Namespace, objects: objs,
			recordsStay: o.KeepHistory, action: "deleted", dryRun: true})...)
		return &UninstallOutcome{Release: latest, Deleted: res, DryRun: true}, err
	}
	op, err := c.Store.Begin(ctx, o.Namespace, o.Name, "uninstall")
	if err != nil {
		return nil, err
	}
	defer op.End(context.WithoutCancel(ctx))
	defer explain(ctx, op, &err)
	latest, err := c.Store.Latest(op.Context(), o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	if latest.State == releases.StateUninstalled {
		return nil, &InputError{Err: fmt.Errorf("release %s is already uninstalled (its history is kept; `kubectl sherpack install` replaces it)", o.Name)}
	}
	lastDeployed, _ := c.Store.LastDeployed(op.Context(), o.Namespace, o.Name)
	objs, err := c.orphanCandidates(op.Context(), o.Name, o.Namespace, latest, lastDeployed, nil, nil)
	if err != nil {
		return nil, err
	}
	hookObjs, err := decodeHooks(latest)
	if err != nil {
		return nil, err
	}
	if err := c.Store.Transition(op.Context(), latest, releases.StatePendingUninstall, o.Description); err != nil {
		return nil, err
	}
	holder := op.Holder
	latest.Holder = &holder
	c.emit(o.Name, Event{Type: "operation", Action: "started", Name: "uninstall", Detail: fmt.Sprintf("revision %d", latest.Revision)})
	dctx, cancel := withDeadline(op, o.Timeout)
	defer cancel()
	runner := &hooks.Runner{Client: c.Apply, Typed: c.Typed, Release: o.Name, ReleaseNamespace: o.Namespace,
		Observe: func(e hooks.Event) {
			c.emit(o.Name, Event{Type: "hook", Name: e.Hook.String(), Action: e.Action, Detail: e.Phase + " " + e.Detail})
		}}
	for _, h := range hookObjs {
		h.SetNamespace(o.Namespace)
	}
	fail := func(err error) (*UninstallOutcome, error) {
		err = describeTimeout(dctx, stopCause(dctx, op, err), o.Timeout)
		c.announceInterrupt(ctx, o.Name, latest.Revision, "")
		rctx, rcancel := c.afterContext(ctx, op, 30*time.Second, true)
		defer rcancel()
		_ = c.Store.Transition(rctx, latest, releases.StateFailed, "uninstall failed: "+err.Error())
		return nil, &OperationError{Op: "uninstall", Release: o.Name, Err: err}
	}
	if !o.NoHooks {
		if _, err := runner.Run(dctx, hookObjs, "pre-delete"); err != nil {
			return fail(err)
		}
	}
	nsObjs, crds, rest := c.protect(o, dedupe(objs, o.Namespace))
	res, err := c.Apply.Delete(dctx, rest, apply.DeleteOptions{ReleaseName: o.Name, ReleaseNamespace: o.Namespace, Wait: o.Wait,
		Observe: func(e apply.Event) { c.emit(o.Name, Event{Type: "object", Name: e.Key.String(), Action: e.Action}) }})
	if err != nil {
		return fail(err)
	}
	if !o.NoHooks {
		if _, err := runner.Run(dctx, hookObjs, "post-delete"); err != nil {
			return fail(err)
		}
		// Hook objects that stayed (no delete policy fired) go with the release.
		_, _ = c.Apply.Delete(dctx, hookObjs, apply.DeleteOptions{ReleaseName: o.Name, ReleaseNamespace: o.Namespace})
	}
	rctx, rcancel := c.afterContext(ctx, op, 30*time.Second, true)
	defer rcancel()
	if o.KeepHistory {
		warnings, err := c.Store.MarkUninstalled(rctx, latest, "Uninstallation complete")
		if err != nil {
			return nil, err
		}
		c.warn(o.Name, warnings)
	} else if err := c.Store.DeleteAll(rctx, o.Namespace, o.Name); err != nil {
		return nil, err
	}
	res = append(res, c.keepCRDs(dctx, o.Name, crds)...) // counted once the release's own custom resources are gone
	res = append(res, c.deleteNamespaces(dctx, nsObjs, nsDeletion{name: o.Name, ns: o.Namespace, objects: objs,
		recordsStay: o.KeepHistory, action: "deleted"})...)
	return &UninstallOutcome{Release: latest, Deleted: res}, nil
}

func dedupe(objs []*manifest.Object, ns string) []*manifest.Object {
	seen := map[manifest.Key]bool{}
	var out []*manifest.Object
	for _, o := range objs {
		k := normKey(o, ns)
		if !seen[k] {
			seen[k] = true
			out = append(out, o)
		}
	}
	return out
}

// protect takes out of an uninstall what is not deleted with the other objects: Namespace
// objects (deleted last, once the records are gone, and only if nothing else is left in them)
// and, without --delete-crds, CustomResourceDefinitions (kept, their custom resources counted).
func (c *Client) protect(o UninstallOptions, objs []*manifest.Object) (nsObjs, crds, rest []*manifest.Object) {
	nsObjs, rest = splitNamespaces(objs)
	if !o.DeleteCRDs {
		crds, rest = splitCRDs(rest)
	}
	return nsObjs, crds, rest
}
