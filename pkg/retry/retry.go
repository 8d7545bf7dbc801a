// Package retry is an HTTP round tripper that retries what is safe to retry against a busy,
// flaky or restarting API server:
//
//   - idempotent requests (GET, HEAD, server-side apply and merge PATCH, DELETE) answered 429,
//     500, 502, 503 or 504, or whose connection was cut, also halfway through the answer (their
//     answers, streams aside, are read in full here);
//   - creates, updates and other patches only when answered 429 (refused before the server
//     acted) or when the connection could not even be opened (nothing was sent);
//   - Retry-After honoured, jittered exponential backoff otherwise, never past the request's
//     context deadline.
//
// A 409 Conflict is never retried: it means someone else changed the object.
//
// An API server that answered before and then refuses connections is restarting (or a load
// balancer is failing over): with an Outage shared by the transports of one process, requests
// that could not connect are sent again for up to Outage.Budget, and the user is told when the
// outage starts and ends. A server that never answered is more likely a wrong kubeconfig: that
// fails after the usual few attempts.
package retry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Transport wraps another round tripper.
type Transport struct {
	Next     http.RoundTripper
	Attempts int           // total attempts for answered or cut requests (default 5)
	Base     time.Duration // first backoff (default 200ms)
	Max      time.Duration // longest single wait (default 5s)
	Outage   *Outage       // shared outage state; nil: connection failures count as attempts
}

// Outage is what the transports of one process know about the API server's availability.
type Outage struct {
	// Budget is how long requests that cannot connect are sent again once the server has
	// answered at least once (default 60s). The request's context deadline bounds it too.
	Budget time.Duration
	// Notify, if set, is told in a sentence when an outage starts and when it ends (SetNotify
	// changes it while requests may be under way).
	Notify func(msg string)

	mu       sync.Mutex
	answered bool
	since    time.Time // start of the current outage, zero when none
	hopeless bool      // a request gave up on a server that never answered: do not wait again
}

// gaveUp records that a request gave up on a server that never answered.
func (o *Outage) gaveUp() { o.mu.Lock(); o.hopeless = !o.answered; o.mu.Unlock() }

// isHopeless: an earlier request of this process gave up on a server that never answered.
func (o *Outage) isHopeless() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hopeless && !o.answered
}

func (o *Outage) budget() time.Duration {
	if o.Budget <= 0 {
		return 60 * time.Second
	}
	return o.Budget
}

// SetNotify changes who is told of outages.
func (o *Outage) SetNotify(f func(msg string)) { o.mu.Lock(); o.Notify = f; o.mu.Unlock() }

// Tell passes a sentence about the API server's behaviour (a wait it causes) to whoever is told
// of outages.
func (o *Outage) Tell(msg string) {
	o.mu.Lock()
	notify := o.Notify
	o.mu.Unlock()
	if notify != nil {
		notify(msg)
	}
}

// ok records an answer; it ends an outage.
func (o *Outage) ok() {
	o.mu.Lock()
	o.answered = true
	since, notify := o.since, o.Notify
	o.since = time.Time{}
	o.mu.Unlock()
	if !since.IsZero() && notify != nil {
		notify(fmt.Sprintf("API server answering again after %s", time.Since(since).Round(100*time.Millisecond)))
	}
}

// down records a failed connection and tells whether to keep trying and until when.
func (o *Outage) down(host string, err error) (deadline time.Time, ride bool) {
	o.mu.Lock()
	if !o.answered {
		o.mu.Unlock()
		return time.Time{}, false
	}
	first := o.since.IsZero()
	if first {
		o.since = time.Now()
	}
	since, notify := o.since, o.Notify
	o.mu.Unlock()
	if first && notify != nil {
		notify(fmt.Sprintf("API server %s unreachable (%s); retrying for up to %s", host, short(err), o.budget()))
	}
	return since.Add(o.budget()), true
}

func short(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	return err.Error()
}

// Wrap is for rest.Config.WrapTransport, without outage riding.
func Wrap(rt http.RoundTripper) http.RoundTripper { return &Transport{Next: rt} }

// WrapWith returns a rest.Config.WrapTransport function whose transports share o.
func WrapWith(o *Outage) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper { return &Transport{Next: rt, Outage: o} }
}

