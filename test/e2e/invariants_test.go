package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/faultproxy"
	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// configMaps writes a release of ConfigMaps named names; with stuck, a Deployment whose pods
// never become ready makes the operation fail at its --timeout.
func configMaps(t *testing.T, stuck bool, names ...string) string {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {k: v}\n", n)
	}
	if stuck {
		b.WriteString(`---
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 1
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck, sherpack.test/never-ready: "true"}}
    spec: {containers: [{name: c, image: example.local/stuck:1}]}
`)
	}
	return writeFiles(t, map[string]string{"all.yaml": b.String()})
}

// labelledObjects lists the ConfigMaps and Deployments carrying the release's labels.
func labelledObjects(t *testing.T, ns, name string) []string {
	t.Helper()
	ctx := context.Background()
	cs := testenv.Clientset(t)
	sel := metav1.ListOptions{LabelSelector: "sherpack.io/release-name=" + name}
	var out []string
	cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cms.Items {
		out = append(out, "ConfigMap/"+c.Name)
	}
	ds, err := cs.AppsV1().Deployments(ns).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds.Items {
		out = append(out, "Deployment/"+d.Name)
	}
	return out
}

// install NAME over a release whose latest upgrade failed (revision 1 deployed, 2 failed) is
// refused with the command to use, as Helm does: nothing is written, no hook runs again.
func TestInstallOverFailedUpgradeRefused(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "inst", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	expectExit(t, 1, "", "upgrade", "inst", "-f", configMaps(t, true, "a"), "-n", ns, "--timeout", "3s", "--progress=none")
	if h := history(t, ns, "inst"); h != "1:deployed 2:failed" {
		t.Fatalf("history: %s", h)
	}
	r := expectExit(t, 3, "kubectl sherpack upgrade inst", "install", "inst", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	if !strings.Contains(r.stderr, "revision 1, deployed") || !strings.Contains(r.stderr, "revision 2 after it is failed") {
		t.Fatalf("the refusal should say which revision is deployed and what followed:\n%s", r.stderr)
	}
	if h := history(t, ns, "inst"); h != "1:deployed 2:failed" {
		t.Fatalf("a refused install changed the history: %s", h)
	}
	// A failed first install may still be installed over.
	ns2 := testenv.Namespace(t)
	expectExit(t, 1, "not ready within", "install", "first", "-f", configMaps(t, true, "x"), "-n", ns2, "--timeout", "3s", "--progress=none")
	mustSherpack(t, "install", "first", "-f", configMaps(t, false, "x"), "-n", ns2, "--progress=none")
	if h := history(t, ns2, "first"); h != "1:failed 2:deployed" {
		t.Fatalf("history of the release installed over its failed first install: %s", h)
	}
}

// Two failed upgrades in a row, each creating an object the next one no longer has, then
// uninstall: no object carrying the release's labels is left.
func TestTwoFailedUpgradesThenUninstallLeaveNothing(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "orph", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	expectExit(t, 1, "not ready within", "upgrade", "orph", "-f", configMaps(t, true, "a", "b"), "-n", ns, "--timeout", "3s", "--progress=none")
	expectExit(t, 1, "not ready within", "upgrade", "orph", "-f", configMaps(t, true, "a", "c"), "-n", ns, "--timeout", "3s", "--progress=none")
	if got := strings.Join(labelledObjects(t, ns, "orph"), " "); !strings.Contains(got, "ConfigMap/b") || !strings.Contains(got, "ConfigMap/c") {
		t.Fatalf("the failed upgrades should have created b and c: %s", got)
	}
	mustSherpack(t, "uninstall", "orph", "-n", ns, "--wait", "--progress=none")
	if left := labelledObjects(t, ns, "orph"); len(left) != 0 {
		t.Fatalf("uninstall left objects labelled as the release's: %v", left)
	}
}

// A successful upgrade after two failed ones prunes what either of them created.
func TestUpgradeAfterFailedUpgradesPrunesTheirObjects(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "sweep", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	expectExit(t, 1, "not ready within", "upgrade", "sweep", "-f", configMaps(t, true, "a", "b"), "-n", ns, "--timeout", "3s", "--progress=none")
	expectExit(t, 1, "not ready within", "upgrade", "sweep", "-f", configMaps(t, true, "a", "c"), "-n", ns, "--timeout", "3s", "--progress=none")
	mustSherpack(t, "upgrade", "sweep", "-f", configMaps(t, false, "a", "d"), "-n", ns, "--progress=none")
	got := strings.Join(labelledObjects(t, ns, "sweep"), " ")
	if got != "ConfigMap/a ConfigMap/d" {
		t.Fatalf("after a successful upgrade the release's objects are %q, want ConfigMap/a ConfigMap/d", got)
	}
}

// uninstall --keep-history when the latest revision is failed leaves no revision deployed.
func TestUninstallKeepHistoryMarksEveryRevision(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "keep", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	expectExit(t, 1, "not ready within", "upgrade", "keep", "-f", configMaps(t, true, "a"), "-n", ns, "--timeout", "3s", "--progress=none")
	mustSherpack(t, "uninstall", "keep", "-n", ns, "--keep-history", "--progress=none")
	if h := history(t, ns, "keep"); h != "1:superseded 2:uninstalled" {
		t.Fatalf("history after uninstall --keep-history: %s, want 1:superseded 2:uninstalled", h)
	}
	// And it may be installed again.
	mustSherpack(t, "install", "keep", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
}

// --history-max prunes after failures too: a loop retrying a broken upgrade keeps at most
// history-max revisions (plus the last deployed one), and no chunk of a pruned revision.
func TestHistoryMaxPrunesFailedRevisions(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "loop", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	for i := 0; i < 4; i++ {
		expectExit(t, 1, "not ready within", "upgrade", "loop", "-f", configMaps(t, true, "a"), "-n", ns, "--timeout", "2s", "--history-max", "2", "--progress=none")
	}
	if h := history(t, ns, "loop"); h != "1:deployed 5:failed" {
		t.Fatalf("history after 4 failed upgrades with --history-max 2: %s, want 1:deployed 5:failed", h)
	}
}

// A kill between marking the new revision deployed and superseding the old one (the write that
// supersedes is held, then the process SIGKILLed) leaves two deployed revisions only until the
// next operation, which repairs it.
func TestKillBetweenDeployAndSupersedeRepaired(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "two", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none", "--lock-ttl", lockTTL)
	p, kc := startProxy(t)
	rev1 := releases.ObjectName("two", 1)
	h := p.Hold(func(r *http.Request, _ []byte) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/secrets/"+rev1)
	})
	r := startSherpack(t, kc, "upgrade", "two", "-f", configMaps(t, false, "a", "b"), "-n", ns, "--progress=none", "--lock-ttl", lockTTL)
	arrived(t, h, r, "the write superseding revision 1")
	r.kill()
	h.Release()
	if got := history(t, ns, "two"); got != "1:deployed 2:deployed" {
		t.Fatalf("the kill should have come between the two writes: %s", got)
	}
	time.Sleep(2100 * time.Millisecond)
	// Any operation repairs it; even a read-only status shows the newest deployed one.
	mustSherpack(t, "recover", "two", "-n", ns)
	if got := history(t, ns, "two"); got != "1:superseded 2:deployed" {
		t.Fatalf("after recover: %s, want 1:superseded 2:deployed", got)
	}
}

// A deploy that succeeded reports success although superseding the previous revision failed
// (its write answered 503): the warning says so, and the next operation repairs the history.
func TestDeploySucceedsWhenSupersedeFails(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "sup", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	p, kc := startProxy(t)
	rev1 := releases.ObjectName("sup", 1)
	p.Set(faultproxy.Faults{Unavailable: func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/secrets/"+rev1)
	}})
	r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, "upgrade", "sup", "-f", configMaps(t, false, "a", "b"), "-n", ns, "--progress=plain")
	if r.code != 0 || !strings.Contains(r.stderr, "supersede revision 1") || !strings.Contains(r.stderr, "the next operation repairs it") {
		t.Fatalf("upgrade whose deploy succeeded: exit %d, want 0 with a warning about revision 1\n%s", r.code, r.stderr)
	}
	if got := history(t, ns, "sup"); got != "1:deployed 2:deployed" {
		t.Fatalf("superseding was refused, history should still be 1:deployed 2:deployed: %s", got)
	}
	mustSherpack(t, "upgrade", "sup", "-f", configMaps(t, false, "a", "c"), "-n", ns, "--progress=none")
	if got := history(t, ns, "sup"); got != "1:superseded 2:superseded 3:deployed" {
		t.Fatalf("the next operation should have repaired the history: %s", got)
	}
}

