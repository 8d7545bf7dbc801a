//go:build soak

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// Three lifecycles of each example pack under the faults of TestLifecycleUnderFaults.
func TestSoakLifecycleUnderFaults(t *testing.T) {
	for _, pk := range []struct{ name, dir, set string }{
		{"webapp", webapp, "replicas=3"},
		{"crd-app", "../../examples/crd-app", ""},
		{"platform", "../../examples/platform", ""},
	} {
		t.Run(pk.name, func(t *testing.T) {
			t.Parallel()
			lifecycleUnderFaults(t, pk.dir, pk.set, 3)
		})
	}
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

// A chunked release with waves and a pre-upgrade hook, upgraded and SIGKILLed at random points
// 12 times; recovered alternately by `recover` and by the next upgrade. After each round: the
// latest revision deployed, nothing pending, no leftover chunk, every record readable.
func TestSoakChunkedUpgradeKilledAtRandomPoints(t *testing.T) {
	ns := testenv.Namespace(t)
	release := func(v string) string {
		dir := bigRelease(t, v)
		extra := hookJob("migrate", "pre-upgrade", 0, false, "") + waveCM("first", 0) + waveDeploy +
			fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n  annotations: {sherpack.io/sync-wave: \"1\"}\ndata: {value: %q}\n", v)
		if err := os.WriteFile(dir+"/more.yaml", []byte(extra), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	mustSherpack(t, "install", "big", "-f", release("v0"), "-n", ns, "--lock-ttl", lockTTL)
	store := secretsStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	interrupted, viaRecover := 0, 0
	for i := 1; i <= 12; i++ {
		r := startSherpack(t, testenv.Kubeconfig(), "upgrade", "big", "-f", release(fmt.Sprintf("k%d", i)), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
		time.Sleep(time.Duration(rng.IntN(1800)) * time.Millisecond)
		r.kill()
		latest, err := store.Latest(ctx, ns, "big")
		if err != nil {
			t.Fatalf("round %d: latest unreadable after a kill: %v", i, err)
		}
		pending := latest.State.IsPending()
		if pending {
			interrupted++
		}
		time.Sleep(2100 * time.Millisecond)
		if pending && i%2 == 0 {
			viaRecover++
			mustSherpack(t, "recover", "big", "-n", ns)
		}
		mustSherpack(t, "upgrade", "big", "-f", release(fmt.Sprintf("r%d", i)), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
		after, err := store.Latest(ctx, ns, "big")
		if err != nil || after.State != releases.StateDeployed {
			t.Fatalf("round %d: latest after recovery: %+v %v", i, after, err)
		}
		if pending {
			old, _ := store.Get(ctx, ns, "big", latest.Revision)
			if old.State != releases.StateFailed || !strings.Contains(old.Reason, "interrupted") {
				t.Fatalf("round %d: the interrupted revision %d is %s (%s)", i, old.Revision, old.State, old.Reason)
			}
		}
		chunksConsistent(t, ns, "big")
	}
	h := history(t, ns, "big")
	if strings.Contains(h, "pending") || !strings.HasSuffix(h, ":deployed") {
		t.Fatalf("history: %s", h)
	}
	t.Logf("%d of 12 kills interrupted an upgrade (%d recovered with `recover`); history %s", interrupted, viaRecover, h)
}

// The web app's lifecycle while the API server goes away for 1 to 5 seconds every few
// seconds: every command rides the outages out and succeeds.
func TestSoakLifecycleThroughOutages(t *testing.T) {
	p, kc := startProxy(t)
	stop := make(chan struct{})
	defer close(stop)
	var outages atomic.Int32
	go func() {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(2000+rng.IntN(4000)) * time.Millisecond):
			}
			outages.Add(1)
			p.Down(time.Duration(1000+rng.IntN(4000)) * time.Millisecond)
		}
	}()
	ns := testenv.Namespace(t)
	store := secretsStore(t)
	firstContact := 0
	steps := [][]string{
		{"install", "shop", webapp}, {"upgrade", "shop", webapp, "--set", "replicas=3"}, {"rollback", "shop"},
		{"upgrade", "shop", webapp, "--set", "replicas=2"}, {"diff", "upgrade", "shop", webapp}, {"uninstall", "shop"},
	}
	for round := 0; round < 3; round++ {
		for _, step := range steps {
			r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, append(step, "-n", ns)...)
			if r.code != 0 && strings.Contains(r.stderr, "connection refused") && !strings.Contains(r.stderr, "unreachable") {
				// Started during an outage: a server that never answered fails fast (it is far
				// more often a wrong kubeconfig than a restart). Nothing was done; run it again.
				firstContact++
				time.Sleep(5 * time.Second)
				r = runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, append(step, "-n", ns)...)
			}
			if r.code != 0 {
				t.Fatalf("%v through outages: exit %d\n%s", step, r.code, r.stderr)
			}
			if step[0] != "uninstall" {
				assertClean(t, store, ns, "shop", strings.Join(step, " "))
			}
		}
	}
	t.Logf("18 commands succeeded through %d outages (%d started during one and were run again)", outages.Load(), firstContact)
}