// retryableStatus: the request was not acted upon (429, 503 from priority and fairness or a
// proxy), the gateway could not reach the server (502, 504), or the server failed (500).
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// RoundTrip sends the request, retrying as described above.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempts, base, maxWait := t.Attempts, t.Base, t.Max
	if attempts <= 0 {
		attempts = 5
	}
	if base <= 0 {
		base = 200 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		body = b
	}
	safe := idempotent(req)
	tries, refused := 0, 0
	for {
		r := req
		if tries+refused > 0 || body != nil {
			r = req.Clone(req.Context())
			switch {
			case body != nil:
				r.Body = io.NopCloser(bytes.NewReader(body))
			case req.GetBody != nil:
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = b
			}
		}
		if writes(req) {
			if gerr := CheckWrite(req.Context()); gerr != nil {
				return nil, gerr
			}
		}
		resp, err := t.Next.RoundTrip(r)
		if req.Context().Err() != nil {
			return resp, err
		}
		var wait time.Duration
		switch {
		case err != nil && notSent(err):
			// Nothing reached the server: any request may be sent again.
			refused++
			if t.Outage != nil {
				if until, ride := t.Outage.down(req.URL.Host, err); ride {
					wait = backoff(base, maxWait, min(refused, 6))
					if time.Now().Add(wait).After(until) {
						return resp, err
					}
					if dl, ok := req.Context().Deadline(); ok && time.Now().Add(wait).After(dl) {
						// Ride the outage to the operation's deadline: the caller then reports
						// its timeout, with this error as the reason.
						<-req.Context().Done()
						return resp, err
					}
					break
				}
			}
			if refused >= attempts || (t.Outage != nil && t.Outage.isHopeless()) {
				if t.Outage != nil {
					t.Outage.gaveUp()
				}
				return resp, err
			}
			wait = backoff(base, maxWait, refused)
		case err != nil:
			// A cut connection: the server may have acted. Only an idempotent request is sent again.
			tries++
			if tries >= attempts || !safe {
				return resp, err
			}
			wait = backoff(base, maxWait, tries)
		default:
			if t.Outage != nil {
				t.Outage.ok()
			}
			tries++
			if !retryableStatus(resp.StatusCode) {
				if !safe || !bufferable(req, resp) {
					return resp, nil
				}
				// Read the whole answer here, so that a connection cut halfway through it is
				// one more retry, not an error for the caller.
				b, rerr := readAll(resp)
				resp.Body.Close()
				if rerr == nil {
					resp.Body = io.NopCloser(bytes.NewReader(b))
					resp.ContentLength = int64(len(b))
					return resp, nil
				}
				if tries >= attempts {
					return nil, rerr
				}
				wait = backoff(base, maxWait, tries)
				break
			}
			if tries >= attempts {
				return resp, nil
			}
			if !safe && resp.StatusCode != http.StatusTooManyRequests {
				// A 5xx on a create or update may come after the server acted: retrying could
				// create twice or report a conflict with our own write.
				return resp, nil
			}
			wait = backoff(base, maxWait, tries)
			if s := resp.Header.Get("Retry-After"); s != "" {
				if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
					wait = min(time.Duration(secs)*time.Second, maxWait)
				}
			}
			if pastDeadline(req, wait) {
				return resp, nil // the answer we have says more than "deadline exceeded"
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err != nil && pastDeadline(req, wait) {
			return resp, err
		}
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
	}
}

// readAll reads an answer's body in one allocation when its length is known.
func readAll(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= 64<<20 {
		b := make([]byte, n)
		_, err := io.ReadFull(resp.Body, b)
		return b, err
	}
	return io.ReadAll(resp.Body)
}

// bufferable: an ordinary answer, not a stream (watch, followed logs, an upgraded connection).
func bufferable(req *http.Request, resp *http.Response) bool {
	q := req.URL.Query()
	if resp.StatusCode == http.StatusSwitchingProtocols || req.Header.Get("Upgrade") != "" ||
		q.Get("watch") == "true" || q.Get("watch") == "1" || q.Get("follow") == "true" || strings.Contains(req.URL.Path, "/watch/") {
		return false
	}
	return true
}

// pastDeadline: waiting would take the request past its context's deadline.
func pastDeadline(req *http.Request, wait time.Duration) bool {
	dl, ok := req.Context().Deadline()
	return ok && time.Now().Add(wait).After(dl)
}

// notSent tells whether a transport error happened before the request reached the server: the
// connection could not be opened.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

// idempotent requests give the same result when sent twice: reads, deletes, and PATCHes whose
// result does not depend on the object they are applied to (server-side apply, merge patch).
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete:
		return true
	case http.MethodPatch:
		ct := req.Header.Get("Content-Type")
		return strings.HasPrefix(ct, "application/apply-patch") || strings.HasPrefix(ct, "application/merge-patch+json")
	}
	return false
}

func backoff(base, maxWait time.Duration, attempt int) time.Duration {
	d := base << (attempt - 1)
	if d > maxWait || d <= 0 {
		d = maxWait
	}
	// Jitter, so that many clients do not come back at the same instant.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
