package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// DefaultGrace is how long an interrupted operation may take to record its failure and undo
// (--atomic, --cleanup-on-fail) before it gives up and exits.
const DefaultGrace = 30 * time.Second

// InterruptedError is the cause of a context cancelled by a signal (SIGINT, SIGTERM, SIGHUP).
type InterruptedError struct {
	Signal os.Signal
	At     time.Time
}

func (e *InterruptedError) Error() string { return "interrupted by " + signalName(e.Signal) }

// ExitCode is 128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
func (e *InterruptedError) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// Interrupted is the signal that cancelled ctx, or nil.
func Interrupted(ctx context.Context) *InterruptedError {
	var ie *InterruptedError
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &ie) {
		return ie
	}
	return nil
}

type abortKey struct{}

// WithAbort attaches the channel closed by a second signal: undo stops, the failure is recorded
// if the API server answers within 2 s, the lock is released, the process exits.
func WithAbort(ctx context.Context, abort <-chan struct{}) context.Context {
	return context.WithValue(ctx, abortKey{}, abort)
}

func abortOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(abortKey{}).(<-chan struct{})
	return ch
}

// abortWait is how long the outcome may still take to be written after a second signal.
const abortWait = 2 * time.Second

// afterContext is the context of what follows a failure (recording it, undoing): it outlives the
// caller's context (a signal, the --timeout) but not the lock, lasts normal at most, or what is
// left of the grace period after a signal, and after a second signal only abortWait (record) or
// nothing (undo).
func (c *Client) afterContext(ctx context.Context, op *releases.Operation, normal time.Duration, record bool) (context.Context, context.CancelFunc) {
	d := normal
	if ie := Interrupted(ctx); ie != nil {
		d = min(d, time.Until(ie.At.Add(c.grace())))
	}
	if record {
		d = max(d, abortWait)
	}
	actx, cancel := context.WithTimeout(op.Detached(), max(d, 0))
	ab := abortOf(ctx)
	if ab == nil {
		return actx, cancel
	}
	go func() {
		select {
		case <-ab:
			if !record {
				cancel()
				return
			}
			t := time.NewTimer(abortWait)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-actx.Done():
			}
		case <-actx.Done():
		}
	}()
	return actx, cancel
}

func (c *Client) grace() time.Duration {
	if c.Grace <= 0 {
		return DefaultGrace
	}
	return c.Grace
}

// stopCause says why a deployment stopped early: a signal or a lost lock replaces the bare
// "context canceled" of whatever was under way.
func stopCause(ctx context.Context, op *releases.Operation, err error) error {
	if err == nil {
		return nil
	}
	if lost := op.Lost(); lost != nil {
		return lost
	}
	if ie := Interrupted(ctx); ie != nil {
		return fmt.Errorf("%w (it was at: %v)", ie, err)
	}
	return err
}

// announceInterrupt tells the progress output what happens after a signal, and how long it may
// take.
func (c *Client) announceInterrupt(ctx context.Context, name string, revision int, undo string) {
	ie := Interrupted(ctx)
	if ie == nil {
		return
	}
	detail := fmt.Sprintf("%s: marking revision %d failed", signalName(ie.Signal), revision)
	if undo != "" {
		detail += ", " + undo
	}
	detail += fmt.Sprintf(", releasing the lock; within %s (--interrupt-grace), send the signal again to stop at once", c.grace())
	c.emit(name, Event{Type: "operation", Name: "interrupted", Action: "interrupted", Detail: detail})
}

// warn reports bookkeeping that failed after the outcome was recorded: the next operation
// repairs it.
func (c *Client) warn(name string, errs []error) {
	for _, err := range errs {
		c.emit(name, Event{Type: "api", Action: "warning", Detail: "Warning: " + err.Error() + " (the next operation repairs it)"})
	}
}

// explain replaces the bare "context canceled" of a step that a lost lock or a signal cut short
// with what happened (deferred by every locked operation).
func explain(ctx context.Context, op *releases.Operation, err *error) {
	if *err == nil || errors.Is(*err, releases.ErrLockLost) {
		return
	}
	var ie *InterruptedError
	if errors.As(*err, &ie) || !(errors.Is(*err, context.Canceled) || errors.Is(*err, context.DeadlineExceeded)) {
		return
	}
	if lost := op.Lost(); lost != nil {
		*err = fmt.Errorf("%w (it was at: %v)", lost, *err)
	} else if ie := Interrupted(ctx); ie != nil {
		*err = fmt.Errorf("%w (it was at: %v)", ie, *err)
	}
}
