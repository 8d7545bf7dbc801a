package releases

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// ImportConflictError: the release already has revisions that an import would overwrite or mix
// with; nothing was written.
type ImportConflictError struct {
	Namespace, Name string
	Msg             string
}

func (e *ImportConflictError) Error() string {
	return fmt.Sprintf("release %s in namespace %s: %s", e.Name, e.Namespace, e.Msg)
}

// ExitCode is 1: the import was refused.
func (e *ImportConflictError) ExitCode() int { return exitFailed }

// reachable tells whether a state can be reached from a revision not yet stored through the
// state machine: a revision made elsewhere can only be imported in a state sherpack itself
// could have left it in.
func reachable(to State) bool {
	seen := map[State]bool{"": true}
	queue := []State{""}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, t := range transitions[s] {
			if t == to {
				return true
			}
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	return false
}

// ValidateImport checks revisions made elsewhere before any is written: one release, revision
// numbers from 1 up without repeats, every state one the state machine reaches and none pending
// (no operation of ours runs them), and the history as a whole keeps the Invariants.
func ValidateImport(revs []*Release) error {
	if len(revs) == 0 {
		return errors.New("nothing to import")
	}
	name, ns := revs[0].Name, revs[0].Namespace
	if err := ValidateName(name); err != nil {
		return err
	}
	metas := make([]Meta, 0, len(revs))
	last := 0
	for _, r := range revs {
		if r.Name != name || r.Namespace != ns {
			return fmt.Errorf("revision %d is of release %s/%s, not %s/%s", r.Revision, r.Namespace, r.Name, ns, name)
		}
		if r.Revision <= last {
			return fmt.Errorf("release %s: revisions must be in increasing order without repeats (revision %d after %d)", name, r.Revision, last)
		}
		last = r.Revision
		if !r.State.Valid() {
			return fmt.Errorf("release %s revision %d: unknown state %q", name, r.Revision, r.State)
		}
		if r.State.IsPending() {
			return fmt.Errorf("release %s revision %d is %s: a pending revision cannot be imported (no operation of ours runs it)", name, r.Revision, r.State)
		}
		if !reachable(r.State) {
			return &TransitionError{Release: name, From: "", To: r.State}
		}
		if err := ValidateUserLabels(r.Labels); err != nil {
			return fmt.Errorf("release %s revision %d: %w", name, r.Revision, err)
		}
		metas = append(metas, MetaOf(r, "import"))
	}
	if err := CheckInvariants(View{History: metas, LockHeld: true}, false); err != nil {
		return fmt.Errorf("release %s: the imported history would break the rules every history keeps: %w", name, err)
	}
	return nil
}

// Import writes revisions made elsewhere (another tool's history), as they are: states, times and
// descriptions are kept, nothing is pending. The caller holds the release lock (ctx is the
// operation's). Revisions are written newest first, so that an import cut short leaves a release
// whose latest revision is the live one, only with less history; running the import again
// writes the rest. A revision already stored is accepted only if it was imported from the same
// record. When a write fails, the revisions this call wrote are deleted again.
func (s *Store) Import(ctx context.Context, revs []*Release) (written []int, err error) {
	if err := ValidateImport(revs); err != nil {
		return nil, err
	}
	if err := writable(ctx); err != nil {
		return nil, err
	}
	name, ns := revs[0].Name, revs[0].Namespace
	existing, err := s.Driver.List(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	stored := map[int]Meta{}
	for _, m := range existing {
		stored[m.Revision] = m
	}
	for _, r := range revs {
		if _, ok := stored[r.Revision]; !ok {
			continue
		}
		cur, err := s.Driver.Get(ctx, ns, name, r.Revision)
		if err != nil {
			return nil, err
		}
		if !sameImport(cur, r) {
			return nil, &ImportConflictError{Namespace: ns, Name: name,
				Msg: fmt.Sprintf("revision %d is already stored and was not imported from %s; nothing was written", r.Revision, importObject(r))}
		}
	}
	if len(existing) > 0 {
		newest := existing[len(existing)-1].Revision
		if _, ours := stored[newest]; ours && newest > revs[len(revs)-1].Revision {
			// Revisions made after an earlier import: the history goes on from there already.
			return nil, &ImportConflictError{Namespace: ns, Name: name,
				Msg: fmt.Sprintf("revision %d is newer than every revision to import; nothing was written", newest)}
		}
	}
	order := append([]*Release(nil), revs...)
	sort.Slice(order, func(i, j int) bool { return order[i].Revision > order[j].Revision })
	defer func() {
		if err == nil {
			return
		}
		// Undo what this call wrote, through a context that outlives the caller's but not the lock.
		undo := context.WithoutCancel(ctx)
		var undoErrs []error
		for _, rev := range written {
			if e := s.Driver.Delete(undo, ns, name, rev); e != nil {
				undoErrs = append(undoErrs, e)
			}
		}
		if len(undoErrs) > 0 {
			err = fmt.Errorf("%w; removing the revisions written failed too: %v", err, errors.Join(undoErrs...))
		}
		written = nil
	}()
	for _, r := range order {
		if _, ok := stored[r.Revision]; ok {
			continue
		}
		if err := writable(ctx); err != nil {
			return written, err
		}
		rec := r.DeepCopy()
		rec.Holder = nil
		if err := s.Driver.Create(ctx, rec); err != nil {
			return written, fmt.Errorf("write imported revision %d of %s: %w", r.Revision, name, err)
		}
		written = append(written, r.Revision)
	}
	sort.Ints(written)
	return written, nil
}

// sameImport tells whether a stored revision was imported from the record r comes from.
func sameImport(cur, r *Release) bool {
	return cur.Imported != nil && r.Imported != nil && cur.Imported.From == r.Imported.From && cur.Imported.Object == r.Imported.Object
}

func importObject(r *Release) string {
	if r.Imported == nil {
		return "elsewhere"
	}
	return r.Imported.Object
}

// writable refuses a write through a context whose lock is no longer safe, or that ended (the
// operation is over: its lock may be someone else's by now).
func writable(ctx context.Context) error {
	if err := guard(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("not written: %w", context.Cause(ctx))
	}
	return nil
}
