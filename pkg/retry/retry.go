// Package retry is an HTTP round tripper that retries what is safe to retry against a busy or
// flaky API server: idempotent requests (GET, HEAD, PATCH with server-side apply, DELETE)
// answered 429, 502, 503 or 504 or whose connection was cut (reads also on 500), and creates and
// updates answered 429 (refused before the server acted), with Retry-After honoured and jittered
// exponential backoff otherwise. A 409 Conflict is
// never retried: it means someone else changed the object.
package retry

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Transport wraps another round tripper.
type Transport struct {
	Next     http.RoundTripper
	Attempts int           // total attempts (default 5)
	Base     time.Duration // first backoff (default 200ms)
	Max      time.Duration // longest single wait (default 5s)
}

// Wrap is for rest.Config.WrapTransport.
func Wrap(rt http.RoundTripper) http.RoundTripper { return &Transport{Next: rt} }

// retryable statuses: the request was not acted upon (429, 503 from priority and fairness or a
// proxy) or the gateway could not reach the server (502, 504).
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
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
	if req.Body != nil && req.GetBody == nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		body = b
	}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 || body != nil {
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
		resp, err := t.Next.RoundTrip(r)
		if err != nil {
			// A cut connection: an idempotent request is simply sent again.
			if attempt >= attempts || !idempotent(req.Method) || req.Context().Err() != nil {
				return resp, err
			}
			select {
			case <-req.Context().Done():
				return nil, req.Context().Err()
			case <-time.After(backoff(base, maxWait, attempt)):
			}
			continue
		}
		if attempt >= attempts {
			return resp, nil
		}
		if !retryableStatus(resp.StatusCode) && !(resp.StatusCode == http.StatusInternalServerError && idempotent(req.Method) && req.Method != http.MethodPatch) {
			return resp, nil
		}
		if !idempotent(req.Method) && resp.StatusCode != http.StatusTooManyRequests {
			// A gateway error on a create or update may come after the server acted: retrying
			// could create twice or report a conflict with our own write.
			return resp, nil
		}
		wait := backoff(base, maxWait, attempt)
		if s := resp.Header.Get("Retry-After"); s != "" {
			if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
				wait = min(time.Duration(secs)*time.Second, maxWait)
			}
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
	}
}

// idempotent requests give the same result when sent twice (a server-side apply PATCH too).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPatch, http.MethodDelete:
		return true
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
