package releases

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// transient tells whether an error may go away by itself: the API server busy or restarting,
// a connection cut. A conflict or a refusal is not transient.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsInternalError(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var ne net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &ne) && ne.Timeout()) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF") || strings.Contains(msg, "connection refused")
}

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
