package releases

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/retry"
)

// Operation is a held release lock, renewed in the background until End.
//
// The lock is only known to be ours for a while after each renewal that succeeded: another
// client takes an unrenewed lock over one TTL after it last saw it change, so from the moment a
// renewal was sent, this process may act for TTL minus a safety margin (SafeWindow). When that
// window closes without a newer successful renewal (the API server did not answer, or the
// process was suspended), the operation's contexts are cancelled and every write through them is
// refused, before anyone else could have taken the lock.
type Operation struct {
	store  *Store
	lock   Lock
	Holder Holder
	// Recovered is the revision that an interrupted operation had left pending and that Begin
	// marked failed, if any.
	Recovered *Release
	// Repaired says what Begin put right in the history before the operation (see Invariants).
	Repaired []string

	namespace, name string
	// lockCtx ends only when the lock is lost (or at End); ctx also ends with the caller's.
	lockCtx    context.Context
	lockCancel context.CancelCauseFunc
	ctx        context.Context
	cancel     context.CancelCauseFunc
	stopParent func() bool

	mu        sync.Mutex
	renewedAt time.Time // (monotonic) when the last successful renewal, or the take, was sent
	lost      error
	ttl, safe time.Duration

	done chan struct{}
	once sync.Once
}

// SafeWindow is how long after a renewal was sent the lock is still known to be ours: the TTL
// less a margin (a fifth of it, at least 500ms) for the time a request takes to land.
func SafeWindow(ttl time.Duration) time.Duration {
	margin := max(ttl/5, 500*time.Millisecond)
	if margin >= ttl {
		margin = ttl / 2
	}
	return ttl - margin
}

// Begin takes the release lock for op. A lock held and renewed by someone else fails at once
// with a LockedError. A lock whose holder stopped renewing is taken over, and the revision that
// holder left pending is recovered first; then the history is repaired where an interrupted
// operation left it against the Invariants.
func (s *Store) Begin(ctx context.Context, namespace, name, op string) (*Operation, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	h := NewHolder(op)
	active.Add(1)
	lock, err := s.Driver.Lock(ctx, namespace, name, h, s.ttl())
	if err != nil {
		active.Add(-1)
		return nil, err
	}
	sent := time.Now()
	if t, ok := lock.(interface{ TakenAt() time.Time }); ok {
		sent = t.TakenAt()
	}
	// The Lease records whole seconds: others judge by that.
	seen := max(s.ttl().Truncate(time.Second), time.Second)
	o := &Operation{store: s, lock: lock, Holder: h, namespace: namespace, name: name, renewedAt: sent, ttl: s.ttl(), safe: SafeWindow(min(s.ttl(), seen)), done: make(chan struct{})}
	if d, ok := lock.(interface{ Durable() bool }); ok && d.Durable() {
		o.safe = time.Duration(1<<63 - 1) // an OS file lock is held until the process exits: it cannot be taken over
	}
	o.lockCtx, o.lockCancel = context.WithCancelCause(retry.WithWriteGuard(context.WithoutCancel(ctx), o.Check))
	o.ctx, o.cancel = context.WithCancelCause(o.lockCtx)
	o.stopParent = context.AfterFunc(ctx, func() { o.cancel(context.Cause(ctx)) })
	go o.renew()
	rec, err := s.failInterrupted(o.ctx, namespace, name, lock.Expired())
	if err == nil {
		o.Recovered = rec
		o.Repaired, err = s.Repair(o.ctx, namespace, name)
	}
	if err != nil {
		if lost := o.Lost(); lost != nil && !errors.Is(err, ErrLockLost) {
			err = fmt.Errorf("%w (it was at: %v)", lost, err)
		}
		_ = o.End(ctx)
		return nil, err
	}
	return o, nil
}

func (s *Store) ttl() time.Duration {
	if s.LockTTL <= 0 {
		return DefaultLockTTL
	}
	return s.LockTTL
}

// Context is cancelled when the caller's context ends (a signal, a deadline) or the lock can no
// longer be known to be ours. Writes through it are refused once the lock is not safe.
func (o *Operation) Context() context.Context { return o.ctx }

// Detached is a context that outlives the caller's (to record an outcome or undo after an
// interrupt) but not the lock: it is cancelled, and its writes refused, once the lock is lost.
func (o *Operation) Detached() context.Context { return o.lockCtx }

// Check tells whether the lock is still known to be ours; an error (wrapping ErrLockLost) means
// nothing may be written any more.
func (o *Operation) Check() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.checkLocked()
}

func (o *Operation) checkLocked() error {
	if o.lost != nil {
		return o.lost
	}
	if since := time.Since(o.renewedAt); since >= o.safe {
		o.loseLocked(fmt.Errorf("%w of %s: it could not be renewed for %s (the API server did not answer, or this process was suspended), "+
			"and another operation may take it over after %s; stopped before writing anything more. "+
			"The next operation (or kubectl sherpack recover %s) marks the revision left pending failed",
			ErrLockLost, o.name, since.Round(100*time.Millisecond), o.ttl, o.name))
	}
	return o.lost
}

