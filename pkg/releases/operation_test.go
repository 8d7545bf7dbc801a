package releases

import (
	"context"
	"errors"
	"testing"
	"time"
)

// failingRenewals is a memory lock whose renewals never get an answer (an API outage).
type failingRenewals struct{ *MemoryDriver }

type unansweredLock struct{ Lock }

func (unansweredLock) Renew(context.Context) error { return errors.New("connection refused") }

func (f failingRenewals) Lock(ctx context.Context, ns, name string, h Holder, ttl time.Duration) (Lock, error) {
	l, err := f.MemoryDriver.Lock(ctx, ns, name, h, ttl)
	if err != nil {
		return nil, err
	}
	return unansweredLock{l}, nil
}

// When renewals fail, the operation's contexts end and its writes are refused once the safe
// window (TTL less a margin) has passed since the lock was taken: before anyone else could take
// it over. Detached (the undo paths' context) ends too.
func TestLockNotRenewedStopsWritesBeforeExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewStore(failingRenewals{NewMemoryDriver()})
	s.LockTTL = 2 * time.Second
	start := time.Now()
	op, err := s.Begin(ctx, "ns", "web", "upgrade")
	if err != nil {
		t.Fatal(err)
	}
	defer op.End(ctx)
	if err := s.Create(op.Context(), testRelease("ns", "web", 1, StatePendingInstall)); err != nil {
		t.Fatalf("a write inside the safe window: %v", err)
	}
	select {
	case <-op.Detached().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the operation's context did not end although its lock was not renewed")
	}
	stopped := time.Since(start)
	if window := SafeWindow(s.LockTTL); stopped < window || stopped >= s.LockTTL {
		t.Fatalf("stopped after %s: want between the safe window %s and the TTL %s", stopped, window, s.LockTTL)
	}
	if !errors.Is(op.Check(), ErrLockLost) || !errors.Is(context.Cause(op.Context()), ErrLockLost) {
		t.Fatalf("Check = %v, cause = %v; want ErrLockLost", op.Check(), context.Cause(op.Context()))
	}
	r, _ := s.Get(ctx, "ns", "web", 1)
	if err := s.Transition(op.Detached(), r, StateFailed, "late"); !errors.Is(err, ErrLockLost) {
		t.Fatalf("a write after the window: %v, want it refused with ErrLockLost", err)
	}
	if got, _ := s.Get(ctx, "ns", "web", 1); got.State != StatePendingInstall {
		t.Fatalf("the refused write landed: %s", got.State)
	}
}
