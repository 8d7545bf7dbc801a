package releases

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// OperationCounts is what a MemoryDriver was asked to do, for tests that count round trips.
type OperationCounts struct {
	Creates, Updates, Gets, Lists, Deletes int64
}

// MemoryDriver keeps records in process memory, encoded as the other drivers do (so codec bugs
// show here too). For tests and dry runs.
type MemoryDriver struct {
	mu      sync.Mutex
	records map[string]memRecord // namespace/name/revision -> record
	locks   map[string]*memLock
	seq     int64
	counts  struct{ creates, updates, gets, lists, deletes atomic.Int64 }
	// Clock judges lock expiry (default time.Now; tests move it forward to expire a lock).
	Clock func() time.Time
}

func (m *MemoryDriver) now() time.Time {
	if m.Clock != nil {
		return m.Clock().UTC()
	}
	return time.Now().UTC()
}

type memRecord struct {
	payload []byte
	meta    Meta
	version string
}

// NewMemoryDriver returns an empty in-memory store.
func NewMemoryDriver() *MemoryDriver {
	return &MemoryDriver{records: map[string]memRecord{}, locks: map[string]*memLock{}}
}

// Name is "memory".
func (m *MemoryDriver) Name() string { return "memory" }

// Counts returns the operations done so far.
func (m *MemoryDriver) Counts() OperationCounts {
	return OperationCounts{Creates: m.counts.creates.Load(), Updates: m.counts.updates.Load(),
		Gets: m.counts.gets.Load(), Lists: m.counts.lists.Load(), Deletes: m.counts.deletes.Load()}
}

func memKey(ns, name string, rev int) string { return ns + "/" + name + "/" + strconv.Itoa(rev) }

func (m *MemoryDriver) store(r *Release) (memRecord, error) {
	payload, err := Encode(r, CompressionZstd)
	if err != nil {
		return memRecord{}, err
	}
	m.seq++
	return memRecord{payload: payload, meta: MetaOf(r, m.Name()), version: strconv.FormatInt(m.seq, 10)}, nil
}

// Create stores a new revision.
func (m *MemoryDriver) Create(_ context.Context, r *Release) error {
	m.counts.creates.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey(r.Namespace, r.Name, r.Revision)
	if _, ok := m.records[k]; ok {
		return &ExistsError{Object: "memory record " + k}
	}
	rec, err := m.store(r)
	if err != nil {
		return err
	}
	m.records[k] = rec
	r.storageVersion = rec.version
	return nil
}

// Update replaces a revision if it did not change since it was read.
func (m *MemoryDriver) Update(_ context.Context, r *Release) error {
	m.counts.updates.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey(r.Namespace, r.Name, r.Revision)
	cur, ok := m.records[k]
	if !ok {
		return &NotFoundError{Namespace: r.Namespace, Name: r.Name, Revision: r.Revision}
	}
	if cur.version != r.storageVersion {
		return &ConflictError{Object: "memory record " + k, Err: fmt.Errorf("version %s, read at %s", cur.version, r.storageVersion)}
	}
	rec, err := m.store(r)
	if err != nil {
		return err
	}
	m.records[k] = rec
	r.storageVersion = rec.version
	return nil
}

// Get decodes one revision.
func (m *MemoryDriver) Get(_ context.Context, namespace, name string, revision int) (*Release, error) {
	m.counts.gets.Add(1)
	m.mu.Lock()
	rec, ok := m.records[memKey(namespace, name, revision)]
	m.mu.Unlock()
	if !ok {
		return nil, &NotFoundError{Namespace: namespace, Name: name, Revision: revision}
	}
	r, err := Decode(rec.payload, "memory record "+memKey(namespace, name, revision))
	if err != nil {
		return nil, err
	}
	r.storageVersion = rec.version
	return r, nil
}

// List returns metadata only.
func (m *MemoryDriver) List(_ context.Context, namespace, name string) ([]Meta, error) {
	m.counts.lists.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Meta
	for _, rec := range m.records {
		if (namespace == "" || rec.meta.Namespace == namespace) && (name == "" || rec.meta.Name == name) {
			out = append(out, rec.meta)
		}
	}
	SortMetas(out)
	return out, nil
}

// Delete removes one revision.
func (m *MemoryDriver) Delete(_ context.Context, namespace, name string, revision int) error {
	m.counts.deletes.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, memKey(namespace, name, revision))
	return nil
}

// Corrupt overwrites a stored payload (tests of the decoder's errors).
func (m *MemoryDriver) Corrupt(namespace, name string, revision int, payload []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey(namespace, name, revision)
	rec := m.records[k]
	rec.payload = payload
	m.records[k] = rec
}

type memLock struct {
	d       *MemoryDriver
	key     string
	holder  Holder
	renewed time.Time
	ttl     time.Duration
	expired *Holder
	takenAt time.Time
}

func (l *memLock) TakenAt() time.Time { return l.takenAt }

// Lock takes an in-process lock with the same expiry rules as the Lease.
func (m *MemoryDriver) Lock(_ context.Context, namespace, name string, h Holder, ttl time.Duration) (Lock, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := namespace + "/" + name
	now := m.now()
	var expired *Holder
	if cur, ok := m.locks[k]; ok {
		if now.Before(cur.renewed.Add(cur.ttl)) {
			return nil, &LockedError{Namespace: namespace, Name: name, Holder: cur.holder, RenewedAt: cur.renewed, Expires: cur.renewed.Add(cur.ttl)}
		}
		prev := cur.holder
		expired = &prev
	}
	l := &memLock{d: m, key: k, holder: h, renewed: now, ttl: ttl, expired: expired, takenAt: time.Now()}
	m.locks[k] = l
	return l, nil
}

func (l *memLock) Expired() *Holder { return l.expired }

func (l *memLock) Renew(context.Context) error {
	l.d.mu.Lock()
	defer l.d.mu.Unlock()
	if l.d.locks[l.key] != l {
		return fmt.Errorf("%w of %s", ErrLockLost, l.key)
	}
	l.renewed = l.d.now()
	return nil
}

func (l *memLock) Release(context.Context) error {
	l.d.mu.Lock()
	defer l.d.mu.Unlock()
	if l.d.locks[l.key] == l {
		delete(l.d.locks, l.key)
	}
	return nil
}

// LockActive tells whether a lock is held and not expired, without taking it.
func (m *MemoryDriver) LockActive(_ context.Context, namespace, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.locks[namespace+"/"+name]
	return ok && m.now().Before(cur.renewed.Add(cur.ttl)), nil
}
