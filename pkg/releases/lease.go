package releases

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// annHolder carries the Holder (who, where, doing what) on the Lease.
const annHolder = "sherpack.io/holder"

// LockName is the name of a release's Lease.
func LockName(name string) string { return "sh.sherpack.lock." + name }

func (d *kubeDriver) leaseName(namespace, name string) string {
	if d.opts.Namespace != "" {
		return "sh.sherpack.lock." + namespace + "." + name
	}
	return LockName(name)
}

// Lock takes the release's Lease (coordination.k8s.io/v1) next to its records.
func (d *kubeDriver) Lock(ctx context.Context, namespace, name string, h Holder, ttl time.Duration) (Lock, error) {
	return acquireLease(ctx, d.client, d.now, d.opts.Notify, d.ns(namespace), d.leaseName(namespace, name), namespace, name, h, ttl)
}

// now is this client's wall clock (KubeOptions.Clock in tests).
func (d *kubeDriver) now() time.Time {
	if d.opts.Clock != nil {
		return d.opts.Clock().UTC()
	}
	return time.Now().UTC()
}

// LockActive tells whether someone holds and renews the release's Lease, without writing it.
func (d *kubeDriver) LockActive(ctx context.Context, namespace, name string) (bool, error) {
	ns, leaseName := d.ns(namespace), d.leaseName(namespace, name)
	leases := d.client.CoordinationV1().Leases(ns)
	cur, err := leases.Get(ctx, leaseName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read lock Lease %s/%s: %w", ns, leaseName, err)
	}
	_, held, _, expires := leaseState(cur)
	if !held {
		return false, nil
	}
	if d.now().Before(expires) {
		return true, nil
	}
	changed, _, err := watchLease(ctx, leases, cur)
	return changed, err
}

type leaseLock struct {
	cs      kubernetes.Interface
	mu      sync.Mutex // lease is renewed in the background while the operation may release it
	lease   *coordinationv1.Lease
	holder  Holder
	expired *Holder
	clock   func() time.Time
	takenAt time.Time // (monotonic) when the write that took the Lease was sent
}

func (l *leaseLock) TakenAt() time.Time { return l.takenAt }

// current is a copy of the Lease as last written or read.
func (l *leaseLock) current() *coordinationv1.Lease {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lease.DeepCopy()
}

func (l *leaseLock) set(lease *coordinationv1.Lease) { l.mu.Lock(); l.lease = lease; l.mu.Unlock() }

func acquireLease(ctx context.Context, cs kubernetes.Interface, clock func() time.Time, notify func(string), ns, leaseName, relNS, relName string, h Holder, ttl time.Duration) (Lock, error) {
	leases := cs.CoordinationV1().Leases(ns)
	holderJSON, _ := json.Marshal(h)
	secs := int32(max(1, ttl/time.Second))
	// lost counts writes whose answer was lost: a few are looked at again (the write may have
	// landed); more means the API server is not answering, which is said as it is.
	lost := 0
	var lastErr error
	var firstWrite time.Time // when our first write of this take was sent
	for attempt := 0; attempt < 10; attempt++ {
		if lost > 3 {
			return nil, fmt.Errorf("take lock Lease %s/%s: %w", ns, leaseName, lastErr)
		}
		now := metav1.NewMicroTime(clock())
		cur, err := leases.Get(ctx, leaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			l := &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: leaseName, Namespace: ns,
					Labels:      map[string]string{labelOwner: ownerRelease, labelName: relName},
					Annotations: map[string]string{annHolder: string(holderJSON)}},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &h.ID, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
			}
			sent := time.Now()
			if firstWrite.IsZero() {
				firstWrite = sent
			}
			created, err := leases.Create(ctx, l, metav1.CreateOptions{})
			if transient(err) {
				lost, lastErr = lost+1, err
			}
			if apierrors.IsAlreadyExists(err) || transient(err) {
				pause(ctx, attempt)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("take lock Lease %s/%s: %w", ns, leaseName, err)
			}
			return &leaseLock{cs: cs, lease: created, holder: h, clock: clock, takenAt: sent}, nil
		}
		if err != nil {
			// The client has already retried what a read can retry.
			return nil, fmt.Errorf("read lock Lease %s/%s: %w", ns, leaseName, err)
		}
		prev, held, renewed, expires := leaseState(cur)
		if held && prev.ID == h.ID {
			// Our own earlier attempt landed although its answer was lost.
			return &leaseLock{cs: cs, lease: cur, holder: h, clock: clock, takenAt: firstWrite}, nil
		}
		if held && clock().Before(expires) {
			return nil, &LockedError{Namespace: relNS, Name: relName, Holder: prev, RenewedAt: renewed, Expires: expires}
		}
		if held {
			// Expired by this machine's clock, which may be ahead of the holder's: trust only
			// what this client sees itself, as client-go's leader election does. The Lease is
			// expired when it has not changed for a full TTL since it was first seen here.
			if notify != nil {
				notify(fmt.Sprintf("the lock of release %s was last renewed at %s by %s; making sure nobody renews it any more (up to %s) before taking it over",
					relName, renewed.Local().Format("15:04:05"), prev, expires.Sub(renewed)))
			}
			changed, latest, err := watchLease(ctx, leases, cur)
			if err != nil {
				return nil, err
			}
			if changed {
				if p, stillHeld, r, e := leaseState(latest); stillHeld && p.ID != h.ID {
					return nil, &LockedError{Namespace: relNS, Name: relName, Holder: p, RenewedAt: r, Expires: e}
				}
				continue // released or replaced meanwhile: look again
			}
		}
		next := cur.DeepCopy()
		if next.Annotations == nil {
			next.Annotations = map[string]string{}
		}
		next.Annotations[annHolder] = string(holderJSON)
		trans := int32(1)
		if cur.Spec.LeaseTransitions != nil {
			trans = *cur.Spec.LeaseTransitions + 1
		}
		now = metav1.NewMicroTime(clock())
		sent := time.Now()
		if firstWrite.IsZero() {
			firstWrite = sent
		}
		next.Spec = coordinationv1.LeaseSpec{HolderIdentity: &h.ID, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now, LeaseTransitions: &trans}
		updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
		if transient(err) {
			lost, lastErr = lost+1, err
		}
		if apierrors.IsConflict(err) || transient(err) {
			pause(ctx, attempt)
			continue // someone else moved first, or the answer was lost: look again
		}
		if err != nil {
			return nil, fmt.Errorf("take lock Lease %s/%s: %w", ns, leaseName, err)
		}
		l := &leaseLock{cs: cs, lease: updated, holder: h, clock: clock, takenAt: sent}
		if held {
			l.expired = &prev
		}
		return l, nil
	}
	return nil, fmt.Errorf("lock Lease %s/%s: too much contention, try again", ns, leaseName)
}

