package retry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A write ridden through an outage is not sent again once its guard refuses (the lock of the
// operation is no longer safe); a read is not guarded.
func TestWriteGuardStopsRetriesOfWrites(t *testing.T) {
	t.Parallel()
	lost := errors.New("lost the release lock")
	var refuse atomic.Bool
	ctx := WithWriteGuard(context.Background(), func() error {
		if refuse.Load() {
			return lost
		}
		return nil
	})
	next := &refusing{}
	o := &Outage{Budget: time.Minute}
	o.ok() // the server answered once: connection failures are an outage to ride
	tr := &Transport{Next: next, Base: 20 * time.Millisecond, Max: 40 * time.Millisecond, Outage: o}
	time.AfterFunc(150*time.Millisecond, func() { refuse.Store(true) })
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://127.0.0.1:1/x", strings.NewReader("{}"))
	start := time.Now()
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, lost) {
		t.Fatalf("PUT during an outage after the guard refused: %v, want the guard's error", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the write rode the outage for %s after its guard refused", took)
	}
	sent := next.calls.Load()
	if sent < 2 {
		t.Fatalf("only %d attempts before the guard refused: the test proves nothing", sent)
	}
	// Refused before anything is sent.
	req2, _ := http.NewRequestWithContext(ctx, http.MethodDelete, "http://127.0.0.1:1/x", nil)
	if _, err := tr.RoundTrip(req2); !errors.Is(err, lost) || next.calls.Load() != sent {
		t.Fatalf("DELETE with a refusing guard: %v, %d attempts sent", err, next.calls.Load()-sent)
	}
	// Reads are not guarded, and a lifted guard lets writes through.
	before := next.calls.Load()
	get, _ := http.NewRequestWithContext(WithoutWriteGuard(ctx), http.MethodGet, "http://127.0.0.1:1/x", nil)
	gctx, cancel := context.WithTimeout(get.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := tr.RoundTrip(get.WithContext(gctx)); errors.Is(err, lost) || next.calls.Load() == before {
		t.Fatalf("GET: %v after %d attempts; reads must not be guarded", err, next.calls.Load()-before)
	}
}
