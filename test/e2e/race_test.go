package e2e

import (
	"strings"
	"sync"
	"testing"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// Five upgrades of one release at once: exactly one proceeds, the others exit 5 naming the
// holder, and the history is consistent. Upgrades of another release are not blocked.
func TestConcurrentUpgrades(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	mustSherpack(t, "install", "other", webapp, "-n", ns)
	// A pre-upgrade hook keeps each upgrade busy long enough for the others to meet its lock.
	var wg sync.WaitGroup
	results := make([]result, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = sherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3", "--progress=none")
		}()
	}
	wg.Add(1)
	var other result
	go func() {
		defer wg.Done()
		other = sherpack(t, "upgrade", "other", webapp, "-n", ns, "--set", "replicas=1", "--progress=none")
	}()
	wg.Wait()
	won, locked := 0, 0
	for _, r := range results {
		switch {
		case r.code == 0:
			won++
		case r.code == 5 && strings.Contains(r.stderr, "release shop is locked: upgrade by"):
			locked++
		default:
			t.Fatalf("unexpected outcome: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	if won < 1 || won+locked != 5 {
		t.Fatalf("%d upgrades won, %d were refused as locked", won, locked)
	}
	if other.code != 0 {
		t.Fatalf("an upgrade of another release was blocked: exit %d\n%s", other.code, other.stderr)
	}
	// The history has one revision per upgrade that ran, the last one deployed.
	h := strings.Fields(history(t, ns, "shop"))
	if len(h) != 1+won || !strings.HasSuffix(h[len(h)-1], ":deployed") {
		t.Fatalf("history after %d winning upgrades: %v", won, h)
	}
	for _, e := range h[:len(h)-1] {
		if !strings.HasSuffix(e, ":superseded") {
			t.Fatalf("history: %v", h)
		}
	}
}
