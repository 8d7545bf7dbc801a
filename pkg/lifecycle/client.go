// Package lifecycle is the library API of sherpack: Install, Upgrade, Rollback, Uninstall,
// List, History, Status, Get, Recover. It orchestrates rendering, storage, apply, hooks and
// health; the commands of pkg/plugin are thin layers over it.
package lifecycle

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// Client runs release operations against one cluster and one release store.
type Client struct {
	Store *releases.Store
	Apply *apply.Client
	Typed kubernetes.Interface
	// Config is the REST config (command health checks exec through it).
	Config *rest.Config
	// Observer is told of progress (may be nil).
	Observer Observer
	// Grace bounds what an operation interrupted by a signal still does: record its failure,
	// undo (--atomic, --cleanup-on-fail), release the lock (default DefaultGrace).
	Grace time.Duration
}

// Observer receives progress events.
type Observer interface {
	Event(Event)
}

// Event is one step of progress, for the live view, plain log lines or JSON events.
type Event struct {
	Time    time.Time `json:"time"`
	Release string    `json:"release"`
	Type    string    `json:"type"` // operation, phase, wave, object, hook, wait
	Name    string    `json:"name,omitempty"`
	Action  string    `json:"action"`
	Detail  string    `json:"detail,omitempty"`
	Wave    *int      `json:"wave,omitempty"`
}

func (c *Client) emit(rel string, e Event) {
	if c.Observer == nil {
		return
	}
	e.Time = time.Now()
	e.Release = rel
	c.Observer.Event(e)
}

// Rendered is what a release is made of: objects, hooks and notes, and the pack and values.
type Rendered struct {
	*render.Result
	Pack   *pack.Pack     // nil for plain manifests
	Values *pack.Resolved // nil for plain manifests
	// Labels are recorded on the revision (--labels); list -l selects on them.
	Labels map[string]string
}

// RenderFunc renders the release once its revision is known; previous are the values layers of
// the previous release that an upgrade reuses (empty on install).
type RenderFunc func(info render.ReleaseInfo, previous []pack.Layer) (*Rendered, error)

// DryRun modes.
const (
	DryRunNone   = "none"
	DryRunClient = "client"
	DryRunServer = "server"
)

// CommonOptions are shared by install, upgrade and rollback.
type CommonOptions struct {
	Wait            bool
	Timeout         time.Duration
	Atomic          bool
	NoHooks         bool
	ForceConflicts  bool
	TakeOwnership   bool
	DryRun          string
	Description     string
	HistoryMax      int
	CreateNamespace bool
	// JobsReadyOnStart counts a Job as ready once started instead of once complete
	// (--wait-for-jobs=false).
	JobsReadyOnStart bool
	// DeleteCRDs lets pruning delete CustomResourceDefinitions that left the release (kept
	// otherwise).
	DeleteCRDs bool
}

func (o CommonOptions) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 5 * time.Minute
	}
	return o.Timeout
}

// OperationError is a failed operation: what failed, and what was undone.
type OperationError struct {
	Op       string
	Release  string
	Revision int
	Err      error
	Undone   string // "rolled back to revision 3", "uninstalled", ...
}

func (e *OperationError) Error() string {
	msg := fmt.Sprintf("%s of %s failed: %v", e.Op, e.Release, e.Err)
	if e.Undone != "" {
		msg += "\n" + e.Undone
	}
	if e.Revision > 0 {
		msg += fmt.Sprintf("\nRevision %d is kept as failed; see: kubectl sherpack history %s", e.Revision, e.Release)
	}
	return msg
}

func (e *OperationError) Unwrap() error { return e.Err }

// ExitCode is 1 (the operation failed), unless the cause says otherwise (locked: 5).
func (e *OperationError) ExitCode() int {
	type coder interface{ ExitCode() int }
	if c, ok := e.Err.(coder); ok {
		return c.ExitCode()
	}
	return 1
}

// ctxWithTimeout bounds an operation by its --timeout, and by the lock (lost lock = stop).
func withDeadline(op *releases.Operation, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(op.Context(), d)
}
