package releases

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

func kubeClients(t testing.TB, cfg *rest.Config) (kubernetes.Interface, metadata.Interface) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs, md
}

func kubeDUT(t *testing.T, kind string, opts KubeOptions) driverUnderTest {
	cs, md := kubeClients(t, testenv.RESTConfig(t))
	var d Driver
	if kind == "secrets" {
		d = NewSecretsDriver(cs, md, opts)
	} else {
		d = NewConfigMapsDriver(cs, md, opts)
	}
	kd := d.(*kubeDriver)
	return driverUnderTest{
		driver:    d,
		namespace: func(t *testing.T) string { return testenv.Namespace(t) },
		corrupt: func(t *testing.T, ns, name string, rev int, raw []byte) {
			ctx := context.Background()
			obj, err := kd.objects.Get(ctx, kd.ns(ns), kd.key(ns, name, rev))
			if err != nil {
				t.Fatal(err)
			}
			obj.Data = map[string][]byte{"release": raw}
			if _, err := kd.objects.Update(ctx, obj); err != nil {
				t.Fatal(err)
			}
		},
		abandon: func(t *testing.T, l Lock) { time.Sleep(1100 * time.Millisecond) }, // let the lease expire
		lockTTL: time.Second,
	}
}

func TestSecretsDriverConformance(t *testing.T) {
	t.Parallel()
	// A small chunk size makes the 3 MiB release of the suite span several chunks.
	runConformance(t, kubeDUT(t, "secrets", KubeOptions{ChunkSize: 512 << 10}))
}

func TestConfigMapsDriverConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, kubeDUT(t, "configmaps", KubeOptions{ChunkSize: 512 << 10}))
}

func TestSecretsDriverSeparateManifestsConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, kubeDUT(t, "secrets", KubeOptions{Strategy: SeparateManifests}))
}

// Records of releases of one name in two namespaces, kept in one storage namespace, stay apart.
func TestSecretsDriverSharedStorageNamespace(t *testing.T) {
	t.Parallel()
	store := testenv.Namespace(t)
	cs, md := kubeClients(t, testenv.RESTConfig(t))
	s := NewStore(NewSecretsDriver(cs, md, KubeOptions{Namespace: store}))
	ctx := context.Background()
	deployed(t, s, "team-a", "web", 1)
	deployed(t, s, "team-b", "web", 1)
	mustCreate(t, s, testRelease("team-b", "web", 2, StatePendingUpgrade))
	a, err := s.History(ctx, "team-a", "web")
	if err != nil || len(a) != 1 || a[0].Namespace != "team-a" {
		t.Fatalf("history team-a/web = %+v, %v", a, err)
	}
	b, err := s.Latest(ctx, "team-b", "web")
	if err != nil || b.Revision != 2 || b.Namespace != "team-b" {
		t.Fatalf("latest team-b/web = %+v, %v", b, err)
	}
	secs, _ := cs.CoreV1().Secrets(store).List(ctx, metav1.ListOptions{LabelSelector: "owner=sherpack"})
	if len(secs.Items) != 3 {
		t.Fatalf("%d records in the storage namespace, want 3", len(secs.Items))
	}
}

// The real limit: a release of 5 MiB of incompressible manifest, with the default chunk size,
// as Secrets and as ConfigMaps.
func TestKubeDriversStoreFiveMiBRelease(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"secrets", "configmaps"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dut := kubeDUT(t, kind, KubeOptions{})
			ns := dut.namespace(t)
			s := NewStore(dut.driver)
			r := testRelease(ns, "huge", 1, StatePendingInstall)
			r.Manifest = incompressible(5 << 20)
			mustCreate(t, s, r)
			got, err := s.Get(context.Background(), ns, "huge", 1)
			if err != nil {
				t.Fatal(err)
			}
			if got.Manifest != r.Manifest {
				t.Fatalf("5 MiB manifest came back with %d bytes", len(got.Manifest))
			}
			cs := testenv.Clientset(t)
			var n int
			if kind == "secrets" {
				l, _ := cs.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=sherpack-chunk"})
				n = len(l.Items)
			} else {
				l, _ := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=sherpack-chunk"})
				n = len(l.Items)
			}
			if n < 5 {
				t.Fatalf("%d chunk objects for 5 MiB; each object must stay under 1 MiB", n)
			}
		})
	}
}

