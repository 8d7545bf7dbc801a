package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// stuckRelease is a ConfigMap with value v, a Deployment, and a pre-upgrade hook Job. With
// stuckWait the Deployment's pods never become ready (the wait lasts until --timeout); with
// stuckHook the hook's pod never completes.
func stuckRelease(t *testing.T, v string, stuckWait, stuckHook bool) string {
	t.Helper()
	job := hookJob("migrate", "pre-upgrade", 0, false, "")
	if stuckHook {
		job = strings.Replace(job, "    metadata:\n", "    metadata:\n      labels: {sherpack.test/never-ready: \"true\"}\n", 1)
	}
	podLabels := "{app: web}"
	if stuckWait {
		podLabels = `{app: web, sherpack.test/never-ready: "true"}`
	}
	return writeFiles(t, map[string]string{"all.yaml": job + fmt.Sprintf(`---
apiVersion: v1
kind: ConfigMap
metadata: {name: app}
data: {value: %q}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: %s}
    spec: {containers: [{name: web, image: example.local/web:%s}]}
`, v, podLabels, v)})
}

// signal sends sig to the plugin process itself (not to a shell around it).
func (r *running) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %s: %v", sig, err)
	}
}

// lockFree checks that the release's lock is free now, not after its TTL: the Lease of a 30 s
// lock still held, or left behind, refuses at once.
func lockFree(t *testing.T, ns, name, after string) {
	t.Helper()
	ctx := context.Background()
	op, err := secretsStore(t).Begin(ctx, ns, name, "check")
	if err != nil {
		t.Fatalf("after %s the lock is not free: %v", after, err)
	}
	_ = op.End(ctx)
}

// noPending fails if any revision is pending.
func noPending(t *testing.T, ns, name, after string) {
	t.Helper()
	if h := history(t, ns, name); strings.Contains(h, "pending") {
		t.Fatalf("after %s a revision is left pending: %s", after, h)
	}
}

// The first SIGTERM or SIGINT during an upgrade's wait, its hook, or one of its applies ends the
// operation as a failure of its own: the revision marked failed "interrupted by SIG...", with
// --atomic rolled back, the lock released at once (the lock TTL is 30 s: a lock left behind
// would refuse the checks), the process exiting 143 or 130. The next upgrade proceeds.
func TestSignalsEndOperationsCleanly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sig    syscall.Signal
		where  string // wait, hook, apply
		atomic bool
	}{
		{"TERM during the wait", syscall.SIGTERM, "wait", false},
		{"INT during the wait with atomic", syscall.SIGINT, "wait", true},
		{"TERM during a hook with atomic", syscall.SIGTERM, "hook", true},
		{"INT during a hook", syscall.SIGINT, "hook", false},
		{"TERM during an apply with atomic", syscall.SIGTERM, "apply", true},
		{"INT during an apply", syscall.SIGINT, "apply", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := testenv.Namespace(t)
			cs := testenv.Clientset(t)
			ctx := context.Background()
			mustSherpack(t, "install", "sig", "-f", stuckRelease(t, "v1", false, false), "-n", ns, "--progress=none")
			kc := testenv.Kubeconfig()
			var held interface{ Release() }
			args := []string{"upgrade", "sig", "-f", stuckRelease(t, "v2", tc.where == "wait", tc.where == "hook"), "-n", ns, "--progress=plain"}
			if tc.atomic {
				args = append(args, "--atomic")
			}
			var r *running
			switch tc.where {
			case "apply":
				p, pkc := startProxy(t)
				kc = pkc
				h := p.Hold(applyOf("configmaps", "app"))
				held = h
				r = startSherpack(t, kc, args...)
				arrived(t, h, r, "the apply of ConfigMap app")
			case "wait":
				r = startSherpack(t, kc, args...)
				testenv.Eventually(t, 60*time.Second, func() error {
					d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
					if err != nil {
						return err
					}
					if _, stuck := d.Spec.Template.Labels["sherpack.test/never-ready"]; !stuck {
						return fmt.Errorf("revision 2's Deployment not applied yet")
					}
					return nil
				})
				time.Sleep(500 * time.Millisecond) // into the wait
			case "hook":
				r = startSherpack(t, kc, args...)
				testenv.Eventually(t, 60*time.Second, func() error {
					pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "sherpack.test/never-ready"})
					if err != nil {
						return err
					}
					for _, p := range pods.Items {
						if p.Status.Phase == "Running" {
							return nil
						}
					}
					return fmt.Errorf("the stuck hook's pod is not running yet")
				})
			}
			r.signal(t, tc.sig)
			res := r.wait(t, 60*time.Second)
			if held != nil {
				held.Release()
			}
			want := 128 + int(tc.sig)
			name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"}[tc.sig]
			if res.code != want || !strings.Contains(res.stderr, "interrupted by "+name) {
				t.Fatalf("exit %d, want %d, and stderr naming %s:\n%s", res.code, want, name, res.stderr)
			}
			if !strings.Contains(res.stderr, "--interrupt-grace") {
				t.Fatalf("the progress output does not say what happens after the signal, and within what grace:\n%s", res.stderr)
			}
			lockFree(t, ns, "sig", "the signal")
			noPending(t, ns, "sig", "the signal")
			rev2, err := secretsStore(t).Get(ctx, ns, "sig", 2)
			if err != nil || rev2.State != releases.StateFailed || !strings.Contains(rev2.Reason, "interrupted by "+name) {
				t.Fatalf("revision 2 should be failed, interrupted by %s: %+v %v", name, rev2, err)
			}
			wantHist := "1:deployed 2:failed"
			if tc.atomic {
				wantHist = "1:superseded 2:failed 3:deployed"
			}
			if h := history(t, ns, "sig"); h != wantHist {
				t.Fatalf("history %s, want %s", h, wantHist)
			}
			if tc.atomic {
				cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "app", metav1.GetOptions{})
				if err != nil || cm.Data["value"] != "v1" {
					t.Fatalf("after the --atomic rollback ConfigMap app should be v1 again: %v %v", cm, err)
				}
			}
			mustSherpack(t, "upgrade", "sig", "-f", stuckRelease(t, "v3", false, false), "-n", ns, "--progress=none")
		})
	}
}

