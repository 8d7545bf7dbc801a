// Package releases holds the release record and its state machine, the Store over pluggable
// drivers (Secrets, ConfigMaps, files, memory), the payload codec, chunking past the API
// server's object size limit, history pruning, the per-release lock and the recovery of
// operations that were interrupted.
package releases

import (
	"fmt"
	"regexp"
	"time"
)

// State is where a revision is in its life.
type State string

// The states of a revision.
const (
	StatePendingInstall   State = "pending-install"
	StatePendingUpgrade   State = "pending-upgrade"
	StatePendingRollback  State = "pending-rollback"
	StatePendingUninstall State = "pending-uninstall"
	StateDeployed         State = "deployed"
	StateSuperseded       State = "superseded"
	StateFailed           State = "failed"
	StateUninstalled      State = "uninstalled"
)

// AllStates lists every state, pending ones first.
var AllStates = []State{StatePendingInstall, StatePendingUpgrade, StatePendingRollback, StatePendingUninstall,
	StateDeployed, StateSuperseded, StateFailed, StateUninstalled}

// IsPending tells whether an operation is (or was, if interrupted) in progress on the revision.
func (s State) IsPending() bool {
	switch s {
	case StatePendingInstall, StatePendingUpgrade, StatePendingRollback, StatePendingUninstall:
		return true
	}
	return false
}

// Valid tells whether s is a known state.
func (s State) Valid() bool {
	for _, k := range AllStates {
		if s == k {
			return true
		}
	}
	return false
}

// transitions is the state machine: from -> allowed targets. "" is a revision not yet stored.
var transitions = map[State][]State{
	"":                    {StatePendingInstall, StatePendingUpgrade, StatePendingRollback},
	StatePendingInstall:   {StateDeployed, StateFailed},
	StatePendingUpgrade:   {StateDeployed, StateFailed},
	StatePendingRollback:  {StateDeployed, StateFailed},
	StatePendingUninstall: {StateUninstalled, StateFailed},
	StateDeployed:         {StateSuperseded, StatePendingUninstall, StateFailed},
	StateFailed:           {StateSuperseded, StatePendingUninstall},
	StateSuperseded:       {},
	StateUninstalled:      {StateSuperseded},
}

// CanTransition tells whether the state machine allows from -> to.
func CanTransition(from, to State) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// TransitionError is an illegal state change: a bug or a concurrent writer, never written.
type TransitionError struct {
	Release  string
	From, To State
}

func (e *TransitionError) Error() string {
	from := string(e.From)
	if from == "" {
		from = "(new)"
	}
	return fmt.Sprintf("release %s: illegal state transition %s -> %s", e.Release, from, e.To)
}

// Release is one revision of a release, as stored.
type Release struct {
	// SchemaVersion of the stored record; readers refuse newer ones they do not understand.
	SchemaVersion int    `json:"schemaVersion"`
	Name          string `json:"name"`
	Namespace     string `json:"namespace"`
	Revision      int    `json:"revision"`
	State         State  `json:"state"`
	// Reason says why a revision failed (or how it was recovered).
	Reason string   `json:"reason,omitempty"`
	Pack   PackInfo `json:"pack"`
	// Values are the merged values the templates saw; UserValues only what the user supplied
	// (files and flags), which is what an upgrade reuses.
	Values     map[string]any         `json:"values,omitempty"`
	UserValues map[string]any         `json:"userValues,omitempty"`
	Provenance map[string]ValueSource `json:"provenance,omitempty"`
	// Manifest is the rendered objects of the release (not the hooks), as multi-document YAML.
	Manifest    string            `json:"manifest"`
	Hooks       []Hook            `json:"hooks,omitempty"`
	Notes       string            `json:"notes,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Description string            `json:"description,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	// ApplyMethod is how the objects were applied (server-side-apply).
	ApplyMethod string `json:"applyMethod,omitempty"`
	// GeneratedSecrets are the values generate_secret gave (by name), given again on upgrade.
	GeneratedSecrets map[string]string `json:"generatedSecrets,omitempty"`
	// Holder is who runs the pending operation on this revision, and until when it may.
	Holder *Holder `json:"holder,omitempty"`
	// Applied is the resourceVersion each object had right after this revision applied it
	// (Kind/namespace/name -> resourceVersion): an object still at that version is exactly as
	// the release left it, so a later identical apply can be skipped.
	Applied map[string]string `json:"applied,omitempty"`
	// SweepKinds are the kinds ("apiVersion|kind|namespace") of what the revisions since the
	// last deployed one had, carried from revision to revision until a deploy succeeds: the next
	// operation sweeps them by label even when --history-max has pruned the failed revisions.
	SweepKinds []string `json:"sweepKinds,omitempty"`
	// Imported says where a revision written by an import came from (nil for the revisions
	// sherpack made itself).
	Imported *ImportSource `json:"imported,omitempty"`

	// storageVersion is the driver's optimistic-concurrency token (resourceVersion, file hash).
	storageVersion string
	// chunked tells that the stored record has chunk objects (to clean up on update).
	chunked bool
}

