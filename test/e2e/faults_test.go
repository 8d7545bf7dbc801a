package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sherpack/kubectl-sherpack/internal/faultproxy"
	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// startProxy puts a fault-injecting proxy in front of the test API server and returns it with a
// kubeconfig that goes through it.
func startProxy(t *testing.T) (*faultproxy.Proxy, string) {
	t.Helper()
	cfg := testenv.RESTConfig(t)
	p, err := faultproxy.Start(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: p, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: p, context: {cluster: p, user: admin}}]
current-context: p
`, p.URL, cfg.BearerToken)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, kc
}

// running is the plugin started in the background.
type running struct {
	cmd       *exec.Cmd
	out, errb bytes.Buffer
	done      chan struct{}
	code      int
}

func startSherpack(t *testing.T, kubeconfig string, args ...string) *running {
	t.Helper()
	r := &running{cmd: exec.Command(testenv.PluginBinary(), args...), done: make(chan struct{})}
	r.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.errb
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		err := r.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
	}()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.done })
	return r
}

// wait returns the outcome, failing the test if it takes longer than limit.
func (r *running) wait(t *testing.T, limit time.Duration) result {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(limit):
		_ = r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("%v still running after %s\nstderr: %s", r.cmd.Args, limit, r.errb.String())
	}
	return result{stdout: r.out.String(), stderr: r.errb.String(), code: r.code}
}

// kill sends SIGKILL: no deferred function, no lock release, nothing.
func (r *running) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// arrived waits for a held request, failing the test if it does not come.
func arrived(t *testing.T, h *faultproxy.Held, r *running, what string) {
	t.Helper()
	select {
	case <-h.Arrived():
	case <-r.done:
		t.Fatalf("the command ended before %s: exit %d\n%s%s", what, r.code, r.out.String(), r.errb.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("no %s within 90s\n%s", what, r.errb.String())
	}
}

// applyOf matches the server-side apply of an object of a resource (and name, if given).
func applyOf(resource, name string) func(*http.Request, []byte) bool {
	return func(r *http.Request, _ []byte) bool {
		if r.Method != http.MethodPatch || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch") {
			return false
		}
		return strings.Contains(r.URL.Path, "/"+resource+"/"+name)
	}
}

// assertClean checks a release after a command ran under faults: no revision left pending,
// the lock free, every record readable.
func assertClean(t *testing.T, store *releases.Store, ns, name, after string) {
	t.Helper()
	ctx := context.Background()
	metas, err := store.History(ctx, ns, name)
	if err != nil && !releases.IsNotFound(err) {
		t.Fatalf("after %s: history: %v", after, err)
	}
	for _, m := range metas {
		r, err := store.Get(ctx, ns, name, m.Revision)
		if err != nil {
			t.Fatalf("after %s: revision %d unreadable: %v", after, m.Revision, err)
		}
		if r.State.IsPending() {
			t.Fatalf("after %s: revision %d left %s", after, r.Revision, r.State)
		}
	}
	op, err := store.Begin(ctx, ns, name, "check")
	if err != nil {
		t.Fatalf("after %s the lock is not free: %v", after, err)
	}
	_ = op.End(ctx)
}

// The lifecycle of the example packs through a proxy that adds 5 ms to every request, answers
// 5% of them 500/503 and 3% 429, resets 2% of connections after the server acted (half of them
// halfway through the answer) and, every two seconds, answers every request 429 for a third of
// a second. Each command succeeds or fails cleanly: nothing left pending, the lock free, every
// record readable.
func TestLifecycleUnderFaults(t *testing.T) {
	t.Parallel()
	for _, pk := range []struct{ name, dir, set string }{
		{"webapp", webapp, "replicas=3"},
		{"crd-app", "../../examples/crd-app", ""},
	} {
		t.Run(pk.name, func(t *testing.T) {
			t.Parallel()
			lifecycleUnderFaults(t, pk.dir, pk.set, 1)
		})
	}
}

func lifecycleUnderFaults(t *testing.T, dir, set string, rounds int) {
	p, kc := startProxy(t)
	base := faultproxy.Faults{Error5xx: 0.05, TooMany: 0.03, Reset: 0.02, Latency: 5 * time.Millisecond}
	p.Set(base)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // 429 bursts
		burst := base
		burst.TooMany = 1 - base.Error5xx
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
			p.Set(burst)
			time.Sleep(300 * time.Millisecond)
			p.Set(base)
		}
	}()
	ns := testenv.Namespace(t)
	store := secretsStore(t)
	upgrade := []string{"upgrade", "shop", dir}
	if set != "" {
		upgrade = append(upgrade, "--set", set)
	}
	steps := [][]string{
		{"install", "shop", dir}, upgrade, {"rollback", "shop"},
		{"upgrade", "shop", dir, "--install"}, {"history", "shop"}, {"status", "shop"}, {"uninstall", "shop"},
	}
	ok, total := 0, 0
	for round := 0; round < rounds; round++ {
		for _, step := range steps {
			args := append(append([]string{}, step...), "-n", ns)
			if step[0] != "history" && step[0] != "status" {
				args = append(args, "--progress=none")
			}
			r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, args...)
			total++
			if r.code == 0 {
				ok++
			} else {
				t.Logf("%v failed (allowed under faults if clean): exit %d: %s", step, r.code, strings.TrimSpace(r.stderr))
			}
			if step[0] != "uninstall" || r.code != 0 {
				assertClean(t, store, ns, "shop", step[0])
			}
		}
	}
	injected := p.Injected5xx.Load() + p.Injected429.Load() + p.InjectedResets.Load()
	t.Logf("%d of %d commands succeeded; injected %d 5xx, %d 429, %d resets; forwarded %d",
		ok, total, p.Injected5xx.Load(), p.Injected429.Load(), p.InjectedResets.Load(), p.Forwarded.Load())
	if injected < int64(5*rounds) {
		t.Fatalf("only %d faults injected: the test proves nothing", injected)
	}
	// Retries make faults at these rates invisible nearly always; most commands must succeed.
	if ok < total-2*rounds {
		t.Fatalf("only %d of %d commands succeeded under faults", ok, total)
	}
}

// The API server goes away for four seconds just as an upgrade applies its Deployment (every
// open connection reset, new ones refused): the upgrade waits for it, says so, and completes.
func TestAPIServerDownDuringUpgrade(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	p, kc := startProxy(t)
	h := p.Hold(applyOf("deployments", ""))
	r := startSherpack(t, kc, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3", "--progress=json")
	arrived(t, h, r, "the apply of the Deployment")
	p.Down(4 * time.Second)
	h.Release()
	res := r.wait(t, 2*time.Minute)
	if res.code != 0 {
		t.Fatalf("upgrade across a 4s outage: exit %d\n%s", res.code, res.stderr)
	}
	// Told as progress events: --progress=json stays one JSON object per line.
	var told []string
	for _, e := range events(t, res.stderr) {
		if e.Type == "api" {
			told = append(told, e.Detail)
		}
	}
	if len(told) != 2 || !strings.Contains(told[0], "unreachable (connection refused); retrying for up to 1m0s") || !strings.Contains(told[1], "API server answering again after") {
		t.Fatalf("the outage was not reported: %q\n%s", told, res.stderr)
	}
	if h := history(t, ns, "shop"); h != "1:superseded 2:deployed" {
		t.Fatalf("history: %s", h)
	}
	d, err := testenv.Clientset(t).AppsV1().Deployments(ns).Get(context.Background(), "shop-webapp", metav1.GetOptions{})
	if err != nil || *d.Spec.Replicas != 3 {
		t.Fatalf("deployment after the upgrade: %v %v", err, d)
	}
}

// An outage longer than the operation's --timeout: the upgrade stops at its deadline, and the
// record of its failure waits for the API server to come back, so the revision is marked failed
// and the lock released, not left pending.
func TestAPIServerDownPastTheTimeout(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	p, kc := startProxy(t)
	h := p.Hold(applyOf("deployments", ""))
	r := startSherpack(t, kc, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=3", "--progress=none", "--timeout", "3s")
	arrived(t, h, r, "the apply of the Deployment")
	p.Down(8 * time.Second)
	h.Release()
	res := r.wait(t, 2*time.Minute)
	if res.code == 0 || !strings.Contains(res.stderr, "timed out after 3s (--timeout)") || !strings.Contains(res.stderr, "Warning: API server 127.0.0.1") {
		t.Fatalf("want a failure naming the 3s timeout, the outage told as a warning; got exit %d\n%s", res.code, res.stderr)
	}
	store := secretsStore(t)
	assertClean(t, store, ns, "shop", "the timed-out upgrade")
	if h := history(t, ns, "shop"); h != "1:deployed 2:failed" {
		t.Fatalf("history: %s\n%s", h, res.stderr)
	}
}

// widgetCRD defines a Widget kind in a group of its own (CRDs are cluster-wide).
func widgetCRD(group string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.` + group + `}
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`
}

