package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/faultproxy"
	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// leaseRenewal matches the renewal of a lock Lease (an update of it).
func leaseRenewal(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/leases/")
}

// Lock renewals fail (503) for longer than the TTL while an upgrade waits; a second upgrade
// takes the lock over once it has expired. The first stops on its own before the takeover
// could happen and writes nothing after it, although its --atomic rollback and its --timeout
// would both have had it write: exactly one operation writes after the takeover.
func TestLostLockStopsTheOperation(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	ctx := context.Background()
	cs := testenv.Clientset(t)
	mustSherpack(t, "install", "lost", "-f", stuckRelease(t, "v1", false, false), "-n", ns, "--progress=none", "--lock-ttl", "3s")
	p, kc := startProxy(t)
	a := startSherpack(t, kc, "upgrade", "lost", "-f", stuckRelease(t, "v2", true, false), "-n", ns, "--atomic", "--timeout", "40s", "--lock-ttl", "3s", "--progress=plain")
	testenv.Eventually(t, 60*time.Second, func() error {
		if !strings.Contains(history(t, ns, "lost"), "2:pending-upgrade") {
			return errors.New("revision 2 not started yet")
		}
		return nil
	})
	p.Set(faultproxy.Faults{Unavailable: leaseRenewal})
	// Once the Lease has stopped changing, B watches it for a TTL, takes it over and deploys,
	// while A (were it still going) waits until its --timeout, then would record its failure and
	// roll back. A must have stopped within its safe window (TTL less a margin), before B could
	// take over, and write nothing more.
	time.Sleep(3200 * time.Millisecond)
	writesBefore := p.Writes.Load()
	mustSherpack(t, "upgrade", "lost", "-f", stuckRelease(t, "v3", false, false), "-n", ns, "--progress=none", "--lock-ttl", "3s")
	resA := a.wait(t, 60*time.Second)
	if resA.code == 0 || !strings.Contains(resA.stderr, "lost the release lock") {
		t.Fatalf("the upgrade whose lock could not be renewed: exit %d, want a failure saying the lock was lost:\n%s", resA.code, resA.stderr)
	}
	if got := p.Writes.Load(); got != writesBefore {
		t.Fatalf("%d writes reached the API server from the first upgrade after the takeover", got-writesBefore)
	}
	if h := history(t, ns, "lost"); h != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history %s, want 1:superseded 2:failed 3:deployed (no rollback by the stopped upgrade)", h)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil || cm.Data["value"] != "v3" {
		t.Fatalf("ConfigMap app should be the new holder's v3: %v %v", cm, err)
	}
}

// SIGSTOP for longer than the TTL, a second upgrade takes the lock over meanwhile, then
// SIGCONT: the resumed process notices before its next write and stops with a clear error;
// what the second upgrade deployed stays.
func TestSuspendedBeyondTTL(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	ctx := context.Background()
	cs := testenv.Clientset(t)
	mustSherpack(t, "install", "stop", "-f", stuckRelease(t, "v1", false, false), "-n", ns, "--progress=none", "--lock-ttl", "3s")
	a := startSherpack(t, testenv.Kubeconfig(), "upgrade", "stop", "-f", stuckRelease(t, "v2", true, false), "-n", ns, "--atomic", "--timeout", "40s", "--lock-ttl", "3s", "--progress=plain")
	testenv.Eventually(t, 60*time.Second, func() error {
		if !strings.Contains(history(t, ns, "stop"), "2:pending-upgrade") {
			return errors.New("revision 2 not started yet")
		}
		return nil
	})
	a.signal(t, syscall.SIGSTOP)
	t.Cleanup(func() { _ = a.cmd.Process.Signal(syscall.SIGCONT) })
	time.Sleep(3500 * time.Millisecond)
	mustSherpack(t, "upgrade", "stop", "-f", stuckRelease(t, "v3", false, false), "-n", ns, "--progress=none", "--lock-ttl", "3s")
	a.signal(t, syscall.SIGCONT)
	resA := a.wait(t, 30*time.Second)
	if resA.code == 0 || !strings.Contains(resA.stderr, "lost the release lock") {
		t.Fatalf("the resumed upgrade: exit %d, want a failure saying the lock was lost:\n%s", resA.code, resA.stderr)
	}
	if h := history(t, ns, "stop"); h != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history %s, want 1:superseded 2:failed 3:deployed", h)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil || cm.Data["value"] != "v3" {
		t.Fatalf("ConfigMap app should be the new holder's v3: %v %v", cm, err)
	}
	lockFree(t, ns, "stop", "the resumed upgrade stopped")
}
