package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

type event struct {
	Type, Name, Action, Detail string
	Wave                       *int
}

// events parses --progress=json output: one JSON object per line, every line.
func events(t *testing.T, stderr string) []event {
	t.Helper()
	var out []event
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if l == "" || strings.HasPrefix(l, "Error:") || strings.HasPrefix(l, "Rolled back") || strings.HasPrefix(l, "Revision") {
			continue
		}
		var e event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("progress line is not JSON: %q (%v)", l, err)
		}
		out = append(out, e)
	}
	return out
}

// index is the position of the first event matching, or fails the test.
func index(t *testing.T, evs []event, typ, nameSuffix, action string) int {
	t.Helper()
	for i, e := range evs {
		if e.Type == typ && strings.HasSuffix(e.Name, nameSuffix) && e.Action == action {
			return i
		}
	}
	t.Fatalf("no %s event %s %s in %+v", typ, nameSuffix, action, evs)
	return -1
}

func hookCM(name, phase string, weight int, extraAnn string) string {
	return fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  annotations:\n    sherpack.io/hook: %s\n    sherpack.io/hook-weight: \"%d\"\n%sdata: {k: v}\n", name, phase, weight, extraAnn)
}

func hookJob(name, phase string, weight int, fail bool, extraAnn string) string {
	label := ""
	if fail {
		label = "\n      labels: {sherpack.test/fail: \"true\"}"
	}
	return fmt.Sprintf(`---
apiVersion: batch/v1
kind: Job
metadata:
  name: %s
  annotations:
    sherpack.io/hook: %s
    sherpack.io/hook-weight: "%d"
%sspec:
  backoffLimit: 0
  template:
    metadata:%s
    spec:
      restartPolicy: Never
      containers: [{name: c, image: example.local/job:1}]
`, name, phase, weight, extraAnn, label)
}

func waveCM(name string, wave int) string {
	return fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  annotations: {sherpack.io/sync-wave: \"%d\"}\ndata: {k: v}\n", name, wave)
}

const waveDeploy = `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: example.local/web:1}]}
`

// Hooks of several weights and objects in waves -1, 0, 1 run in order, each wave gated on the
// health of the one before; delete policies leave exactly what they should.
func TestHooksAndWavesOrder(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{"all.yaml": hookCM("pre-a", "pre-install", -5, "") +
		hookJob("pre-b", "pre-install", 0, false, "    sherpack.io/hook-delete-policy: hook-succeeded\n") +
		hookCM("pre-c", "pre-install", 0, "") +
		hookJob("post-d", "post-install", 1, false, "") +
		waveCM("first", -1) + waveDeploy + waveCM("last", 1)})
	r := mustSherpack(t, "install", "order", "-f", dir, "-n", ns, "--progress=json")
	evs := events(t, r.stderr)
	preA := index(t, evs, "hook", "ConfigMap/"+ns+"/pre-a", "succeeded")
	preB := index(t, evs, "hook", "Job/"+ns+"/pre-b", "running")
	preC := index(t, evs, "hook", "ConfigMap/"+ns+"/pre-c", "running")
	preBDone := index(t, evs, "hook", "Job/"+ns+"/pre-b", "succeeded")
	first := index(t, evs, "object", "ConfigMap/"+ns+"/first", "applying")
	wave0 := index(t, evs, "object", "Deployment/"+ns+"/web", "applying")
	deployReady := index(t, evs, "object", "Deployment/"+ns+"/web", "ready")
	last := index(t, evs, "object", "ConfigMap/"+ns+"/last", "applying")
	post := index(t, evs, "hook", "Job/"+ns+"/post-d", "running")
	if !(preA < preB && preA < preC && preBDone < first && first < wave0 && deployReady < last && last < post) {
		t.Fatalf("order wrong: preA=%d preB=%d preC=%d preBDone=%d first=%d wave0=%d deployReady=%d last=%d post=%d\n%s",
			preA, preB, preC, preBDone, first, wave0, deployReady, last, post, r.stderr)
	}
	// Delete policies: pre-b (hook-succeeded) is gone; the others (before-hook-creation) stay.
	if _, err := cs.BatchV1().Jobs(ns).Get(ctx, "pre-b", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pre-b with hook-succeeded still exists: %v", err)
	}
	for _, n := range []string{"pre-a", "pre-c"} {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, n, metav1.GetOptions{}); err != nil {
			t.Fatalf("hook %s: %v", n, err)
		}
	}
	if _, err := cs.BatchV1().Jobs(ns).Get(ctx, "post-d", metav1.GetOptions{}); err != nil {
		t.Fatalf("post-d: %v", err)
	}
	// Hooks are not part of the release's objects: the manifest does not list them.
	if m := mustSherpack(t, "get", "manifest", "order", "-n", ns).stdout; strings.Contains(m, "pre-a") {
		t.Fatalf("a hook is in the release manifest:\n%s", m)
	}
	// Re-installing the hooks (upgrade) works: before-hook-creation deletes and waits first.
	up := writeFiles(t, map[string]string{"all.yaml": hookCM("pre-a", "pre-install,pre-upgrade", -5, "") + waveCM("first", -1)})
	mustSherpack(t, "upgrade", "order", "-f", up, "-n", ns)
}

