//go:build soak

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/faultproxy"
	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// The lifecycle of the web app through a proxy that answers 5% of requests 5xx, 3% 429 and
// resets 2% of connections after the server acted. Every command must succeed or fail cleanly:
// afterwards no revision is left pending and the lock is free.
func TestSoakLifecycleUnderFaults(t *testing.T) {
	p, kc := startProxy(t)
	p.Set(faultproxy.Faults{Error5xx: 0.05, TooMany: 0.03, Reset: 0.02})
	ns := testenv.Namespace(t)
	store := secretsStore(t)
	ok, failed := 0, 0
	steps := [][]string{
		{"install", "shop", webapp}, {"upgrade", "shop", webapp, "--set", "replicas=3"}, {"upgrade", "shop", webapp, "--set", "replicas=1"},
		{"rollback", "shop"}, {"upgrade", "shop", webapp, "--install"}, {"uninstall", "shop"},
	}
	for round := 0; round < 3; round++ {
		for _, step := range steps {
			r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, append(step, "-n", ns, "--timeout", "60s")...)
			if r.code == 0 {
				ok++
			} else {
				failed++
				t.Logf("%v failed (allowed under faults): %s", step, strings.TrimSpace(r.stderr))
			}
			assertClean(t, store, ns, "shop", strings.Join(step, " "))
		}
	}
	t.Logf("%d commands succeeded, %d failed cleanly; injected %d 5xx, %d 429, %d resets, forwarded %d",
		ok, failed, p.Injected5xx.Load(), p.Injected429.Load(), p.InjectedResets.Load(), p.Forwarded.Load())
}

// An upgrade killed (SIGKILL) at random points, many times: after each, once the lock has
// expired, the next upgrade recovers the interrupted revision and the history says what happened.
func TestSoakUpgradeKilledAtRandomPoints(t *testing.T) {
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns, "--lock-ttl", "2s")
	store := secretsStore(t)
	rng := rand.New(rand.NewPCG(7, 11))
	interrupted := 0
	for i := 0; i < 8; i++ {
		cmd := exec.Command(testenv.PluginBinary(), "upgrade", "shop", webapp, "-n", ns, "--lock-ttl", "2s",
			"--set", fmt.Sprintf("replicas=%d", 1+i%3), "--progress=none")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+testenv.Kubeconfig())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		latest, err := store.Latest(context.Background(), ns, "shop")
		if err != nil {
			t.Fatal(err)
		}
		if latest.State.IsPending() {
			interrupted++
		}
		time.Sleep(2100 * time.Millisecond) // the lock expires
		r := mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--lock-ttl", "2s", "--set", "replicas=2")
		_ = r
		after, err := store.Latest(context.Background(), ns, "shop")
		if err != nil || after.State != releases.StateDeployed {
			t.Fatalf("round %d: latest after recovery: %+v %v", i, after, err)
		}
		if latest.State.IsPending() {
			old, _ := store.Get(context.Background(), ns, "shop", latest.Revision)
			if old.State != releases.StateFailed || !strings.Contains(old.Reason, "interrupted") {
				t.Fatalf("round %d: the interrupted revision %d is %s (%s)", i, old.Revision, old.State, old.Reason)
			}
		}
	}
	h := history(t, ns, "shop")
	if strings.Contains(h, "pending") || !strings.HasSuffix(h, ":deployed") {
		t.Fatalf("history: %s", h)
	}
	t.Logf("%d of 8 kills interrupted an upgrade; history %s", interrupted, h)
}