// SchemaVersion is the version of the Release JSON this code writes.
const SchemaVersion = 1

// PackInfo is the pack a revision was made from.
type PackInfo struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion,omitempty"`
	Description string `json:"description,omitempty"`
}

// ValueSource says where a value came from: Kind is one of schema-default, pack-default,
// values-file, set, set-string, set-file, set-json, previous-release; Source names the file or
// flag.
type ValueSource struct {
	Kind   string `json:"kind"`
	Source string `json:"source,omitempty"`
}

// Hook is a hook object of the release with its last run.
type Hook struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Phases   []string `json:"phases"`
	Weight   int      `json:"weight"`
	Manifest string   `json:"manifest"`
	LastRun  *HookRun `json:"lastRun,omitempty"`
}

// HookRun is the outcome of one hook execution.
type HookRun struct {
	Phase    string    `json:"phase"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
	Result   string    `json:"result"` // succeeded, failed, running
	Message  string    `json:"message,omitempty"`
}

// ImportSource is where an imported revision came from.
type ImportSource struct {
	// From is the tool whose history it was: "helm".
	From string `json:"from"`
	// Object is the record it was read from ("Secret prod/sh.helm.release.v1.shop.v2").
	Object string `json:"object"`
	// Status is the state the other tool recorded ("deployed", "pending-upgrade", ...).
	Status string `json:"status,omitempty"`
	// At is when it was imported.
	At time.Time `json:"at"`
}

// Holder identifies who runs an operation: enough for a person to find the process.
type Holder struct {
	ID        string    `json:"id"` // unique per operation
	User      string    `json:"user"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Operation string    `json:"operation"`
	Since     time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("%s by %s@%s (pid %d) since %s", h.Operation, h.User, h.Host, h.PID, h.Since.Local().Format("15:04:05"))
}

// Key is the storage name of a revision: sh.sherpack.release.v1.<name>.v<revision>.
func (r *Release) Key() string { return ObjectName(r.Name, r.Revision) }

// ObjectName is the storage name of a revision.
func ObjectName(name string, revision int) string {
	return fmt.Sprintf("sh.sherpack.release.v1.%s.v%d", name, revision)
}

// Transition moves the revision to a new state if the state machine allows it. reason is kept
// for failed states (and recorded as the description otherwise, if given).
func (r *Release) Transition(to State, reason string, now time.Time) error {
	if !CanTransition(r.State, to) {
		return &TransitionError{Release: r.Name, From: r.State, To: to}
	}
	r.State = to
	if to == StateFailed {
		r.Reason = reason
	} else if reason != "" {
		r.Description = reason
	}
	if !to.IsPending() {
		r.Holder = nil
	}
	r.UpdatedAt = now
	return nil
}

// DeepCopy copies the record (values are copied through their JSON form by the codec when needed;
// here maps are copied one level, which is all the store mutates).
func (r *Release) DeepCopy() *Release {
	c := *r
	if r.Holder != nil {
		h := *r.Holder
		c.Holder = &h
	}
	c.Hooks = append([]Hook(nil), r.Hooks...)
	if r.Imported != nil {
		im := *r.Imported
		c.Imported = &im
	}
	return &c
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// MaxNameLength keeps every derived object name and label value within Kubernetes' limits.
const MaxNameLength = 53

// ValidateName refuses a release name that could not name its storage objects and labels.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("release name is empty")
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("release name %q is %d characters; the limit is %d", name, len(name), MaxNameLength)
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("release name %q is invalid: use lower case letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return nil
}
