package releases

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// The property test: random sequences of operations (install, upgrade, --atomic upgrade,
// rollback, uninstall with and without --keep-history, recover), each succeeding or failing at
// random, some killed at a random write (the write landing or not), run against the memory
// driver with the bookkeeping the lifecycle uses (Begin, Create, MarkDeployed, MarkFailed,
// MarkUninstalled, Repair). After every step the Invariants table is checked: the rules that
// hold always right after a kill, all of them after an operation that ran to its end and after
// the next operation (or recover) took the dead one's lock over.

var errKilled = errors.New("process killed")

// killDriver is a memory driver whose process can die at a chosen write.
type killDriver struct {
	*MemoryDriver
	mu     sync.Mutex
	budget int // writes left before the kill; <0: no kill planned
	dead   bool
	land   bool // whether the killing write lands
}

func (k *killDriver) write(do func() error) error {
	k.mu.Lock()
	if k.dead {
		k.mu.Unlock()
		return errKilled
	}
	if k.budget == 0 {
		k.dead = true
		land := k.land
		k.mu.Unlock()
		if land {
			_ = do()
		}
		return errKilled
	}
	if k.budget > 0 {
		k.budget--
	}
	k.mu.Unlock()
	return do()
}

func (k *killDriver) Create(ctx context.Context, r *Release) error {
	return k.write(func() error { return k.MemoryDriver.Create(ctx, r) })
}
func (k *killDriver) Update(ctx context.Context, r *Release) error {
	return k.write(func() error { return k.MemoryDriver.Update(ctx, r) })
}
func (k *killDriver) Delete(ctx context.Context, ns, name string, rev int) error {
	return k.write(func() error { return k.MemoryDriver.Delete(ctx, ns, name, rev) })
}

func (k *killDriver) plan(rng *rand.Rand) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead, k.budget, k.land = false, -1, rng.IntN(2) == 0
	if rng.IntN(3) == 0 {
		k.budget = rng.IntN(6)
	}
}

func (k *killDriver) killed() bool { k.mu.Lock(); defer k.mu.Unlock(); return k.dead }

// fakeClock is the wall clock of the memory driver's lock expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// abandon ends an operation's goroutines the way a killed process does: its lock stays.
func (o *Operation) abandon() {
	o.once.Do(func() {
		close(o.done)
		o.stopParent()
		o.lockCancel(errKilled)
		active.Add(-1)
	})
}

type world struct {
	t     *testing.T
	rng   *rand.Rand
	clock *fakeClock
	kd    *killDriver
	s     *Store
	log   []string
	// stats
	ops, kills, refused, locked int
}

const propNS, propName = "prop", "web"

func (w *world) history() []Meta {
	ms, err := w.kd.MemoryDriver.List(context.Background(), propNS, propName)
	if err != nil {
		w.t.Fatal(err)
	}
	return ms
}

func (w *world) check(afterKill, lockHeld bool) {
	w.t.Helper()
	v := View{History: w.history(), HistoryMax: w.s.HistoryMax, LockHeld: lockHeld}
	if err := CheckInvariants(v, afterKill); err != nil {
		w.t.Fatalf("invariants broken after:\n  %s\nhistory: %s\n%v", strings.Join(w.log, "\n  "), fmtHistory(v.History), err)
	}
}

func fmtHistory(h []Meta) string {
	var b strings.Builder
	for _, m := range h {
		fmt.Fprintf(&b, "%d:%s ", m.Revision, m.State)
	}
	return b.String()
}

// step runs one random operation; it reports whether the process was killed.
func (w *world) step() {
	ctx := context.Background()
	w.kd.plan(w.rng)
	kinds := []string{"install", "upgrade", "upgrade-atomic", "rollback", "uninstall", "uninstall-keep", "recover"}
	kind := kinds[w.rng.IntN(len(kinds))]
	succeed := w.rng.IntN(3) > 0
	w.log = append(w.log, fmt.Sprintf("%s succeed=%v kill-at=%d land=%v", kind, succeed, w.kd.budget, w.kd.land))
	w.ops++
	op, err := w.s.Begin(ctx, propNS, propName, kind)
	if IsLocked(err) {
		w.locked++
		w.t.Fatalf("locked although every dead holder's lock had expired: %v", err)
	}
	if err != nil {
		if !w.kd.killed() {
			w.t.Fatalf("Begin: %v", err)
		}
		w.died(nil)
		return
	}
	err = w.run(ctx, op, kind, succeed)
	if w.kd.killed() {
		w.died(op)
		return
	}
	if err != nil {
		w.t.Fatalf("%s: %v\nafter:\n  %s\nhistory: %s", kind, err, strings.Join(w.log, "\n  "), fmtHistory(w.history()))
	}
	w.check(false, true)
	if err := op.End(ctx); err != nil {
		w.t.Fatal(err)
	}
	w.check(false, false)
}