// A failing pre-upgrade hook under each failure policy.
func TestFailingHookPolicies(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"fail", "continue", "rollback"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			ns := testenv.Namespace(t)
			cs := testenv.Clientset(t)
			ctx := context.Background()
			v1 := writeFiles(t, map[string]string{"a.yaml": waveCM("settings", 0)})
			mustSherpack(t, "install", "app", "-f", v1, "-n", ns)
			v2 := writeFiles(t, map[string]string{"a.yaml": waveCM("settings", 0) + waveCM("added", 0) +
				hookJob("migrate", "pre-upgrade", 0, true, "    sherpack.io/hook-failure-policy: "+policy+"\n    sherpack.io/hook-delete-policy: hook-failed\n")})
			r := sherpack(t, "upgrade", "app", "-f", v2, "-n", ns)
			_, addedErr := cs.CoreV1().ConfigMaps(ns).Get(ctx, "added", metav1.GetOptions{})
			switch policy {
			case "fail":
				if r.code != 1 || !strings.Contains(r.stderr, "pre-upgrade hook Job/migrate failed") {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				if !apierrors.IsNotFound(addedErr) {
					t.Fatalf("the upgrade went on after a failing hook: %v", addedErr)
				}
				if h := history(t, ns, "app"); h != "1:deployed 2:failed" {
					t.Fatalf("history: %s", h)
				}
				st := mustSherpack(t, "status", "app", "-n", ns).stdout
				if !strings.Contains(st, "REASON: pre-upgrade hook Job/migrate failed") {
					t.Fatalf("status does not name the hook:\n%s", st)
				}
			case "continue":
				if r.code != 0 || addedErr != nil {
					t.Fatalf("policy continue: exit %d (%s), added: %v", r.code, r.stderr, addedErr)
				}
				st := mustSherpack(t, "status", "app", "-n", ns, "-o", "json").stdout
				if !strings.Contains(st, `"result": "failed"`) {
					t.Fatalf("the failed hook run is not recorded: %s", st)
				}
			case "rollback":
				if r.code != 1 || !strings.Contains(r.stderr, "Rolled back to revision 1") {
					t.Fatalf("policy rollback: exit %d: %s", r.code, r.stderr)
				}
				if h := history(t, ns, "app"); h != "1:superseded 2:failed 3:deployed" {
					t.Fatalf("history: %s", h)
				}
			}
			// hook-failed: the failed Job is deleted.
			testenv.Eventually(t, 30*time.Second, func() error {
				if _, err := cs.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					return fmt.Errorf("migrate job with hook-failed still exists: %v", err)
				}
				return nil
			})
		})
	}
}

// kstatus Failed ends the wait at once; otherwise the timeout names what is not ready.
func TestWaitFailures(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	stuck := func(name, deadline string) string {
		return `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `}
spec:
  progressDeadlineSeconds: ` + deadline + `
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `, sherpack.test/never-ready: "true"}}
    spec: {containers: [{name: c, image: example.local/x:1}]}
`
	}
	fast := writeFiles(t, map[string]string{"d.yaml": stuck("deadline", "1")})
	r := expectExit(t, 1, "ProgressDeadlineExceeded", "install", "fast", "-f", fast, "-n", ns, "--timeout", "4m")
	if !strings.Contains(r.stderr, "Deployment/"+ns+"/deadline") || strings.Contains(r.stderr, "timed out after") {
		t.Fatalf("a Failed status must end the wait with its reason, not a timeout:\n%s", r.stderr)
	}
	slow := writeFiles(t, map[string]string{"d.yaml": stuck("slow", "600")})
	r = expectExit(t, 1, "not ready within", "install", "slow", "-f", slow, "-n", ns, "--timeout", "3s")
	if !strings.Contains(r.stderr, "Deployment/"+ns+"/slow") || !strings.Contains(r.stderr, "not ready within 3s (--timeout)") {
		t.Fatalf("the timeout must name the object and the limit:\n%s", r.stderr)
	}
}

// An HTTP check against a server on 127.0.0.1 passes and fails as the server answers.
func TestHTTPHealthCheck(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			fmt.Fprintln(w, "ok")
			return
		}
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cm := func(v string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: checked
  annotations:
    sherpack.io/health-check: "true"
    sherpack.io/health-check-type: http
    sherpack.io/health-check-url: %s/healthz
    sherpack.io/health-check-timeout: 3s
data: {v: "%s"}
`, srv.URL, v)
	}
	r := mustSherpack(t, "install", "web", "-f", writeFiles(t, map[string]string{"c.yaml": cm("1")}), "-n", ns, "--progress=json")
	index(t, events(t, r.stderr), "check", "ConfigMap/"+ns+"/checked", "passed")
	healthy.Store(false)
	r = expectExit(t, 1, "health check GET "+srv.URL+"/healthz (want 200) did not pass: HTTP 503", "upgrade", "web", "-f", writeFiles(t, map[string]string{"c.yaml": cm("2")}), "-n", ns)
	if !strings.Contains(r.stderr, "database unreachable") {
		t.Fatalf("the check's answer is not shown:\n%s", r.stderr)
	}
}

// kubectl sherpack test: PASS/FAIL per test hook, exit non-zero on a failure, results recorded.
func TestTestCommand(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	dir := writeFiles(t, map[string]string{"a.yaml": waveCM("app", 0) + hookJob("test-ok", "test", 0, false, "") + hookJob("test-bad", "test", 1, true, "")})
	mustSherpack(t, "install", "app", "-f", dir, "-n", ns)
	r := expectExit(t, 1, "1 of 2 tests failed", "test", "app", "-n", ns, "--logs")
	if !strings.Contains(r.stdout, "PASS  Job/test-ok") || !strings.Contains(r.stdout, "FAIL  Job/test-bad") {
		t.Fatalf("test output:\n%s", r.stdout)
	}
	st := mustSherpack(t, "status", "app", "-n", ns).stdout
	if !strings.Contains(st, "Job/test-ok [test] weight 0: test succeeded") || !strings.Contains(st, "Job/test-bad [test] weight 1: test failed") {
		t.Fatalf("test results not recorded:\n%s", st)
	}
}