// A crash after some chunks were written and before the index: no visible release, and the
// next write of that revision cleans the leftovers.
func TestChunkLeftoversInvisibleAndCleaned(t *testing.T) {
	t.Parallel()
	kd, s, ns, r := chunkedSetup(t)
	ctx := context.Background()
	_, _, idx, chunks, err := kd.layout(r)
	if err != nil || idx == nil {
		t.Fatalf("layout: %v %v", idx, err)
	}
	if err := kd.writeChunks(ctx, ns, r, idx, chunks[:2]); err != nil { // the "crash"
		t.Fatal(err)
	}
	if ms, err := s.List(ctx, ListOptions{Namespace: ns}); err != nil || len(ms) != 0 {
		t.Fatalf("half-written release is visible: %+v %v", ms, err)
	}
	if _, err := s.Latest(ctx, ns, "web"); !IsNotFound(err) {
		t.Fatalf("latest of a half-written release: %v", err)
	}
	mustCreate(t, s, r)
	cs := testenv.Clientset(t)
	l, _ := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=sherpack-chunk"})
	for _, sec := range l.Items {
		if sec.Labels[labelChunkGen] == idx.Gen {
			t.Fatalf("leftover chunk %s of the crashed attempt is still there", sec.Name)
		}
	}
	got, err := s.Get(ctx, ns, "web", 1)
	if err != nil || got.Manifest != r.Manifest {
		t.Fatalf("release after the retry: %v", err)
	}
}

// Leftovers that no later write of the same revision cleans (a revision that was never written
// again, another generation of a stored one, chunks of a record now kept whole) are swept by
// Prune; the chunks records point to stay, in both storage layouts.
func TestPruneSweepsChunkLeftovers(t *testing.T) {
	t.Parallel()
	for _, opts := range []KubeOptions{{ChunkSize: 256 << 10}, {ChunkSize: 256 << 10, Strategy: SeparateManifests}} {
		dut := kubeDUT(t, "secrets", opts)
		kd := dut.driver.(*kubeDriver)
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		ctx := context.Background()
		big := testRelease(ns, "web", 1, StatePendingInstall)
		big.Manifest = incompressible(1 << 20)
		mustCreate(t, s, big)
		small := testRelease(ns, "web", 2, StatePendingUpgrade)
		mustCreate(t, s, small)
		other := testRelease(ns, "other", 1, StatePendingInstall)
		other.Manifest = incompressible(600 << 10)
		mustCreate(t, s, other)
		// Leftovers: another generation of revision 1, chunks of inline revision 2, chunks of a
		// revision 3 whose record was never written.
		for _, rev := range []*Release{testRelease(ns, "web", 1, StateDeployed), testRelease(ns, "web", 2, StateDeployed), testRelease(ns, "web", 3, StatePendingUpgrade)} {
			rev.Manifest = incompressible(700 << 10)
			_, _, idx, chunks, err := kd.layout(rev)
			if err != nil || idx == nil {
				t.Fatalf("layout: %v", err)
			}
			if err := kd.writeChunks(ctx, ns, rev, idx, chunks[:1]); err != nil {
				t.Fatal(err)
			}
		}
		cs := testenv.Clientset(t)
		count := func(sel string) int {
			l, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				t.Fatal(err)
			}
			return len(l.Items)
		}
		before, otherBefore := count("owner=sherpack-chunk,name=web"), count("owner=sherpack-chunk,name=other")
		if err := s.Prune(ctx, ns, "web"); err != nil {
			t.Fatal(err)
		}
		after := count("owner=sherpack-chunk,name=web")
		if after >= before-2 || count("owner=sherpack-chunk,name=web,version=2") != 0 || count("owner=sherpack-chunk,name=web,version=3") != 0 {
			t.Fatalf("chunks of web before %d, after %d: leftovers remain", before, after)
		}
		if count("owner=sherpack-chunk,name=other") != otherBefore {
			t.Fatal("sweeping one release touched another's chunks")
		}
		if got, err := s.Get(ctx, ns, "web", 1); err != nil || got.Manifest != big.Manifest {
			t.Fatalf("revision 1 after the sweep: %v", err)
		}
	}
}

// A chunk index that lies (wrong checksum) is detected.
func TestChunkIndexLieIsCorrupt(t *testing.T) {
	t.Parallel()
	kd, s, ns, r := chunkedSetup(t)
	ctx := context.Background()
	mustCreate(t, s, r)
	obj, _ := kd.objects.Get(ctx, ns, kd.key(ns, "web", 1))
	obj.Data["index"] = []byte(strings.Replace(string(obj.Data["index"]), `"sha256":"`, `"sha256":"00`, 1))
	if _, err := kd.objects.Update(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, ns, "web", 1); !IsCorrupt(err) {
		t.Fatalf("lying index: %v, want CorruptError", err)
	}
}

