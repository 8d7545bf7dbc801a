package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// lockTTL is short in these tests so that a killed holder's lock expires quickly.
const lockTTL = "2s"

// bigRelease writes manifests whose record, compressed, is well past one Secret (1 MiB):
// three ConfigMaps of incompressible data, and a small one whose value the test changes.
func bigRelease(t *testing.T, marker string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for i := 0; i < 3; i++ {
		raw := make([]byte, 520<<10)
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: blob-%d}\ndata:\n  blob: %s\n", i, base64.StdEncoding.EncodeToString(raw))
	}
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: marker}\ndata: {value: %q}\n", marker)
	return writeFiles(t, map[string]string{"big.yaml": b.String()})
}

// chunkPosts matches the creation of chunks of one record; hold is true for the n-th.
func chunkPosts(name string, revision int, n int32, count *atomic.Int32) func(*http.Request, []byte) bool {
	prefix := []byte(releases.ObjectName(name, revision) + ".")
	return func(r *http.Request, body []byte) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/secrets") ||
			!bytes.Contains(body, []byte("sherpack-chunk")) || !bytes.Contains(body, prefix) {
			return false
		}
		return count.Add(1) == n
	}
}

// chunksConsistent checks that every chunk left in the namespace belongs to a stored revision
// and that each revision has chunks of one generation only (no leftovers of a killed write),
// and that every record reads back (sizes and checksums verified).
func chunksConsistent(t *testing.T, ns, name string) int {
	t.Helper()
	ctx := context.Background()
	store := secretsStore(t)
	metas, err := store.History(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	revs := map[string]bool{}
	for _, m := range metas {
		if _, err := store.Get(ctx, ns, name, m.Revision); err != nil {
			t.Fatalf("revision %d does not read back: %v", m.Revision, err)
		}
		revs[itoa(m.Revision)] = true
	}
	l, err := testenv.Clientset(t).CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=sherpack-chunk,name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	gens := map[string]map[string]bool{}
	for _, s := range l.Items {
		v := s.Labels["version"]
		if !revs[v] {
			t.Fatalf("chunk %s belongs to revision %s, which is not stored", s.Name, v)
		}
		if gens[v] == nil {
			gens[v] = map[string]bool{}
		}
		gens[v][s.Labels["sherpack.io/chunk-gen"]] = true
	}
	for v, g := range gens {
		if len(g) != 1 {
			t.Fatalf("revision %s has chunks of %d generations: leftovers of an interrupted write", v, len(g))
		}
	}
	return len(l.Items)
}

// SIGKILL in the middle of writing a chunked record, twice: while the pending revision's chunks
// are created (its index never written), and while the chunks of its final state are created
// (the index still names the previous generation). Each time the next upgrade, once the lock
// has expired, brings the release back: no leftover chunk, every record readable, the history
// says what happened.
func TestKilledDuringChunkWrites(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "big", "-f", bigRelease(t, "v1"), "-n", ns, "--lock-ttl", lockTTL)
	perRecord := chunksConsistent(t, ns, "big")
	if perRecord < 2 {
		t.Fatalf("the record has %d chunks: not chunked, the test proves nothing", perRecord)
	}
	p, kc := startProxy(t)

	// 1. Killed while the chunks of pending revision 2 are created.
	var count atomic.Int32
	h := p.Hold(chunkPosts("big", 2, 2, &count))
	r := startSherpack(t, kc, "upgrade", "big", "-f", bigRelease(t, "v2"), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
	arrived(t, h, r, "the second chunk of revision 2")
	r.kill()
	h.Release()
	if latest, err := secretsStore(t).Latest(context.Background(), ns, "big"); err != nil || latest.Revision != 1 {
		t.Fatalf("after a kill before its index was written, revision 2 must not exist: %v %v", latest, err)
	}
	time.Sleep(2100 * time.Millisecond) // the lock expires
	mustSherpack(t, "upgrade", "big", "-f", bigRelease(t, "v3"), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
	if h := history(t, ns, "big"); h != "1:superseded 2:deployed" {
		t.Fatalf("history: %s", h)
	}
	chunksConsistent(t, ns, "big")

	// 2. Killed while revision 3's final state is written (its pending state stored whole).
	count.Store(0)
	h = p.Hold(chunkPosts("big", 3, int32(perRecord)+2, &count))
	r = startSherpack(t, kc, "upgrade", "big", "-f", bigRelease(t, "v4"), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
	arrived(t, h, r, "a chunk of revision 3's second write")
	r.kill()
	h.Release()
	latest, err := secretsStore(t).Latest(context.Background(), ns, "big")
	if err != nil || latest.Revision != 3 || !latest.State.IsPending() {
		t.Fatalf("revision 3 must be stored, pending, readable: %+v %v", latest, err)
	}
	time.Sleep(2100 * time.Millisecond)
	mustSherpack(t, "upgrade", "big", "-f", bigRelease(t, "v5"), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
	if h := history(t, ns, "big"); h != "1:superseded 2:superseded 3:failed 4:deployed" {
		t.Fatalf("history: %s", h)
	}
	rev3, err := secretsStore(t).Get(context.Background(), ns, "big", 3)
	if err != nil || !strings.Contains(rev3.Reason, "interrupted: upgrade by") {
		t.Fatalf("revision 3 should say it was interrupted: %v %v", rev3, err)
	}
	chunksConsistent(t, ns, "big")
	cm, err := testenv.Clientset(t).CoreV1().ConfigMaps(ns).Get(context.Background(), "marker", metav1.GetOptions{})
	if err != nil || cm.Data["value"] != "v5" {
		t.Fatalf("marker after recovery: %v %v", cm, err)
	}
}

// SIGKILL between two waves (wave 0 applied and ready, wave 1 about to be applied): `recover`,
// once the lock has expired, marks the revision failed; the next upgrade deploys.
func TestKilledBetweenWaves(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	waves := func(v string) string {
		return writeFiles(t, map[string]string{"all.yaml": waveCM("first", 0) + waveDeploy +
			fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n  annotations: {sherpack.io/sync-wave: \"1\"}\ndata: {value: %q}\n", v)})
	}
	mustSherpack(t, "install", "waves", "-f", waves("v1"), "-n", ns, "--lock-ttl", lockTTL)
	p, kc := startProxy(t)
	h := p.Hold(applyOf("configmaps", "second"))
	r := startSherpack(t, kc, "upgrade", "waves", "-f", waves("v2"), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
	arrived(t, h, r, "the apply of wave 1")
	r.kill()
	h.Release()
	// While the lock lives, recover refuses (someone might still be working).
	expectExit(t, 5, "locked", "recover", "waves", "-n", ns)
	time.Sleep(2100 * time.Millisecond)
	rec := mustSherpack(t, "recover", "waves", "-n", ns)
	if !strings.Contains(rec.stdout, "waves recovered: revision 2 marked failed (interrupted: upgrade by") {
		t.Fatalf("recover should name revision 2:\n%s%s", rec.stdout, rec.stderr)
	}
	if h := history(t, ns, "waves"); h != "1:deployed 2:failed" {
		t.Fatalf("history after recover: %s", h)
	}
	if table := mustSherpack(t, "history", "waves", "-n", ns).stdout; !strings.Contains(table, "interrupted: upgrade by") {
		t.Fatalf("history should say what happened to revision 2:\n%s", table)
	}
	mustSherpack(t, "upgrade", "waves", "-f", waves("v3"), "-n", ns, "--progress=none")
	if h := history(t, ns, "waves"); h != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history: %s", h)
	}
	cm, err := testenv.Clientset(t).CoreV1().ConfigMaps(ns).Get(context.Background(), "second", metav1.GetOptions{})
	if err != nil || cm.Data["value"] != "v3" {
		t.Fatalf("wave 1 after recovery: %v %v", cm, err)
	}
}

// SIGKILL while a pre-upgrade hook runs (its Job created, its pod running, the hook awaited):
// the next upgrade, once the lock has expired, marks the revision failed, replaces the hook Job
// (before-hook-creation) and deploys.
func TestKilledDuringHook(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	release := func(stuck bool, v string) string {
		job := hookJob("migrate", "pre-upgrade", 0, false, "")
		if stuck {
			job = strings.Replace(job, "    metadata:\n", "    metadata:\n      labels: {sherpack.test/never-ready: \"true\"}\n", 1)
		}
		return writeFiles(t, map[string]string{"all.yaml": job + fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {value: %q}\n", v)})
	}
	mustSherpack(t, "install", "hooked", "-f", release(false, "v1"), "-n", ns, "--lock-ttl", lockTTL)
	r := startSherpack(t, testenv.Kubeconfig(), "upgrade", "hooked", "-f", release(true, "v2"), "-n", ns, "--lock-ttl", lockTTL, "--progress=none")
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
	r.kill()
	latest, err := secretsStore(t).Latest(ctx, ns, "hooked")
	if err != nil || latest.Revision != 2 || latest.State != releases.StatePendingUpgrade {
		t.Fatalf("killed during its hook, revision 2 should be pending-upgrade: %+v %v", latest, err)
	}
	time.Sleep(2100 * time.Millisecond)
	mustSherpack(t, "upgrade", "hooked", "-f", release(false, "v3"), "-n", ns, "--progress=none")
	if h := history(t, ns, "hooked"); h != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history: %s", h)
	}
	job, err := cs.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, stuck := job.Spec.Template.Labels["sherpack.test/never-ready"]; stuck {
		t.Fatal("the hook Job of the killed upgrade was not replaced")
	}
	if c := job.Status.Succeeded; c < 1 {
		t.Fatalf("the new hook Job has not succeeded: %+v", job.Status)
	}
}

// SIGKILL in the middle of an uninstall (some objects deleted, others not): once the lock has
// expired, uninstall again finishes the job and the kept history says so.
func TestKilledDuringUninstall(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns, "--lock-ttl", lockTTL)
	p, kc := startProxy(t)
	h := p.Hold(func(r *http.Request, _ []byte) bool {
		return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/deployments/")
	})
	r := startSherpack(t, kc, "uninstall", "shop", "-n", ns, "--keep-history", "--lock-ttl", lockTTL, "--progress=none")
	arrived(t, h, r, "the deletion of the Deployment")
	r.kill()
	h.Release()
	if h := history(t, ns, "shop"); h != "1:pending-uninstall" {
		t.Fatalf("killed mid-uninstall, history: %s", h)
	}
	time.Sleep(2100 * time.Millisecond)
	mustSherpack(t, "uninstall", "shop", "-n", ns, "--keep-history", "--progress=none")
	if h := history(t, ns, "shop"); h != "1:uninstalled" {
		t.Fatalf("history after the second uninstall: %s", h)
	}
	if table := mustSherpack(t, "history", "shop", "-n", ns).stdout; !strings.Contains(table, "Uninstallation complete") {
		t.Fatalf("history:\n%s", table)
	}
	ds, err := testenv.Clientset(t).AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(ds.Items) != 0 {
		t.Fatalf("deployments left after uninstall: %v %v", ds, err)
	}
}