// Ctrl-C in a terminal: the plugin runs in a pseudo-terminal (its own session, the terminal's
// foreground process group), and ^C typed there reaches it as SIGINT from the terminal driver.
func TestCtrlCInTerminal(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	ctx := context.Background()
	mustSherpack(t, "install", "tty", "-f", stuckRelease(t, "v1", false, false), "-n", ns, "--progress=none")
	cmd := exec.Command(testenv.PluginBinary(), "upgrade", "tty", "-f", stuckRelease(t, "v2", true, false), "-n", ns)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+testenv.Kubeconfig(), "TERM=xterm")
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return // EIO once the process and its terminal are gone
			}
		}
	}()
	done := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		done <- code
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	testenv.Eventually(t, 60*time.Second, func() error {
		d, err := testenv.Clientset(t).AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, stuck := d.Spec.Template.Labels["sherpack.test/never-ready"]; !stuck {
			return fmt.Errorf("revision 2's Deployment not applied yet")
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	if _, err := io.WriteString(ptmx, "\x03"); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		select {
		case <-drained:
		case <-time.After(5 * time.Second):
		}
		mu.Lock()
		out := screen.String()
		mu.Unlock()
		if code != 130 || !strings.Contains(out, "interrupted by SIGINT") {
			t.Fatalf("Ctrl-C: exit %d, want 130 and the interruption said:\n%s", code, out)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Ctrl-C did not end the upgrade within 60s")
	}
	lockFree(t, ns, "tty", "Ctrl-C")
	noPending(t, ns, "tty", "Ctrl-C")
	if h := history(t, ns, "tty"); h != "1:deployed 2:failed" {
		t.Fatalf("history after Ctrl-C: %s", h)
	}
	mustSherpack(t, "upgrade", "tty", "-f", stuckRelease(t, "v3", false, false), "-n", ns, "--progress=none")
}

// A second signal skips the grace period: the --atomic rollback the first one started (held
// here on its way to the API server) is abandoned, its revision marked failed, the lock
// released, and the process exits within seconds although the grace period is five minutes.
func TestSecondSignalSkipsGrace(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	mustSherpack(t, "install", "twice", "-f", stuckRelease(t, "v1", false, false), "-n", ns, "--progress=none")
	p, kc := startProxy(t)
	r := startSherpack(t, kc, "upgrade", "twice", "-f", stuckRelease(t, "v2", true, false), "-n", ns, "--atomic", "--interrupt-grace", "5m", "--progress=plain")
	testenv.Eventually(t, 60*time.Second, func() error {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, stuck := d.Spec.Template.Labels["sherpack.test/never-ready"]; !stuck {
			return fmt.Errorf("revision 2's Deployment not applied yet")
		}
		return nil
	})
	// The rollback's first apply is held: the undo cannot finish by itself.
	h := p.Hold(func(req *http.Request, _ []byte) bool {
		return applyOf("configmaps", "app")(req, nil)
	})
	r.signal(t, syscall.SIGTERM)
	arrived(t, h, r, "the rollback's apply")
	start := time.Now()
	r.signal(t, syscall.SIGTERM)
	res := r.wait(t, 30*time.Second)
	took := time.Since(start)
	h.Release()
	if res.code != 143 {
		t.Fatalf("exit %d, want 143:\n%s", res.code, res.stderr)
	}
	if took > 12*time.Second {
		t.Fatalf("the second signal took %s to end the process (grace 5m): it should skip the grace", took)
	}
	lockFree(t, ns, "twice", "the second signal")
	noPending(t, ns, "twice", "the second signal")
	if hist := history(t, ns, "twice"); hist != "1:deployed 2:failed 3:failed" {
		t.Fatalf("history %s, want the upgrade and the abandoned rollback failed", hist)
	}
	mustSherpack(t, "upgrade", "twice", "-f", stuckRelease(t, "v3", false, false), "-n", ns, "--progress=none")
}

// Read-only commands exit at once on a signal, with 128+signal.
func TestSignalEndsReadOnlyCommand(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "ro", "-f", stuckRelease(t, "v1", false, false), "-n", ns, "--progress=none")
	p, kc := startProxy(t)
	h := p.Hold(func(req *http.Request, _ []byte) bool {
		return req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/secrets")
	})
	r := startSherpack(t, kc, "status", "ro", "-n", ns)
	arrived(t, h, r, "the read of the release")
	start := time.Now()
	r.signal(t, syscall.SIGTERM)
	res := r.wait(t, 10*time.Second)
	h.Release()
	if res.code != 143 || time.Since(start) > 5*time.Second {
		t.Fatalf("status on SIGTERM: exit %d after %s, want 143 at once\n%s", res.code, time.Since(start), res.stderr)
	}
}

// SIGTERM during an install --atomic (its wait) and during an uninstall (a deletion held on its
// way): both end as failures of their own, nothing pending, the lock free at once; the atomic
// install deleted what it applied, and uninstall run again finishes.
func TestSignalDuringInstallAndUninstall(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	r := startSherpack(t, testenv.Kubeconfig(), "install", "inst", "-f", stuckRelease(t, "v1", true, false), "-n", ns, "--atomic", "--progress=plain")
	testenv.Eventually(t, 60*time.Second, func() error {
		_, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err
	})
	time.Sleep(500 * time.Millisecond)
	r.signal(t, syscall.SIGTERM)
	res := r.wait(t, 60*time.Second)
	if res.code != 143 || !strings.Contains(res.stderr, "interrupted by SIGTERM") {
		t.Fatalf("install --atomic on SIGTERM: exit %d\n%s", res.code, res.stderr)
	}
	lockFree(t, ns, "inst", "the interrupted install")
	if h := history(t, ns, "inst"); h != "1:failed" {
		t.Fatalf("history after the interrupted install: %s", h)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "app", metav1.GetOptions{}); err == nil {
		t.Fatal("the interrupted install --atomic left ConfigMap app")
	}

	mustSherpack(t, "install", "gone", "-f", stuckRelease(t, "v1", false, false), "-n", ns, "--progress=none")
	p, kc := startProxy(t)
	h := p.Hold(func(req *http.Request, _ []byte) bool {
		return req.Method == http.MethodDelete && strings.Contains(req.URL.Path, "/deployments/")
	})
	u := startSherpack(t, kc, "uninstall", "gone", "-n", ns, "--keep-history", "--progress=plain")
	arrived(t, h, u, "the deletion of the Deployment")
	u.signal(t, syscall.SIGTERM)
	res = u.wait(t, 60*time.Second)
	h.Release()
	if res.code != 143 || !strings.Contains(res.stderr, "interrupted by SIGTERM") {
		t.Fatalf("uninstall on SIGTERM: exit %d\n%s", res.code, res.stderr)
	}
	lockFree(t, ns, "gone", "the interrupted uninstall")
	noPending(t, ns, "gone", "the interrupted uninstall")
	mustSherpack(t, "uninstall", "gone", "-n", ns, "--keep-history", "--progress=none")
	if hist := history(t, ns, "gone"); hist != "1:uninstalled" {
		t.Fatalf("history after the second uninstall: %s", hist)
	}
}
