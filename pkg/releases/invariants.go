package releases

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Invariant is one rule a release's history keeps whatever fails or is killed, and where it
// is kept.
type Invariant struct {
	Name string
	Rule string
	// How: which writes keep it, and what repairs it when a kill came between two of them.
	How string
	// Check judges a history (nil: the rule is about cluster objects, see How).
	Check func(v View) error
	// Always: the rule holds even right after a kill, before the next operation repairs; the
	// others hold after every operation that ran to its end and after every recovery.
	Always bool
}

// View is what an invariant is judged on: a release's history (oldest first), the history limit,
// and whether an operation holds the lock now.
type View struct {
	History    []Meta
	HistoryMax int
	LockHeld   bool
}

// Invariants is the table of what holds after every operation, and after the recovery of an
// operation that was killed. Tests (the property test of this package among them) check it
// after every step.
var Invariants = []Invariant{
	{Name: "one-deployed", Rule: "at most one revision is deployed",
		How: "a deploy marks the new revision deployed, then supersedes the older ones; a kill in between is repaired when the next operation takes the lock (Repair)",
		Check: func(v View) error {
			var dep []string
			for _, m := range v.History {
				if m.State == StateDeployed {
					dep = append(dep, fmt.Sprint(m.Revision))
				}
			}
			if len(dep) > 1 {
				return fmt.Errorf("revisions %s are all deployed", strings.Join(dep, ", "))
			}
			return nil
		}},
	{Name: "pending-is-locked", Always: true, Rule: "a pending revision exists only as the latest one, and only while an operation holds the lock",
		How: "the operation that takes an expired lock marks what its holder left pending failed, and Repair marks older pending revisions failed (Begin)",
		Check: func(v View) error {
			for i, m := range v.History {
				if !m.State.IsPending() {
					continue
				}
				if i != len(v.History)-1 {
					return fmt.Errorf("revision %d is %s but is not the latest", m.Revision, m.State)
				}
				if !v.LockHeld {
					return fmt.Errorf("revision %d is %s and nobody holds the lock", m.Revision, m.State)
				}
			}
			return nil
		}},
	{Name: "uninstalled-is-final", Rule: "when the latest revision is uninstalled, no revision is deployed",
		How: "uninstall --keep-history supersedes every deployed revision once the latest is uninstalled; Repair finishes it after a kill",
		Check: func(v View) error {
			if n := len(v.History); n == 0 || v.History[n-1].State != StateUninstalled {
				return nil
			}
			for _, m := range v.History {
				if m.State == StateDeployed {
					return fmt.Errorf("revision %d is deployed although the release is uninstalled", m.Revision)
				}
			}
			return nil
		}},
	{Name: "history-max", Rule: "at most --history-max revisions are kept (failed ones included), plus the last deployed one when it is older, plus the pending one of a running operation; the latest is always kept",
		How: "every operation prunes when it ends, failed or not, and when it takes the lock (Prune, Repair); chunks no record points to go with it",
		Check: func(v View) error {
			if v.HistoryMax <= 0 {
				return nil
			}
			allowed := v.HistoryMax
			last := lastDeployedIndex(v.History)
			if last >= 0 && last < len(v.History)-v.HistoryMax {
				allowed++
			}
			if n := len(v.History); n > 0 && v.History[n-1].State.IsPending() {
				allowed++
			}
			if len(v.History) > allowed {
				return fmt.Errorf("%d revisions kept, at most %d allowed", len(v.History), allowed)
			}
			return nil
		}},
	{Name: "no-orphans", Rule: "every object carrying a release's labels is in its latest or last deployed revision",
		How: "upgrade, rollback and uninstall delete what the revisions since the last deployed one had, and sweep by label over their kinds, which each new revision carries (Release.SweepKinds) until a deploy succeeds (pkg/lifecycle)"},
}

func lastDeployedIndex(h []Meta) int {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].State == StateDeployed {
			return i
		}
	}
	return -1
}