// A hook whose deletion never completes (a finalizer nobody removes) does not hold the
// operation past its --timeout: the deletion wait is bounded too.
func TestHookDeletionWaitBoundedByTimeout(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	hook := `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: marker
  finalizers: [sherpack.test/never]
  annotations: {sherpack.io/hook: post-install, sherpack.io/hook-delete-policy: hook-succeeded}
data: {k: v}
`
	t.Cleanup(func() {
		ctx := context.Background()
		if cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "marker", metav1.GetOptions{}); err == nil {
			cm.Finalizers = nil
			_, _ = cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		}
	})
	dir := writeFiles(t, map[string]string{"all.yaml": hook + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {k: v}\n"})
	r := startSherpack(t, testenv.Kubeconfig(), "install", "fin", "-f", dir, "-n", ns, "--timeout", "8s", "--progress=none")
	res := r.wait(t, 40*time.Second)
	if res.code != 0 {
		t.Fatalf("install with a hook that cannot be deleted: exit %d\n%s", res.code, res.stderr)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "marker", metav1.GetOptions{})
	if err != nil || cm.DeletionTimestamp == nil {
		t.Fatalf("the hook's deletion should have been asked for (and be held by its finalizer): %v %v", cm, err)
	}
}

// A failed upgrade creates an object of a kind no other revision has; with --history-max 1 its
// record is pruned by the next failed upgrade. The kinds still to sweep travel with the latest
// revision, so the successful upgrade that follows still deletes that object.
func TestSweepSurvivesHistoryPruning(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	secret := "---\napiVersion: v1\nkind: Secret\nmetadata: {name: only-in-rev2}\nstringData: {k: v}\n"
	withSecret := configMaps(t, true, "a")
	if err := os.WriteFile(withSecret+"/secret.yaml", []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSherpack(t, "install", "pr", "-f", configMaps(t, false, "a"), "-n", ns, "--progress=none")
	expectExit(t, 1, "not ready within", "upgrade", "pr", "-f", withSecret, "-n", ns, "--timeout", "3s", "--history-max", "1", "--progress=none")
	expectExit(t, 1, "not ready within", "upgrade", "pr", "-f", configMaps(t, true, "a"), "-n", ns, "--timeout", "3s", "--history-max", "1", "--progress=none")
	if h := history(t, ns, "pr"); h != "1:deployed 3:failed" {
		t.Fatalf("history with --history-max 1: %s, want 1:deployed 3:failed (the revision with the Secret pruned)", h)
	}
	if _, err := cs.CoreV1().Secrets(ns).Get(context.Background(), "only-in-rev2", metav1.GetOptions{}); err != nil {
		t.Fatalf("the failed upgrade should have created the Secret: %v", err)
	}
	mustSherpack(t, "upgrade", "pr", "-f", configMaps(t, false, "a"), "-n", ns, "--history-max", "1", "--progress=none")
	if _, err := cs.CoreV1().Secrets(ns).Get(context.Background(), "only-in-rev2", metav1.GetOptions{}); err == nil {
		t.Fatal("the Secret that only the pruned revision had was left behind")
	}
}