// died: the process was killed; its lock stays until it expires.
func (w *world) died(op *Operation) {
	w.kills++
	if op != nil {
		op.abandon()
	}
	w.check(true, true)
	w.clock.Advance(w.s.LockTTL + time.Second)
}

func (w *world) run(ctx context.Context, op *Operation, kind string, succeed bool) error {
	octx := op.Context()
	hist, err := w.s.History(octx, propNS, propName)
	if IsNotFound(err) {
		hist, err = nil, nil
	}
	if err != nil {
		return err
	}
	next := 1
	if len(hist) > 0 {
		next = hist[len(hist)-1].Revision + 1
	}
	latestState := State("")
	if len(hist) > 0 {
		latestState = hist[len(hist)-1].State
	}
	deploy := func(state State) error {
		r := testRelease(propNS, propName, next, state)
		h := op.Holder
		r.Holder = &h
		if err := w.s.Create(octx, r); err != nil {
			return err
		}
		if succeed {
			_, err := w.s.MarkDeployed(octx, r, "done")
			return err
		}
		_, err := w.s.MarkFailed(octx, r, "boom")
		return err
	}
	switch kind {
	case "install":
		if b := InstallBlocker(hist); b != nil {
			w.refused++
			return nil
		}
		return deploy(StatePendingInstall)
	case "upgrade", "upgrade-atomic":
		if len(hist) == 0 || latestState == StateUninstalled {
			return nil
		}
		atomic := kind == "upgrade-atomic"
		if err := deploy(StatePendingUpgrade); err != nil || succeed || !atomic || lastDeployedIndex(hist) < 0 {
			return err
		}
		next++
		succeed = w.rng.IntN(2) == 0
		return deploy(StatePendingRollback)
	case "rollback":
		if len(hist) == 0 || latestState == StateUninstalled {
			return nil
		}
		return deploy(StatePendingRollback)
	case "uninstall", "uninstall-keep":
		if len(hist) == 0 || latestState == StateUninstalled {
			return nil
		}
		latest, err := w.s.Latest(octx, propNS, propName)
		if err != nil {
			return err
		}
		if err := w.s.Transition(octx, latest, StatePendingUninstall, ""); err != nil {
			return err
		}
		if !succeed {
			return w.s.Transition(octx, latest, StateFailed, "uninstall failed")
		}
		if kind == "uninstall" {
			return w.s.DeleteAll(octx, propNS, propName)
		}
		_, err = w.s.MarkUninstalled(octx, latest, "Uninstallation complete")
		return err
	}
	return nil // recover: Begin did the work
}

func TestPropertyInvariantsUnderFailuresAndKills(t *testing.T) {
	seeds, steps := 300, 40
	if testing.Short() {
		seeds = 50
	}
	var total world
	for seed := 0; seed < seeds; seed++ {
		clock := &fakeClock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
		md := NewMemoryDriver()
		md.Clock = clock.Now
		kd := &killDriver{MemoryDriver: md, budget: -1}
		s := NewStore(kd)
		rng := rand.New(rand.NewPCG(uint64(seed), 14))
		s.HistoryMax = rng.IntN(5) // 0 keeps all
		w := &world{t: t, rng: rng, clock: clock, kd: kd, s: s}
		for i := 0; i < steps; i++ {
			w.step()
		}
		// The last kill is recovered too.
		kd.plan(rand.New(rand.NewPCG(0, 0)))
		kd.budget = -1
		op, err := s.Begin(context.Background(), propNS, propName, "recover")
		if err != nil {
			t.Fatal(err)
		}
		w.check(false, true)
		_ = op.End(context.Background())
		w.check(false, false)
		total.ops += w.ops
		total.kills += w.kills
		total.refused += w.refused
	}
	if total.kills == 0 || total.refused == 0 {
		t.Fatalf("the random sequences never killed (%d) or never refused an install (%d): the test proves nothing", total.kills, total.refused)
	}
	t.Logf("%d operations, %d killed, %d installs refused over a deployed revision", total.ops, total.kills, total.refused)
}

// An install over a release whose latest upgrade failed is refused; over a failed first install
// or an uninstalled one with history it is not.
func TestInstallBlocker(t *testing.T) {
	m := func(states ...State) []Meta {
		var out []Meta
		for i, s := range states {
			out = append(out, Meta{Revision: i + 1, State: s})
		}
		return out
	}
	for _, tc := range []struct {
		hist []Meta
		want int
	}{
		{nil, 0},
		{m(StateFailed), 0},
		{m(StateDeployed), 1},
		{m(StateDeployed, StateFailed), 1},
		{m(StateSuperseded, StateDeployed, StateFailed, StateFailed), 2},
		{m(StateSuperseded, StateUninstalled), 0},
		{m(StateFailed, StateFailed), 0},
	} {
		got := 0
		if b := InstallBlocker(tc.hist); b != nil {
			got = b.Revision
		}
		if got != tc.want {
			t.Errorf("InstallBlocker(%s) = revision %d, want %d", fmtHistory(tc.hist), got, tc.want)
		}
	}
}
