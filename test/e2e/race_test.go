package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// Five upgrades of one release at once: exactly one proceeds, the others exit 5 naming the
// holder, and the history is consistent. An upgrade of another release meanwhile is not
// blocked. The winner is held (by the proxy, at its Deployment's apply) until the four others
// have finished, so that "one at a time" cannot pass as "one after the other".
func TestConcurrentUpgrades(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	mustSherpack(t, "install", "other", webapp, "-n", ns)
	p, kc := startProxy(t)
	h := p.Hold(applyOf("deployments", "shop-webapp"))
	runs := make([]*running, 5)
	for i := range runs {
		runs[i] = startSherpack(t, kc, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3", "--progress=none")
	}
	select {
	case <-h.Arrived():
	case <-time.After(90 * time.Second):
		t.Fatal("no upgrade reached its apply")
	}
	// Meanwhile another release upgrades freely.
	other := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, "upgrade", "other", webapp, "-n", ns, "--set", "replicas=1", "--progress=none")
	if other.code != 0 {
		t.Fatalf("an upgrade of another release was blocked: exit %d\n%s", other.code, other.stderr)
	}
	holder := regexp.MustCompile(`release shop is locked: upgrade by \S+@\S+ \(pid \d+\)`)
	// Four end, refused; one stays, held at its apply.
	deadline := time.Now().Add(60 * time.Second)
	var ended, waiting []*running
	for {
		ended, waiting = nil, nil
		for _, r := range runs {
			select {
			case <-r.done:
				ended = append(ended, r)
			default:
				waiting = append(waiting, r)
			}
		}
		if len(ended) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, r := range ended {
		res := r.wait(t, time.Second)
		if res.code != 5 || !holder.MatchString(res.stderr) || !strings.Contains(res.stderr, "kubectl sherpack recover") {
			t.Fatalf("a refused upgrade: exit %d, want 5 naming the holder\n%s", res.code, res.stderr)
		}
	}
	if len(waiting) != 1 {
		t.Fatalf("%d upgrades ended, %d still running: want exactly one running", len(ended), len(waiting))
	}
	winner := waiting[0]
	h.Release()
	if res := winner.wait(t, 2*time.Minute); res.code != 0 {
		t.Fatalf("the winning upgrade: exit %d\n%s", res.code, res.stderr)
	}
	if h := history(t, ns, "shop"); h != "1:superseded 2:deployed" {
		t.Fatalf("history: %s", h)
	}
}
