package releases

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// driverUnderTest is one driver plus the means to damage its stored data and to simulate the
// death of a lock holder.
type driverUnderTest struct {
	driver Driver
	// namespace gives a fresh namespace for the test.
	namespace func(t *testing.T) string
	// corrupt overwrites the stored payload of a revision with raw.
	corrupt func(t *testing.T, ns, name string, rev int, raw []byte)
	// abandon makes a held lock look like its process died (no release, no renewal).
	abandon func(t *testing.T, l Lock)
	// lockTTL is the shortest TTL the driver honours (lease: whole seconds).
	lockTTL time.Duration
}

func testRelease(ns, name string, rev int, state State) *Release {
	return &Release{
		Name: name, Namespace: ns, Revision: rev, State: state,
		Pack:       PackInfo{Name: "webapp", Version: "1.2.0", AppVersion: "3.1", Description: "a web app"},
		Values:     map[string]any{"replicas": 3, "image": map[string]any{"tag": "3.1"}},
		UserValues: map[string]any{"replicas": 3},
		Provenance: map[string]ValueSource{"replicas": {Kind: "set", Source: "--set replicas=3"}, "image.tag": {Kind: "pack-default", Source: "values.yaml"}},
		Manifest:   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  k: v\n",
		Hooks:      []Hook{{Name: "migrate", Kind: "Job", Phases: []string{"pre-upgrade"}, Weight: 5, Manifest: "kind: Job"}},
		Notes:      "hello", Description: fmt.Sprintf("revision %d", rev),
		ApplyMethod: "server-side-apply",
		Holder:      &Holder{ID: "abc", User: "alice", Host: "laptop", PID: 4121, Operation: "upgrade", Since: time.Now().UTC()},
	}
}

func mustCreate(t *testing.T, s *Store, r *Release) *Release {
	t.Helper()
	if err := s.Create(context.Background(), r); err != nil {
		t.Fatalf("create %s v%d: %v", r.Name, r.Revision, err)
	}
	return r
}

// deployed stores a revision and moves it to deployed, as an operation would.
func deployed(t *testing.T, s *Store, ns, name string, rev int) *Release {
	t.Helper()
	r := mustCreate(t, s, testRelease(ns, name, rev, StatePendingInstall))
	if err := s.Transition(context.Background(), r, StateDeployed, ""); err != nil {
		t.Fatal(err)
	}
	return r
}