// CheckInvariants judges a history against every rule of the table that reads histories;
// afterKill keeps to the rules that hold even before a repair.
func CheckInvariants(v View, afterKill bool) error {
	var errs []error
	for _, inv := range Invariants {
		if inv.Check == nil || (afterKill && !inv.Always) {
			continue
		}
		if err := inv.Check(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", inv.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Repair puts right what a killed operation can leave behind against the Invariants: older
// deployed revisions not yet superseded, pending revisions that are not the latest, deployed
// revisions under an uninstalled one, history past HistoryMax. The caller holds the lock. It
// says what it did.
func (s *Store) Repair(ctx context.Context, namespace, name string) ([]string, error) {
	ms, err := s.Driver.List(ctx, namespace, name)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	var done []string
	newestDeployed := lastDeployedIndex(ms)
	uninstalled := ms[len(ms)-1].State == StateUninstalled
	for i, m := range ms {
		var to State
		var reason string
		switch {
		case m.State == StateDeployed && (i != newestDeployed || uninstalled):
			to = StateSuperseded
		case m.State.IsPending() && i != len(ms)-1:
			to, reason = StateFailed, "interrupted: a newer revision was started after it"
		default:
			continue
		}
		r, err := s.Driver.Get(ctx, namespace, name, m.Revision)
		if err != nil {
			return done, err
		}
		if err := s.Transition(ctx, r, to, reason); err != nil {
			return done, fmt.Errorf("repair revision %d of %s (%s -> %s): %w", m.Revision, name, m.State, to, err)
		}
		done = append(done, fmt.Sprintf("revision %d: %s -> %s", m.Revision, m.State, to))
	}
	if err := s.Prune(ctx, namespace, name); err != nil {
		return done, err
	}
	return done, nil
}

// MarkDeployed records a deploy that succeeded: the revision deployed, then every older deployed
// revision superseded and the history pruned. Only the first write decides the outcome: if the
// rest fails, the deploy still succeeded, the failures are returned as warnings, and the next
// operation repairs what was left (Repair).
func (s *Store) MarkDeployed(ctx context.Context, r *Release, description string) (warnings []error, err error) {
	if err := s.Transition(ctx, r, StateDeployed, description); err != nil {
		return nil, err
	}
	hist, err := s.History(ctx, r.Namespace, r.Name)
	if err != nil {
		return []error{err}, nil
	}
	for _, m := range hist {
		// A failed revision stays failed: history keeps what happened.
		if m.Revision >= r.Revision || m.State != StateDeployed {
			continue
		}
		if err := s.supersede(ctx, r.Namespace, r.Name, m.Revision); err != nil {
			warnings = append(warnings, err)
		}
	}
	if err := s.Prune(ctx, r.Namespace, r.Name); err != nil {
		warnings = append(warnings, err)
	}
	return warnings, nil
}

func (s *Store) supersede(ctx context.Context, namespace, name string, revision int) error {
	old, err := s.Get(ctx, namespace, name, revision)
	if err != nil {
		return fmt.Errorf("supersede revision %d: %w", revision, err)
	}
	if err := s.Transition(ctx, old, StateSuperseded, ""); err != nil && !IsConflict(err) {
		return fmt.Errorf("supersede revision %d: %w", revision, err)
	}
	return nil
}

// MarkFailed records a failed operation with its reason, then prunes the history (a loop of
// failing retries does not pile revisions up). A pruning error is returned as a warning.
func (s *Store) MarkFailed(ctx context.Context, r *Release, reason string) (warnings []error, err error) {
	if err := s.Transition(ctx, r, StateFailed, reason); err != nil {
		return nil, err
	}
	if err := s.Prune(ctx, r.Namespace, r.Name); err != nil {
		warnings = append(warnings, err)
	}
	return warnings, nil
}

// MarkUninstalled records an uninstall with --keep-history: the latest revision uninstalled, and
// every revision still deployed superseded, so that none looks live any more.
func (s *Store) MarkUninstalled(ctx context.Context, r *Release, description string) (warnings []error, err error) {
	if err := s.Transition(ctx, r, StateUninstalled, description); err != nil {
		return nil, err
	}
	hist, err := s.History(ctx, r.Namespace, r.Name)
	if err != nil {
		return []error{err}, nil
	}
	for _, m := range hist {
		if m.Revision != r.Revision && m.State == StateDeployed {
			if err := s.supersede(ctx, r.Namespace, r.Name, m.Revision); err != nil {
				warnings = append(warnings, err)
			}
		}
	}
	if err := s.Prune(ctx, r.Namespace, r.Name); err != nil {
		warnings = append(warnings, err)
	}
	return warnings, nil
}

// InstallBlocker is the revision that makes an install of the release refused, or nil: Helm's
// rule, a release with a deployed revision (even under failed upgrades after it) is changed with
// upgrade. A failed first install, or an uninstalled release whose history was kept, may be
// installed over.
func InstallBlocker(hist []Meta) *Meta {
	if len(hist) == 0 {
		return nil
	}
	latest := hist[len(hist)-1]
	switch latest.State {
	case StateUninstalled:
		return nil
	case StateDeployed, StateSuperseded:
		return &latest
	}
	if i := lastDeployedIndex(hist); i >= 0 {
		m := hist[i]
		return &m
	}
	return nil
}