// leaseState reads who holds a Lease and until when.
func leaseState(l *coordinationv1.Lease) (h Holder, held bool, renewed, expires time.Time) {
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return Holder{}, false, time.Time{}, time.Time{}
	}
	_ = json.Unmarshal([]byte(l.Annotations[annHolder]), &h)
	if h.ID == "" {
		h.ID = *l.Spec.HolderIdentity
	}
	if l.Spec.RenewTime != nil {
		renewed = l.Spec.RenewTime.Time
	} else if l.Spec.AcquireTime != nil {
		renewed = l.Spec.AcquireTime.Time
	}
	dur := time.Duration(0)
	if l.Spec.LeaseDurationSeconds != nil {
		dur = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return h, true, renewed, renewed.Add(dur)
}

func (l *leaseLock) Expired() *Holder { return l.expired }

func (l *leaseLock) Renew(ctx context.Context) error {
	next := l.current()
	leases := l.cs.CoordinationV1().Leases(next.Namespace)
	now := metav1.NewMicroTime(l.clock())
	next.Spec.RenewTime = &now
	updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		cur, gerr := leases.Get(ctx, next.Name, metav1.GetOptions{})
		if gerr != nil || cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity != l.holder.ID {
			who := "someone else"
			if gerr == nil {
				if h, held, _, _ := leaseState(cur); held {
					who = h.String()
				}
			}
			return fmt.Errorf("%w of %s: taken over by %s", ErrLockLost, next.Labels[labelName], who)
		}
		l.set(cur)
		return l.Renew(ctx)
	}
	if err != nil {
		return fmt.Errorf("renew lock Lease %s/%s: %w", next.Namespace, next.Name, err)
	}
	l.set(updated)
	return nil
}

func (l *leaseLock) Release(ctx context.Context) error {
	lease := l.current()
	leases := l.cs.CoordinationV1().Leases(lease.Namespace)
	uid, rv := lease.UID, lease.ResourceVersion
	var err error
	for attempt := 0; attempt < writeRetries; attempt++ {
		err = leases.Delete(ctx, lease.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
		if apierrors.IsConflict(err) {
			// Changed since we last wrote it: by a renewal of ours whose answer was lost, or
			// because someone took it over. Only ours is deleted.
			cur, gerr := leases.Get(ctx, lease.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(gerr) {
				return nil
			}
			if gerr == nil && (cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity != l.holder.ID) {
				return nil // someone else's now
			}
			if gerr == nil {
				uid, rv = cur.UID, cur.ResourceVersion
				continue // still ours: delete what it is now
			}
			err = gerr
		}
		if err != nil && (transient(err) || apierrors.IsConflict(err)) {
			pause(ctx, attempt)
			continue
		}
		break
	}
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("release lock Lease %s/%s: %w", lease.Namespace, lease.Name, err)
}

// pause waits a little longer at each attempt (or until ctx ends).
func pause(ctx context.Context, attempt int) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(50<<min(attempt, 5)) * time.Millisecond):
	}
}

// watchLease watches a Lease that looks expired for one TTL of its own (measured here, by this
// process's monotonic clock, so that no clock skew counts): changed tells whether it was written
// meanwhile (renewed, released, taken), latest is how it was last read.
func watchLease(ctx context.Context, leases leaseGetter, seen *coordinationv1.Lease) (changed bool, latest *coordinationv1.Lease, err error) {
	ttl := time.Duration(0)
	if seen.Spec.LeaseDurationSeconds != nil {
		ttl = time.Duration(*seen.Spec.LeaseDurationSeconds) * time.Second
	}
	step := min(max(ttl/15, 100*time.Millisecond), time.Second)
	deadline := time.Now().Add(ttl)
	latest = seen
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false, latest, fmt.Errorf("watch lock Lease %s/%s: %w", seen.Namespace, seen.Name, context.Cause(ctx))
		case <-time.After(min(step, time.Until(deadline))):
		}
		cur, err := leases.Get(ctx, seen.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, seen, nil
		}
		if err != nil {
			if transient(err) {
				continue
			}
			return false, latest, fmt.Errorf("read lock Lease %s/%s: %w", seen.Namespace, seen.Name, err)
		}
		latest = cur
		if cur.ResourceVersion != seen.ResourceVersion {
			return true, cur, nil
		}
	}
	return false, latest, nil
}

type leaseGetter interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error)
}
