//go:build soak

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// Upgrades (a Deployment awaited, a pre-upgrade hook, half of them --atomic) hit at a random
// moment by SIGTERM, SIGINT, SIGSTOP then SIGCONT (stopped 0.5 to 5 s, so sometimes past the
// 3 s lock TTL) or SIGKILL, 24 times. After a TERM or INT: exit 143/130 (or 0 if it had
// finished), nothing pending and the lock free at once. After a STOP+CONT: success, or a clear
// "lost the release lock" failure when it was stopped past its safe window. After a KILL: the
// lock expires. Every round, the next upgrade succeeds.
func TestSoakUpgradeSignalledAtRandomPoints(t *testing.T) {
	ns := testenv.Namespace(t)
	const ttl = "3s"
	mustSherpack(t, "install", "soak", "-f", stuckRelease(t, "v0", false, false), "-n", ns, "--lock-ttl", ttl, "--progress=none")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	outcomes := map[string]int{}
	for i := 1; i <= 24; i++ {
		sigs := []string{"TERM", "INT", "STOP+CONT", "KILL"}
		which := sigs[rng.IntN(len(sigs))]
		args := []string{"upgrade", "soak", "-f", stuckRelease(t, fmt.Sprintf("s%d", i), false, false), "-n", ns, "--lock-ttl", ttl, "--progress=plain"}
		if rng.IntN(2) == 0 {
			args = append(args, "--atomic")
		}
		r := startSherpack(t, testenv.Kubeconfig(), args...)
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond) // most upgrades here take 1 to 3 s
		var res result
		switch which {
		case "TERM", "INT":
			sig := syscall.SIGTERM
			if which == "INT" {
				sig = syscall.SIGINT
			}
			_ = r.cmd.Process.Signal(sig)
			res = r.wait(t, 60*time.Second)
			switch res.code {
			case 0:
				outcomes[which+": had finished"]++
			case 128 + int(sig):
				outcomes[which+": interrupted"]++
			case -1:
				// Killed by the signal itself: it came in the first milliseconds, before main
				// installed the handler, when nothing was locked or written yet.
				if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != sig {
					t.Fatalf("round %d: %s: exit -1 not by that signal\n%s", i, which, res.stderr)
				}
				outcomes[which+": before the handler was installed"]++
			default:
				t.Fatalf("round %d: %s: exit %d\n%s", i, which, res.code, res.stderr)
			}
			lockFree(t, ns, "soak", which)
			noPending(t, ns, "soak", which)
		case "STOP+CONT":
			_ = r.cmd.Process.Signal(syscall.SIGSTOP)
			stopped := time.Duration(500+rng.IntN(4500)) * time.Millisecond
			time.Sleep(stopped)
			_ = r.cmd.Process.Signal(syscall.SIGCONT)
			res = r.wait(t, 120*time.Second)
			switch {
			case res.code == 0:
				outcomes[which+": finished"]++
			case strings.Contains(res.stderr, "lost the release lock"):
				outcomes[which+": stopped, lock lost"]++
				if stopped < 1200*time.Millisecond { // the window is 2.4 s after a renewal sent every 1 s
					t.Fatalf("round %d: stopped %s (under the safe window) yet lost its lock:\n%s", i, stopped, res.stderr)
				}
				time.Sleep(3100 * time.Millisecond)
			default:
				t.Fatalf("round %d: after STOP %s and CONT: exit %d\n%s", i, stopped, res.code, res.stderr)
			}
		case "KILL":
			r.kill()
			outcomes[which]++
			time.Sleep(3100 * time.Millisecond)
		}
		mustSherpack(t, "upgrade", "soak", "-f", stuckRelease(t, fmt.Sprintf("r%d", i), false, false), "-n", ns, "--lock-ttl", ttl, "--progress=none")
		assertClean(t, secretsStore(t), ns, "soak", fmt.Sprintf("round %d (%s)", i, which))
	}
	var lines []string
	for k, v := range outcomes {
		lines = append(lines, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(lines)
	h := history(t, ns, "soak")
	if strings.Contains(h, "pending") {
		t.Fatalf("history: %s", h)
	}
	if _, err := secretsStore(t).Latest(context.Background(), ns, "soak"); err != nil {
		t.Fatal(err)
	}
	t.Logf("24 rounds: %s; history %s", strings.Join(lines, ", "), h)
}
