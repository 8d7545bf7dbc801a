package releases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sort"
	"sync"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Store is the release API over a Driver: revisions, history, listing, pruning, the lock.
type Store struct {
	Driver Driver
	// HistoryMax is how many revisions Prune keeps (0 = all). Default 10.
	HistoryMax int
	// LockTTL is how long a lock lives without renewal; it is renewed every LockTTL/3.
	LockTTL time.Duration
}

// DefaultHistoryMax and DefaultLockTTL are the Store's defaults.
const (
	DefaultHistoryMax = 10
	DefaultLockTTL    = 30 * time.Second
)

// NewStore wraps a driver with the defaults.
func NewStore(d Driver) *Store {
	return &Store{Driver: d, HistoryMax: DefaultHistoryMax, LockTTL: DefaultLockTTL}
}

// History is every stored revision of a release, oldest first, from metadata only.
func (s *Store) History(ctx context.Context, namespace, name string) ([]Meta, error) {
	ms, err := s.Driver.List(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, &NotFoundError{Namespace: namespace, Name: name}
	}
	return ms, nil
}

// Get reads one revision.
func (s *Store) Get(ctx context.Context, namespace, name string, revision int) (*Release, error) {
	return s.Driver.Get(ctx, namespace, name, revision)
}

// Latest reads the newest revision, whatever its state: one list of metadata, one decode.
func (s *Store) Latest(ctx context.Context, namespace, name string) (*Release, error) {
	ms, err := s.History(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return s.Driver.Get(ctx, namespace, name, ms[len(ms)-1].Revision)
}

// LastDeployed reads the newest revision in state deployed.
func (s *Store) LastDeployed(ctx context.Context, namespace, name string) (*Release, error) {
	ms, err := s.History(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].State == StateDeployed {
			return s.Driver.Get(ctx, namespace, name, ms[i].Revision)
		}
	}
	return nil, fmt.Errorf("release %s in namespace %s has no deployed revision: %w", name, namespace, &NotFoundError{Namespace: namespace, Name: name})
}

// ListOptions filter List.
type ListOptions struct {
	Namespace string // "" with AllNamespaces
	// AllNamespaces lists every namespace the caller may read.
	AllNamespaces bool
	// States keeps releases whose latest revision is in one of them (all when empty).
	States []State
	// Max caps the number of results (0 = no cap).
	Max int
}

// List is the latest revision of each release, from metadata only, sorted by namespace and name.
func (s *Store) List(ctx context.Context, o ListOptions) ([]Meta, error) {
	ns := o.Namespace
	if o.AllNamespaces {
		ns = ""
	}
	ms, err := s.Driver.List(ctx, ns, "")
	if err != nil {
		return nil, err
	}
	latest := map[[2]string]Meta{}
	for _, m := range ms {
		k := [2]string{m.Namespace, m.Name}
		if cur, ok := latest[k]; !ok || m.Revision > cur.Revision {
			latest[k] = m
		}
	}
	out := make([]Meta, 0, len(latest))
	for _, m := range latest {
		if len(o.States) > 0 && !containsState(o.States, m.State) {
			continue
		}
		out = append(out, m)
	}
	SortMetas(out)
	if o.Max > 0 && len(out) > o.Max {
		out = out[:o.Max]
	}
	return out, nil
}

func containsState(states []State, s State) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}

// ParseStates reads a --status value: comma-separated states, or "pending" for every pending one.
func ParseStates(list []string) ([]State, error) {
	var out []State
	for _, s := range list {
		if s == "pending" {
			out = append(out, StatePendingInstall, StatePendingUpgrade, StatePendingRollback, StatePendingUninstall)
			continue
		}
		if !State(s).Valid() {
			return nil, fmt.Errorf("status %q: must be one of pending, %v", s, AllStates)
		}
		out = append(out, State(s))
	}
	return out, nil
}

