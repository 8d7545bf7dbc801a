package releases

import (
	"context"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/retry"
)

// transient: see retry.Transient.
func transient(err error) bool { return retry.Transient(err) }

// writeRetries bounds how often a write of a record or lease is tried again.
const writeRetries = 6

// retryWrite runs a write until it succeeds or fails for good. A write whose answer was lost
// (a transient error) may still have landed: when the next attempt is refused as already done
// (exists, or conflict), landed() is asked whether the stored state is ours, and if so the write
// counts as done.
func retryWrite(ctx context.Context, write func() error, alreadyDone func(error) bool, landed func() bool) error {
	var err error
	lost := false
	for attempt := 0; attempt < writeRetries; attempt++ {
		err = write()
		if err == nil {
			return nil
		}
		if lost && alreadyDone(err) && landed() {
			return nil
		}
		if !transient(err) {
			return err
		}
		lost = true
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		}
	}
	return err
}