// A Role limited to one namespace (secrets, configmaps, leases there) is enough.
func TestKubeStorageWithNamespacedRole(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	admin := testenv.Clientset(t)
	ctx := context.Background()
	kc := testenv.ServiceAccountKubeconfig(t, ns, "deployer")
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "sherpack-storage"}, Rules: StorageRBACRules()}
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "deployer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "sherpack-storage"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: ns}}}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"secrets", "configmaps"} {
		cs, md := kubeClients(t, cfg)
		var d Driver = NewSecretsDriver(cs, md, KubeOptions{ChunkSize: 256 << 10})
		if kind == "configmaps" {
			d = NewConfigMapsDriver(cs, md, KubeOptions{ChunkSize: 256 << 10})
		}
		s := NewStore(d)
		s.HistoryMax = 2
		var op *Operation
		testenv.Eventually(t, 10*time.Second, func() error { // RBAC caches settle
			var err error
			op, err = s.Begin(ctx, ns, "web-"+kind, "install")
			return err
		})
		r := testRelease(ns, "web-"+kind, 1, StatePendingInstall)
		r.Manifest = incompressible(600 << 10) // chunked
		mustCreate(t, s, r)
		if err := s.Transition(ctx, r, StateDeployed, ""); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		for rev := 2; rev <= 3; rev++ {
			mustCreate(t, s, testRelease(ns, "web-"+kind, rev, StatePendingUpgrade))
		}
		if err := s.Prune(ctx, ns, "web-"+kind); err != nil {
			t.Fatalf("%s prune: %v", kind, err)
		}
		if ms, err := s.List(ctx, ListOptions{Namespace: ns}); err != nil || len(ms) == 0 {
			t.Fatalf("%s list: %v", kind, err)
		}
		if _, err := s.Get(ctx, ns, "web-"+kind, 1); err != nil {
			t.Fatalf("%s get: %v", kind, err)
		}
		if err := op.End(ctx); err != nil {
			t.Fatalf("%s unlock: %v", kind, err)
		}
		// Without rights elsewhere, the error says what was refused.
		_, err := s.List(ctx, ListOptions{AllNamespaces: true})
		if err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("%s list -A without cluster rights: %v", kind, err)
		}
	}
}

// Two processes race for the same lock, many times: exactly one wins each time.
func TestLockRaceBetweenProcesses(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"secrets", "file"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ns := testenv.Namespace(t)
			dir := t.TempDir()
			for i := 0; i < 10; i++ {
				start := time.Now().Add(time.Second).UnixNano()
				var cmds []*exec.Cmd
				var outs []*strings.Builder
				for p := 0; p < 2; p++ {
					cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLockProcess$")
					out := &strings.Builder{}
					cmd.Stdout, cmd.Stderr = out, out
					cmd.Env = append(os.Environ(), "SHERPACK_LOCK_HELPER=race", "SHERPACK_TEST_KUBECONFIG="+testenv.Kubeconfig(),
						"HELPER_DRIVER="+kind, "HELPER_NS="+ns, "HELPER_DIR="+dir, fmt.Sprintf("HELPER_START=%d", start))
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					cmds, outs = append(cmds, cmd), append(outs, out)
				}
				won := 0
				for p, cmd := range cmds {
					_ = cmd.Wait()
					switch {
					case strings.Contains(outs[p].String(), "RESULT won"):
						won++
					case strings.Contains(outs[p].String(), "RESULT locked"):
					default:
						t.Fatalf("round %d: helper said: %s", i, outs[p].String())
					}
				}
				if won != 1 {
					t.Fatalf("round %d: %d processes won the lock", i, won)
				}
			}
		})
	}
}

// A process SIGKILLed while holding the lock during an upgrade: the next operation is refused
// while the lease is live, then after expiry it recovers the pending revision; nothing is lost.
func TestLockHolderKilled(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"secrets", "file"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ns := testenv.Namespace(t)
			dir := t.TempDir()
			s := NewStore(helperDriver(t, kind, dir))
			s.LockTTL = 2 * time.Second
			ctx := context.Background()
			deployed(t, s, ns, "web", 1)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLockProcess$")
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			cmd.Env = append(os.Environ(), "SHERPACK_LOCK_HELPER=hold", "SHERPACK_TEST_KUBECONFIG="+testenv.Kubeconfig(),
				"HELPER_DRIVER="+kind, "HELPER_NS="+ns, "HELPER_DIR="+dir)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, 30*time.Second, func() error {
				if !strings.Contains(out.String(), "RESULT holding") {
					return fmt.Errorf("helper not holding yet: %s", out.String())
				}
				return nil
			})
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if kind == "secrets" {
				if _, err := s.Begin(ctx, ns, "web", "upgrade"); !IsLocked(err) {
					t.Fatalf("Begin right after the kill: %v, want locked until the lease expires", err)
				}
			}
			var op *Operation
			testenv.Eventually(t, 10*time.Second, func() error {
				var err error
				op, err = s.Begin(ctx, ns, "web", "upgrade")
				return err
			})
			defer op.End(ctx)
			if op.Recovered == nil || op.Recovered.Revision != 2 {
				t.Fatalf("recovered %+v, want revision 2", op.Recovered)
			}
			h, _ := s.History(ctx, ns, "web")
			if len(h) != 2 || h[0].State != StateDeployed || h[1].State != StateFailed || !strings.Contains(h[1].Description, "interrupted") {
				t.Fatalf("history after recovery: %+v", h)
			}
		})
	}
}

