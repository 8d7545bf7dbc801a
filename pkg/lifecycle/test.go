package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/hooks"
)

// TestOptions of Test.
type TestOptions struct {
	Name, Namespace string
	Timeout         time.Duration
	Logs            bool
}

// TestFailedError: at least one test hook failed.
type TestFailedError struct {
	Failed, Total int
}

func (e *TestFailedError) Error() string {
	return fmt.Sprintf("%d of %d tests failed", e.Failed, e.Total)
}

// ExitCode is 1.
func (e *TestFailedError) ExitCode() int { return 1 }

// Test runs the test hooks of the deployed revision, every one of them even after a failure,
// and records their results on the revision.
func (c *Client) Test(ctx context.Context, o TestOptions) ([]hooks.Outcome, error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	op, err := c.Store.Begin(ctx, o.Namespace, o.Name, "test")
	if err != nil {
		return nil, err
	}
	defer op.End(context.WithoutCancel(ctx))
	rel, err := c.Store.LastDeployed(op.Context(), o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	hs, err := decodeHooks(rel)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		h.SetNamespace(o.Namespace)
	}
	runner := &hooks.Runner{Client: c.Apply, Typed: c.Typed, Release: o.Name, ReleaseNamespace: o.Namespace, KeepGoing: true, AlwaysLogs: o.Logs,
		Observe: func(e hooks.Event) {
			c.emit(o.Name, Event{Type: "hook", Name: e.Hook.String(), Action: e.Action, Detail: e.Phase + " " + e.Detail})
		}}
	tctx, cancel := context.WithTimeout(op.Context(), o.Timeout)
	defer cancel()
	outcomes, runErr := runner.Run(tctx, hs, "test")
	rel.Hooks = hookRecords(hs, outcomes, rel.Hooks)
	rctx, rcancel := c.afterContext(ctx, op, 30*time.Second, true)
	defer rcancel()
	if err := c.Store.Save(rctx, rel); err != nil {
		return outcomes, fmt.Errorf("tests ran but their results could not be recorded: %w", err)
	}
	if runErr != nil {
		return outcomes, runErr
	}
	failed := 0
	for _, oc := range outcomes {
		if !oc.Succeeded {
			failed++
		}
	}
	if failed > 0 {
		return outcomes, &TestFailedError{Failed: failed, Total: len(outcomes)}
	}
	return outcomes, nil
}