func (o *Operation) loseLocked(err error) {
	if o.lost == nil {
		o.lost = err
		o.lockCancel(err)
	}
}

// Lost is why the lock was lost, or nil.
func (o *Operation) Lost() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lost
}

func (o *Operation) renew() {
	interval := o.ttl / 3
	t := time.NewTicker(interval)
	defer t.Stop()
	watchdog := time.NewTimer(o.safe)
	defer watchdog.Stop()
	for {
		select {
		case <-o.done:
			return
		case <-o.lockCtx.Done():
			return
		case <-watchdog.C:
			o.mu.Lock()
			err := o.checkLocked()
			left := o.safe - time.Since(o.renewedAt)
			o.mu.Unlock()
			if err != nil {
				return
			}
			watchdog.Reset(max(left, time.Millisecond))
		case <-t.C:
			o.mu.Lock()
			err := o.checkLocked() // a renewal sent after the window closed proves nothing
			o.mu.Unlock()
			if err != nil {
				return
			}
			sent := time.Now()
			ctx, cancel := context.WithTimeout(retry.WithoutWriteGuard(context.WithoutCancel(o.lockCtx)), interval)
			err = o.lock.Renew(ctx)
			cancel()
			o.mu.Lock()
			switch {
			case errors.Is(err, ErrLockLost):
				o.loseLocked(err)
			case err == nil && o.checkLocked() == nil:
				o.renewedAt = sent
				watchdog.Reset(o.safe - time.Since(sent))
			}
			o.mu.Unlock()
		}
	}
}

// End releases the lock (within a few seconds: an unanswered release leaves the lock to expire).
// Safe to call more than once.
func (o *Operation) End(ctx context.Context) error {
	var err error
	o.once.Do(func() {
		o.failOwnPending()
		close(o.done)
		o.stopParent()
		rctx, cancel := context.WithTimeout(retry.WithoutWriteGuard(context.WithoutCancel(ctx)), 5*time.Second)
		defer cancel()
		err = o.lock.Release(rctx)
		o.lockCancel(context.Canceled)
		active.Add(-1)
	})
	return err
}

// failOwnPending keeps "no pending revision without a live lock": a revision this operation
// started and left pending (it was interrupted, or a write whose answer was lost landed after
// all) is marked failed before the lock goes, while the lock is still known to be ours.
func (o *Operation) failOwnPending() {
	if o.Check() != nil {
		return // not ours any more: the next holder recovers it
	}
	ctx, cancel := context.WithTimeout(o.lockCtx, 3*time.Second)
	defer cancel()
	ms, err := o.store.Driver.List(ctx, o.namespace, o.name)
	if err != nil || len(ms) == 0 || !ms[len(ms)-1].State.IsPending() {
		return
	}
	r, err := o.store.Driver.Get(ctx, o.namespace, o.name, ms[len(ms)-1].Revision)
	if err != nil || r.Holder == nil || r.Holder.ID != o.Holder.ID {
		return
	}
	reason := "interrupted: the operation ended without recording an outcome"
	if o.ctx.Err() != nil {
		if cause := context.Cause(o.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			reason = cause.Error()
		}
	}
	_ = o.store.Transition(ctx, r, StateFailed, reason)
}

// active counts the locks this process holds (or is taking).
var active atomic.Int32

// Holding tells whether this process holds (or is taking) a release lock: a signal then has an
// operation to end cleanly; otherwise there is nothing to undo and the process may just exit.
func Holding() bool { return active.Load() > 0 }

// guard refuses a write through a context whose lock is no longer safe.
func guard(ctx context.Context) error {
	if err := retry.CheckWrite(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrLockLost) {
			return cause
		}
	}
	return nil
}

// failInterrupted marks the latest revision failed if it is pending: with the lock held, a
// pending revision can only be the remains of an operation that died.
func (s *Store) failInterrupted(ctx context.Context, namespace, name string, expired *Holder) (*Release, error) {
	r, err := s.Latest(ctx, namespace, name)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !r.State.IsPending() {
		return nil, nil
	}
	who := expired
	if r.Holder != nil {
		who = r.Holder
	}
	reason := fmt.Sprintf("interrupted: %s stopped at %s", r.State, r.UpdatedAt.Local().Format(time.DateTime))
	if who != nil {
		reason = fmt.Sprintf("interrupted: %s by %s@%s (pid %d) stopped; last written at %s",
			who.Operation, who.User, who.Host, who.PID, r.UpdatedAt.Local().Format(time.DateTime))
	}
	if err := s.Transition(ctx, r, StateFailed, reason); err != nil {
		return nil, fmt.Errorf("mark interrupted revision %d of %s failed: %w", r.Revision, name, err)
	}
	return r, nil
}
