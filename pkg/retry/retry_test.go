package retry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetriesBusyAnswersThenSucceeds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Write(b) // echo: the body survived the retries
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: &Transport{Next: http.DefaultTransport, Base: time.Millisecond}}
	req, _ := http.NewRequest(http.MethodPatch, srv.URL, strings.NewReader("spec: {replicas: 3}"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != "spec: {replicas: 3}" || calls.Load() != 3 {
		t.Fatalf("status %d body %q after %d calls", resp.StatusCode, got, calls.Load())
	}
}

func TestNeverRetriesConflictsOrServerErrors(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusConflict, http.StatusNotFound, http.StatusForbidden} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(code)
		}))
		c := &http.Client{Transport: &Transport{Next: http.DefaultTransport, Base: time.Millisecond}}
		resp, err := c.Get(srv.URL)
		srv.Close()
		if err != nil || resp.StatusCode != code || calls.Load() != 1 {
			t.Fatalf("%d: %v, status %v, %d calls (want 1)", code, err, resp.StatusCode, calls.Load())
		}
	}
}

func TestGivesUpAfterAttempts(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := &http.Client{Transport: &Transport{Next: http.DefaultTransport, Attempts: 3, Base: time.Millisecond}}
	resp, err := c.Get(srv.URL)
	if err != nil || resp.StatusCode != 503 || calls.Load() != 3 {
		t.Fatalf("%v, status %d, %d calls (want 3)", err, resp.StatusCode, calls.Load())
	}
}

func TestCreatesAreRetriedOnlyWhenRefused(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway) // may have reached the server: not retried
	}))
	defer srv.Close()
	c := &http.Client{Transport: &Transport{Next: http.DefaultTransport, Base: time.Millisecond}}
	resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil || resp.StatusCode != 502 || calls.Load() != 1 {
		t.Fatalf("POST on 502: %v, status %d, %d calls (want 1)", err, resp.StatusCode, calls.Load())
	}
}

func TestInternalErrorsRetriedOnlyForReads(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodPatch} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
		c := &http.Client{Transport: &Transport{Next: http.DefaultTransport, Base: time.Millisecond}}
		req, _ := http.NewRequest(method, srv.URL, nil)
		resp, err := c.Do(req)
		srv.Close()
		want := int32(2) // a read is tried again
		if method == http.MethodPatch {
			want = 1 // a 500 on apply is an answer (a webhook failed, say), not a lost request
		}
		if err != nil || calls.Load() != want {
			t.Fatalf("%s: %v, status %v, %d calls (want %d)", method, err, resp.StatusCode, calls.Load(), want)
		}
	}
}

func TestCutConnectionsRetriedForIdempotentRequests(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close() // cut before answering
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	tr := &http.Transport{DisableKeepAlives: true}
	c := &http.Client{Transport: &Transport{Next: tr, Base: time.Millisecond}}
	req, _ := http.NewRequest(http.MethodPatch, srv.URL, strings.NewReader("a: 1"))
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 200 || calls.Load() != 2 {
		t.Fatalf("PATCH after a cut: %v, %d calls", err, calls.Load())
	}
	calls.Store(0)
	post, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	if _, err := c.Do(post); err == nil || calls.Load() != 1 {
		t.Fatalf("a POST whose connection was cut must not be sent again: %v, %d calls", err, calls.Load())
	}
}
