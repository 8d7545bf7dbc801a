package releases

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// skewedDriver is a Secrets driver whose wall clock runs ahead by skew.
func skewedDriver(t *testing.T, skew time.Duration) *kubeDriver {
	t.Helper()
	cs, md := kubeClients(t, testenv.RESTConfig(t))
	return NewSecretsDriver(cs, md, KubeOptions{Clock: func() time.Time { return time.Now().Add(skew) }}).(*kubeDriver)
}

// A client whose clock runs 60 s ahead sees a live Lease as expired by its clock; it must still
// not take it: it watches the Lease for a TTL of its own and sees it renewed.
func TestSkewedClockDoesNotTakeALiveLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := testenv.Namespace(t)
	holder := NewStore(skewedDriver(t, 0))
	holder.LockTTL = 3 * time.Second
	op, err := holder.Begin(ctx, ns, "web", "upgrade")
	if err != nil {
		t.Fatal(err)
	}
	defer op.End(ctx)
	ahead := NewStore(skewedDriver(t, 60*time.Second))
	ahead.LockTTL = 3 * time.Second
	start := time.Now()
	_, err = ahead.Begin(ctx, ns, "web", "upgrade")
	if !IsLocked(err) {
		t.Fatalf("a client 60s ahead took a lease renewed every second: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("it took %s to see the renewal (renewed every %s)", took, holder.LockTTL/3)
	}
	if err := op.Check(); err != nil {
		t.Fatalf("the holder's lock is no longer safe after the attempt: %v", err)
	}
	// The holder stops; a client 60 s ahead now takes the lock over, but only after watching the
	// Lease unchanged for a full TTL.
	op.abandon()
	start = time.Now()
	op2, err := ahead.Begin(ctx, ns, "web", "upgrade")
	if err != nil {
		t.Fatalf("the abandoned lock was not taken over: %v", err)
	}
	defer op2.End(ctx)
	if took := time.Since(start); took < 3*time.Second {
		t.Fatalf("taken over after %s: sooner than a TTL of watching", took)
	}
}

// recover --list (FindStale) reads locks and never writes them: a live operation's Lease keeps
// its resourceVersion, and a dead one's is left for the next operation.
func TestFindStaleWritesNoLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := testenv.Namespace(t)
	kd := skewedDriver(t, 0)
	s := NewStore(kd)
	s.LockTTL = 2 * time.Second
	for _, name := range []string{"live", "dead"} {
		op, err := s.Begin(ctx, ns, name, "install")
		if err != nil {
			t.Fatal(err)
		}
		r := testRelease(ns, name, 1, StatePendingInstall)
		if err := s.Create(op.Context(), r); err != nil {
			t.Fatal(err)
		}
		if name == "dead" {
			op.abandon()
		} else {
			defer op.End(ctx)
		}
	}
	time.Sleep(2100 * time.Millisecond) // the dead one's Lease is expired by every clock
	leases := kd.client.CoordinationV1().Leases(ns)
	before := map[string]string{}
	for _, name := range []string{"live", "dead"} {
		l, err := leases.Get(ctx, LockName(name), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		before[name] = l.ResourceVersion
	}
	stale, err := s.FindStale(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 1 || stale[0].Name != "dead" {
		t.Fatalf("FindStale = %+v, want the dead one only", stale)
	}
	l, err := leases.Get(ctx, LockName("dead"), metav1.GetOptions{})
	if err != nil || l.ResourceVersion != before["dead"] {
		t.Fatalf("the dead operation's Lease was written or deleted by FindStale: %v %v", l, err)
	}
}

// swapGetter returns the index object read first, but rewrites the record (a new chunk
// generation, the old chunks deleted) before the chunks are read: what a reader meets when an
// operation rewrites a chunked record under it.
type swapGetter struct {
	objectClient
	swap func()
	done atomic.Bool
}

func (g *swapGetter) Get(ctx context.Context, ns, name string) (*object, error) {
	o, err := g.objectClient.Get(ctx, ns, name)
	if err == nil && o.Data["index"] != nil && g.done.CompareAndSwap(false, true) {
		g.swap()
	}
	return o, err
}

// A reader (status, get, diff) that meets a chunked record while it is rewritten reads it again
// instead of reporting it corrupt.
func TestReaderRetriesSwappedChunkGeneration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kd, s, ns, r := chunkedSetup(t)
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	writer, err := s.Get(ctx, ns, "web", 1)
	if err != nil {
		t.Fatal(err)
	}
	reader := *kd
	g := &swapGetter{objectClient: kd.objects}
	g.swap = func() {
		writer.Manifest = incompressible(1 << 20)
		if err := s.Transition(ctx, writer, StateDeployed, ""); err != nil {
			t.Error(err)
		}
	}
	reader.objects = g
	got, err := reader.Get(ctx, ns, "web", 1)
	if err != nil {
		var ce *CorruptError
		t.Fatalf("read during a rewrite: %v (corrupt: %v)", err, errors.As(err, &ce))
	}
	if !g.done.Load() || got.State != StateDeployed || got.Manifest != writer.Manifest {
		t.Fatalf("the second read should give the rewritten record: swapped %v, state %s", g.done.Load(), got.State)
	}
}