// A wait whose watches are cut every 300 ms, and every third of them expires at once ("too old
// resource version"): it resumes or lists again and sees the object become ready (a custom resource
// reconciling until the test says otherwise).
func TestWaitSurvivesCutWatches(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	group := ns + ".sherpack.test"
	crd := writeFiles(t, map[string]string{"crd.yaml": widgetCRD(group)})
	mustSherpack(t, "install", "widget-crd", "-f", crd, "-n", ns)
	dir := writeFiles(t, map[string]string{"w.yaml": `apiVersion: ` + group + `/v1
kind: Widget
metadata: {name: slow}
spec: {size: 1}
status:
  conditions: [{type: Reconciling, status: "True", reason: Working, message: still working}]
`})
	p, kc := startProxy(t)
	p.Set(faultproxy.Faults{CutWatchAt: 300 * time.Millisecond, ExpireWatchEvery: 3})
	start := time.Now()
	r := startSherpack(t, kc, "install", "widgets", "-f", dir, "-n", ns, "--progress=plain", "--timeout", "90s")
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}
	dyn := testenv.Dynamic(t)
	testenv.Eventually(t, 60*time.Second, func() error {
		_, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), "slow", metav1.GetOptions{})
		return err
	})
	time.Sleep(3 * time.Second) // several cuts while it reconciles
	select {
	case <-r.done:
		t.Fatalf("install ended while the widget was reconciling: exit %d\n%s", r.code, r.errb.String())
	default:
	}
	patch := []byte(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Done"}]}}`)
	if _, err := dyn.Resource(gvr).Namespace(ns).Patch(context.Background(), "slow", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	res := r.wait(t, 60*time.Second)
	if res.code != 0 {
		t.Fatalf("install through cut watches: exit %d\n%s", res.code, res.stderr)
	}
	if p.WatchCuts.Load() < 3 || p.ExpiredWatches.Load() < 1 {
		t.Fatalf("only %d watches cut and %d expired in %s: the test proves nothing", p.WatchCuts.Load(), p.ExpiredWatches.Load(), time.Since(start))
	}
	t.Logf("ready seen after %d cut and %d expired watches, %s", p.WatchCuts.Load(), p.ExpiredWatches.Load(), time.Since(start).Round(time.Millisecond))
}

// A server that never answers (a wrong context, say) fails soon, with the error and what to
// check, and an operation says so instead of blaming lock contention.
func TestUnreachableServerNamed(t *testing.T) {
	t.Parallel()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: u}}]
current-context: nowhere
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"install", "shop", webapp}} {
		r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1:1") || !strings.Contains(r.stderr, "connection refused") ||
			!strings.Contains(r.stderr, "is this the right context") || strings.Contains(r.stderr, "contention") {
			t.Fatalf("%v against nothing: exit %d\n%s", args, r.code, r.stderr)
		}
	}
}