func helperDriver(t testing.TB, kind, dir string) Driver {
	if kind == "file" {
		d, err := NewFileDriver(dir, CompressionZstd)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cs, md := kubeClients(t, testenv.RESTConfig(t))
	return NewSecretsDriver(cs, md, KubeOptions{})
}

// TestHelperLockProcess is the other process of the race and kill tests; it does nothing
// unless started by them.
func TestHelperLockProcess(t *testing.T) {
	mode := os.Getenv("SHERPACK_LOCK_HELPER")
	if mode == "" {
		return
	}
	ns, kind := os.Getenv("HELPER_NS"), os.Getenv("HELPER_DRIVER")
	s := NewStore(helperDriver(t, kind, os.Getenv("HELPER_DIR")))
	ctx := context.Background()
	switch mode {
	case "race":
		var start int64
		fmt.Sscan(os.Getenv("HELPER_START"), &start)
		time.Sleep(time.Until(time.Unix(0, start)))
		op, err := s.Begin(ctx, ns, "race", "upgrade")
		if IsLocked(err) {
			fmt.Println("RESULT locked")
			return
		}
		if err != nil {
			fmt.Println("RESULT error", err)
			return
		}
		fmt.Println("RESULT won")
		time.Sleep(time.Second) // the other process tries while this one holds it
		_ = op.End(ctx)
	case "hold":
		s.LockTTL = 2 * time.Second
		op, err := s.Begin(ctx, ns, "web", "upgrade")
		if err != nil {
			fmt.Println("RESULT error", err)
			return
		}
		r := testRelease(ns, "web", 2, StatePendingUpgrade)
		r.Holder = &op.Holder
		if err := s.Create(ctx, r); err != nil {
			fmt.Println("RESULT error", err)
			return
		}
		fmt.Println("RESULT holding")
		time.Sleep(time.Minute)
	}
}

// Releasing a lock whose Lease changed since we last wrote it: a renewal of ours whose answer
// was lost still leaves it ours, so it is deleted (not stranded until it expires); a Lease
// someone else took over is left to them.
func TestLockReleaseAfterLostRenewal(t *testing.T) {
	t.Parallel()
	dut := kubeDUT(t, "secrets", KubeOptions{})
	ns := dut.namespace(t)
	ctx := context.Background()
	leases := testenv.Clientset(t).CoordinationV1().Leases(ns)
	touch := func(holder string) {
		t.Helper()
		cur, err := leases.Get(ctx, LockName("web"), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		now := metav1.NewMicroTime(time.Now())
		cur.Spec.RenewTime = &now
		if holder != "" {
			cur.Spec.HolderIdentity = &holder
		}
		if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := dut.driver.Lock(ctx, ns, "web", NewHolder("upgrade"), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	touch("") // our renewal landed, its answer did not
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Get(ctx, LockName("web"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the lock is stranded after release: %v", err)
	}
	lock, err = dut.driver.Lock(ctx, ns, "web", NewHolder("upgrade"), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	touch("someone-else")
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if l, err := leases.Get(ctx, LockName("web"), metav1.GetOptions{}); err != nil || *l.Spec.HolderIdentity != "someone-else" {
		t.Fatalf("a lock taken over by someone else was released: %v", err)
	}
}

// syncBuffer is a buffer a child process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// chunkedSetup is a Secrets driver with 256 KiB chunks, its store, a namespace, and a release
// whose record takes several chunks.
func chunkedSetup(t *testing.T) (*kubeDriver, *Store, string, *Release) {
	t.Helper()
	dut := kubeDUT(t, "secrets", KubeOptions{ChunkSize: 256 << 10})
	ns := dut.namespace(t)
	r := testRelease(ns, "web", 1, StatePendingInstall)
	r.Manifest = incompressible(1 << 20)
	return dut.driver.(*kubeDriver), NewStore(dut.driver), ns, r
}