func runConformance(t *testing.T, dut driverUnderTest) {
	ctx := context.Background()
	t.Run("round trip", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		in := mustCreate(t, s, testRelease(ns, "web", 1, StatePendingInstall))
		out, err := s.Get(ctx, ns, "web", 1)
		if err != nil {
			t.Fatal(err)
		}
		if out.Name != "web" || out.Namespace != ns || out.Revision != 1 || out.State != StatePendingInstall ||
			out.Pack != in.Pack || out.Manifest != in.Manifest || out.Notes != "hello" || out.Holder == nil || out.Holder.PID != 4121 ||
			out.Provenance["replicas"].Kind != "set" || len(out.Hooks) != 1 || out.Hooks[0].Weight != 5 {
			t.Fatalf("round trip changed the record:\n in: %+v\nout: %+v", in, out)
		}
		// Values keep their integers (json.Number), never float64.
		if n, ok := out.Values["replicas"].(json.Number); !ok || n.String() != "3" {
			t.Fatalf("values.replicas came back as %T %v", out.Values["replicas"], out.Values["replicas"])
		}
		if !out.CreatedAt.Equal(in.CreatedAt) {
			t.Fatalf("createdAt %v != %v", out.CreatedAt, in.CreatedAt)
		}
	})
	t.Run("create refuses an existing revision", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		mustCreate(t, s, testRelease(ns, "web", 1, StatePendingInstall))
		err := s.Create(ctx, testRelease(ns, "web", 1, StatePendingInstall))
		if !IsExists(err) {
			t.Fatalf("second create: %v, want ExistsError", err)
		}
	})
	t.Run("latest and history from metadata", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		r1 := deployed(t, s, ns, "web", 1)
		if err := s.Transition(ctx, r1, StateSuperseded, ""); err != nil {
			t.Fatal(err)
		}
		deployed(t, s, ns, "web", 2)
		mustCreate(t, s, testRelease(ns, "web", 3, StatePendingUpgrade))
		mustCreate(t, s, testRelease(ns, "other", 1, StatePendingInstall))
		h, err := s.History(ctx, ns, "web")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range h {
			got = append(got, fmt.Sprintf("%d:%s", m.Revision, m.State))
		}
		if strings.Join(got, ",") != "1:superseded,2:deployed,3:pending-upgrade" {
			t.Fatalf("history = %v", got)
		}
		if h[1].Pack != "webapp" || h[1].PackVersion != "1.2.0" || h[1].AppVersion != "3.1" || h[1].Description != "revision 2" || h[1].Updated.IsZero() {
			t.Fatalf("history metadata incomplete: %+v", h[1])
		}
		latest, err := s.Latest(ctx, ns, "web")
		if err != nil || latest.Revision != 3 {
			t.Fatalf("latest = %v, %v", latest, err)
		}
		dep, err := s.LastDeployed(ctx, ns, "web")
		if err != nil || dep.Revision != 2 {
			t.Fatalf("last deployed = %v, %v", dep, err)
		}
		if _, err := s.History(ctx, ns, "nope"); !IsNotFound(err) {
			t.Fatalf("history of a missing release: %v", err)
		}
	})
	t.Run("list across namespaces", func(t *testing.T) {
		ns1, ns2 := dut.namespace(t), dut.namespace(t)
		s := NewStore(dut.driver)
		deployed(t, s, ns1, "a", 1)
		mustCreate(t, s, testRelease(ns1, "a", 2, StatePendingUpgrade))
		deployed(t, s, ns2, "b", 1)
		one, err := s.List(ctx, ListOptions{Namespace: ns1})
		if err != nil {
			t.Fatal(err)
		}
		if len(one) != 1 || one[0].Name != "a" || one[0].Revision != 2 || one[0].Namespace != ns1 {
			t.Fatalf("list %s = %+v", ns1, one)
		}
		all, err := s.List(ctx, ListOptions{AllNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, m := range all {
			seen[m.Namespace+"/"+m.Name] = m.Revision
		}
		if seen[ns1+"/a"] != 2 || seen[ns2+"/b"] != 1 {
			t.Fatalf("list -A = %v", seen)
		}
		dep, err := s.List(ctx, ListOptions{AllNamespaces: true, States: []State{StateDeployed}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range dep {
			if m.State != StateDeployed || (m.Namespace == ns1 && m.Name == "a") {
				t.Fatalf("--status deployed listed %+v", m)
			}
		}
	})
	t.Run("update with conflict", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		mustCreate(t, s, testRelease(ns, "web", 1, StatePendingInstall))
		a, _ := s.Get(ctx, ns, "web", 1)
		b, _ := s.Get(ctx, ns, "web", 1)
		if err := s.Transition(ctx, a, StateDeployed, ""); err != nil {
			t.Fatal(err)
		}
		err := s.Transition(ctx, b, StateFailed, "late writer")
		if !IsConflict(err) {
			t.Fatalf("stale update: %v, want ConflictError", err)
		}
		if b.State != StatePendingInstall {
			t.Fatalf("failed transition changed the in-memory record to %s", b.State)
		}
		got, _ := s.Get(ctx, ns, "web", 1)
		if got.State != StateDeployed {
			t.Fatalf("stored state %s, want deployed (the stale write must not land)", got.State)
		}
	})
	t.Run("illegal transition is refused", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		r := deployed(t, s, ns, "web", 1)
		if err := s.Transition(ctx, r, StatePendingInstall, ""); err == nil {
			t.Fatal("deployed -> pending-install accepted")
		}
		got, _ := s.Get(ctx, ns, "web", 1)
		if got.State != StateDeployed {
			t.Fatalf("stored state %s after a refused transition", got.State)
		}
	})
	t.Run("delete", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		deployed(t, s, ns, "web", 1)
		if err := dut.driver.Delete(ctx, ns, "web", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, ns, "web", 1); !IsNotFound(err) {
			t.Fatalf("get after delete: %v", err)
		}
		if err := dut.driver.Delete(ctx, ns, "web", 1); err != nil {
			t.Fatalf("deleting a missing revision: %v", err)
		}
	})
	t.Run("large release round trip", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		r := testRelease(ns, "big", 1, StatePendingInstall)
		r.Manifest = incompressible(3 << 20)
		mustCreate(t, s, r)
		got, err := s.Get(ctx, ns, "big", 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Manifest != r.Manifest {
			t.Fatalf("manifest of %d bytes came back as %d bytes", len(r.Manifest), len(got.Manifest))
		}
		// An update that shrinks it, then one that grows it again.
		if err := s.Transition(ctx, got, StateDeployed, ""); err != nil {
			t.Fatal(err)
		}
		got.Manifest = "small"
		if err := dut.driver.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, err := s.Get(ctx, ns, "big", 1)
		if err != nil || again.Manifest != "small" || again.State != StateDeployed {
			t.Fatalf("after shrinking update: %v %v", again, err)
		}
		h, _ := s.History(ctx, ns, "big")
		if len(h) != 1 {
			t.Fatalf("history shows %d entries for one chunked revision", len(h))
		}
	})
	t.Run("corrupt payload names the object", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		deployed(t, s, ns, "web", 1)
		good, _ := Encode(testRelease(ns, "web", 1, StateDeployed), CompressionZstd)
		for name, raw := range map[string][]byte{
			"garbage":   []byte("\x00\x01garbage"),
			"truncated": good[:len(good)/2],
			"not json":  []byte("{not json"),
		} {
			dut.corrupt(t, ns, "web", 1, raw)
			_, err := s.Get(ctx, ns, "web", 1)
			if !IsCorrupt(err) || !strings.Contains(err.Error(), "web") {
				t.Fatalf("%s payload: %v, want a CorruptError naming the object", name, err)
			}
		}
		// Listing still works: it decodes no payload.
		if h, err := s.History(ctx, ns, "web"); err != nil || len(h) != 1 {
			t.Fatalf("history over a corrupt record: %v %v", h, err)
		}
	})
	t.Run("prune keeps the last deployed revision", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		s.HistoryMax = 3
		r1 := deployed(t, s, ns, "web", 1)
		_ = s.Transition(ctx, r1, StateSuperseded, "")
		deployed(t, s, ns, "web", 2)
		for rev := 3; rev <= 6; rev++ {
			r := mustCreate(t, s, testRelease(ns, "web", rev, StatePendingUpgrade))
			if err := s.Transition(ctx, r, StateFailed, "boom"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Prune(ctx, ns, "web"); err != nil {
			t.Fatal(err)
		}
		h, _ := s.History(ctx, ns, "web")
		var revs []int
		for _, m := range h {
			revs = append(revs, m.Revision)
		}
		if fmt.Sprint(revs) != "[2 5 6]" {
			t.Fatalf("after prune to 3: revisions %v, want [2 5 6]", revs)
		}
	})
	t.Run("lock", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		s.LockTTL = dut.lockTTL
		op, err := s.Begin(ctx, ns, "web", "upgrade")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Begin(ctx, ns, "web", "rollback")
		var le *LockedError
		if !asLocked(err, &le) || le.Holder.Operation != "upgrade" || le.Holder.PID == 0 {
			t.Fatalf("second Begin: %v, want LockedError naming the upgrade", err)
		}
		if !strings.Contains(err.Error(), "kubectl sherpack recover web") {
			t.Fatalf("locked message does not say what to do: %v", err)
		}
		// Another release is not blocked.
		other, err := s.Begin(ctx, ns, "api", "install")
		if err != nil {
			t.Fatalf("lock of another release: %v", err)
		}
		_ = other.End(ctx)
		if err := op.End(ctx); err != nil {
			t.Fatal(err)
		}
		op2, err := s.Begin(ctx, ns, "web", "rollback")
		if err != nil {
			t.Fatalf("Begin after End: %v", err)
		}
		_ = op2.End(ctx)
	})
	t.Run("expired lock is taken over and the pending revision failed", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		s.LockTTL = dut.lockTTL
		deployed(t, s, ns, "web", 1)
		h := NewHolder("upgrade")
		l, err := dut.driver.Lock(ctx, ns, "web", h, dut.lockTTL)
		if err != nil {
			t.Fatal(err)
		}
		pending := testRelease(ns, "web", 2, StatePendingUpgrade)
		pending.Holder = &h
		mustCreate(t, s, pending)
		dut.abandon(t, l)
		stale, err := s.FindStale(ctx, ns)
		if err != nil || len(stale) != 1 || stale[0].Revision != 2 {
			t.Fatalf("FindStale = %+v, %v", stale, err)
		}
		op, err := s.Begin(ctx, ns, "web", "upgrade")
		if err != nil {
			t.Fatalf("Begin after the holder died: %v", err)
		}
		defer op.End(ctx)
		if op.Recovered == nil || op.Recovered.Revision != 2 {
			t.Fatalf("Recovered = %+v", op.Recovered)
		}
		got, _ := s.Get(ctx, ns, "web", 2)
		if got.State != StateFailed || !strings.Contains(got.Reason, "interrupted: upgrade by") || !strings.Contains(got.Reason, fmt.Sprint(h.PID)) {
			t.Fatalf("revision 2: %s %q", got.State, got.Reason)
		}
		prev, _ := s.Get(ctx, ns, "web", 1)
		if prev.State != StateDeployed {
			t.Fatalf("revision 1 is %s; the interrupted upgrade must leave it deployed", prev.State)
		}
	})
	t.Run("recover refuses a live lock unless forced", func(t *testing.T) {
		ns := dut.namespace(t)
		s := NewStore(dut.driver)
		s.LockTTL = 30 * time.Second
		op, err := s.Begin(ctx, ns, "web", "install")
		if err != nil {
			t.Fatal(err)
		}
		defer op.End(ctx)
		mustCreate(t, s, testRelease(ns, "web", 1, StatePendingInstall))
		if _, err := s.Recover(ctx, ns, "web", false); !IsLocked(err) {
			t.Fatalf("recover of a live operation: %v, want LockedError", err)
		}
		r, err := s.Recover(ctx, ns, "web", true)
		if err != nil || r == nil || r.State != StateFailed || !strings.Contains(r.Reason, "--force") {
			t.Fatalf("recover --force: %+v, %v", r, err)
		}
	})
}

func asLocked(err error, le **LockedError) bool {
	if err == nil {
		return false
	}
	l, ok := err.(*LockedError)
	if ok {
		*le = l
	}
	return ok
}

// incompressible returns n bytes of random base64 text: compression cannot shrink it much.
func incompressible(n int) string {
	b := make([]byte, n*3/4)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)[:n]
}