// Create stores a new revision; it must be pending (a revision starts as an operation).
func (s *Store) Create(ctx context.Context, r *Release) error {
	if err := ValidateName(r.Name); err != nil {
		return err
	}
	if !r.State.IsPending() {
		return &TransitionError{Release: r.Name, From: "", To: r.State}
	}
	if err := guard(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	r.UpdatedAt = now
	return s.Driver.Create(ctx, r)
}

// Transition moves a stored revision to a new state and writes it (optimistic concurrency).
func (s *Store) Transition(ctx context.Context, r *Release, to State, reason string) error {
	next := r.DeepCopy()
	if err := next.Transition(to, reason, time.Now().UTC()); err != nil {
		return err
	}
	if err := guard(ctx); err != nil {
		return err
	}
	if err := s.Driver.Update(ctx, next); err != nil {
		return err // r stays as it was stored
	}
	*r = *next
	return nil
}

// Save writes a revision read earlier without changing its state (hook results, for example),
// with optimistic concurrency.
func (s *Store) Save(ctx context.Context, r *Release) error {
	if err := guard(ctx); err != nil {
		return err
	}
	r.UpdatedAt = time.Now().UTC()
	return s.Driver.Update(ctx, r)
}

// chunkSweeper is a driver that can find and delete chunks no record points to.
type chunkSweeper interface {
	SweepChunks(ctx context.Context, namespace, name string) error
}

// Prune deletes the oldest revisions past HistoryMax, never the last deployed one nor the
// latest, and the leftovers of interrupted record writes. The caller holds the release lock.
func (s *Store) Prune(ctx context.Context, namespace, name string) error {
	if err := guard(ctx); err != nil {
		return err
	}
	if sw, ok := s.Driver.(chunkSweeper); ok {
		if err := sw.SweepChunks(ctx, namespace, name); err != nil {
			return err
		}
	}
	if s.HistoryMax <= 0 {
		return nil
	}
	ms, err := s.Driver.List(ctx, namespace, name)
	if err != nil {
		return err
	}
	if len(ms) <= s.HistoryMax {
		return nil
	}
	lastDeployed := 0
	for _, m := range ms {
		if m.State == StateDeployed && m.Revision > lastDeployed {
			lastDeployed = m.Revision
		}
	}
	excess := len(ms) - s.HistoryMax
	var errs []error
	for _, m := range ms { // oldest first
		if excess == 0 {
			break
		}
		// Kept: the last deployed revision, a pending one, and the latest (what status shows,
		// and what carries the kinds still to sweep).
		if m.Revision == lastDeployed || m.State.IsPending() || m.Revision == ms[len(ms)-1].Revision {
			continue
		}
		if err := guard(ctx); err != nil {
			return err
		}
		if err := s.Driver.Delete(ctx, namespace, name, m.Revision); err != nil {
			errs = append(errs, err)
			continue
		}
		excess--
	}
	return errors.Join(errs...)
}

// DeleteAll removes every revision of a release (uninstall without --keep-history).
func (s *Store) DeleteAll(ctx context.Context, namespace, name string) error {
	if err := guard(ctx); err != nil {
		return err
	}
	ms, err := s.Driver.List(ctx, namespace, name)
	if err != nil {
		return err
	}
	// Oldest first, the latest last: an uninstall killed half-way leaves its pending-uninstall
	// revision as the latest, which the next operation marks failed and the next uninstall
	// finishes (newest first would leave an older revision as the latest, deployed or superseded).
	var errs []error
	for _, m := range ms {
		if err := guard(ctx); err != nil {
			return err
		}
		if err := s.Driver.Delete(ctx, namespace, name, m.Revision); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NewHolder describes this process running operation op.
func NewHolder(op string) Holder {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	u := "unknown"
	if cur, err := user.Current(); err == nil {
		u = cur.Username
	}
	host, _ := os.Hostname()
	return Holder{ID: hex.EncodeToString(b), User: u, Host: host, PID: os.Getpid(), Operation: op, Since: time.Now().UTC()}
}

// Recover marks the pending latest revision of a release failed, on demand. It refuses a lock
// that is still renewed unless force. It returns the revision it marked, or nil if there was
// nothing to recover.
func (s *Store) Recover(ctx context.Context, namespace, name string, force bool) (*Release, error) {
	op, err := s.Begin(ctx, namespace, name, "recover")
	var locked *LockedError
	if errors.As(err, &locked) && force {
		return s.forceRecover(ctx, namespace, name, locked.Holder)
	}
	if err != nil {
		return nil, err
	}
	defer op.End(ctx)
	if op.Recovered != nil {
		return op.Recovered, nil
	}
	if _, err := s.History(ctx, namespace, name); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Store) forceRecover(ctx context.Context, namespace, name string, holder Holder) (*Release, error) {
	r, err := s.Latest(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	if !r.State.IsPending() {
		return nil, nil
	}
	reason := fmt.Sprintf("recovered with --force while %s still held the lock", holder)
	if err := s.Transition(ctx, r, StateFailed, reason); err != nil {
		return nil, err
	}
	return r, nil
}

// FindStale lists releases (of one namespace, or all with "") whose latest revision is pending
// while nobody holds their lock: operations that died. It takes no lock and writes nothing: a
// lock is only read (and, when it looks expired by this machine's clock, watched for a TTL).
func (s *Store) FindStale(ctx context.Context, namespace string) ([]Meta, error) {
	pending, err := s.List(ctx, ListOptions{Namespace: namespace, AllNamespaces: namespace == "",
		States: []State{StatePendingInstall, StatePendingUpgrade, StatePendingRollback, StatePendingUninstall}})
	if err != nil {
		return nil, err
	}
	active := make([]bool, len(pending))
	errs := make([]error, len(pending))
	var wg sync.WaitGroup
	for i, m := range pending { // in parallel: each may watch its lock for a full TTL
		wg.Add(1)
		go func() {
			defer wg.Done()
			active[i], errs[i] = s.lockActive(ctx, m.Namespace, m.Name)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var stale []Meta
	for i, m := range pending {
		if !active[i] {
			stale = append(stale, m)
		}
	}
	sort.Slice(stale, func(i, j int) bool { return stale[i].Updated.Before(stale[j].Updated) })
	return stale, nil
}

// StorageRBACRules are the namespaced rights the storage needs: its records (Secrets, or
// ConfigMaps) and the Lease lock. The README documents them.
func StorageRBACRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"get", "list", "create", "update", "delete"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update", "delete"}},
	}
}

// lockProber is a driver that can tell whether a release's lock is held and renewed without
// taking it.
type lockProber interface {
	LockActive(ctx context.Context, namespace, name string) (bool, error)
}

// lockActive tells whether an operation holds and renews the release's lock, reading only.
func (s *Store) lockActive(ctx context.Context, namespace, name string) (bool, error) {
	if p, ok := s.Driver.(lockProber); ok {
		return p.LockActive(ctx, namespace, name)
	}
	return false, fmt.Errorf("storage %s cannot tell whether a lock is held", s.Driver.Name())
}
