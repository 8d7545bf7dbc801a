package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	req.Header.Set("Content-Type", applyPatch)
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

func TestInternalErrorsRetriedOnlyForIdempotentRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, contentType string
		want                int32
	}{
		{http.MethodGet, "", 2},
		{http.MethodPatch, applyPatch, 2}, // the same apply sent twice is the same apply
		{http.MethodPatch, "application/json-patch+json", 1},
		{http.MethodPost, "application/json", 1},
		{http.MethodPut, "application/json", 1},
	} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
		c := &http.Client{Transport: &Transport{Next: http.DefaultTransport, Base: time.Millisecond}}
		req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader("{}"))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		resp, err := c.Do(req)
		srv.Close()
		if err != nil || calls.Load() != tc.want {
			t.Fatalf("%s %s: %v, status %v, %d calls (want %d)", tc.method, tc.contentType, err, resp.StatusCode, calls.Load(), tc.want)
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
	req.Header.Set("Content-Type", applyPatch)
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

const applyPatch = "application/apply-patch+yaml"

// listenAgain serves h on addr, once addr is free again.
func listenAgain(t *testing.T, addr string, h http.Handler) *http.Server {
	t.Helper()
	for i := 0; ; i++ {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			srv := &http.Server{Handler: h}
			go srv.Serve(l)
			return srv
		}
		if i > 100 {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A server that answered, then refused connections for a while (restarting): a create sent
// during the outage is sent again once it is back, and the user is told of both moments.
func TestOutageRiddenOutOnceTheServerAnswered(t *testing.T) {
	t.Parallel()
	var posts atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	first := &http.Server{Handler: h}
	go first.Serve(l)
	var mu sync.Mutex
	var told []string
	o := &Outage{Budget: 10 * time.Second, Notify: func(m string) { mu.Lock(); told = append(told, m); mu.Unlock() }}
	c := &http.Client{Transport: &Transport{Next: &http.Transport{DisableKeepAlives: true}, Base: 20 * time.Millisecond, Max: 100 * time.Millisecond, Outage: o}}
	if resp, err := c.Get("http://" + addr); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request: %v", err)
	}
	first.Close() // down
	second := make(chan *http.Server, 1)
	go func() { time.Sleep(700 * time.Millisecond); second <- listenAgain(t, addr, h) }()
	resp, err := c.Post("http://"+addr, "application/json", strings.NewReader("{}"))
	if err != nil || resp.StatusCode != 200 || posts.Load() != 1 {
		t.Fatalf("POST across the outage: %v, %d posts", err, posts.Load())
	}
	(<-second).Close()
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 2 || !strings.Contains(told[0], "unreachable (connection refused); retrying for up to 10s") || !strings.Contains(told[1], "answering again after") {
		t.Fatalf("told: %q", told)
	}
}

// refusing is a round tripper whose connections are all refused; it counts the attempts.
type refusing struct{ calls atomic.Int32 }

func (r *refusing) RoundTrip(*http.Request) (*http.Response, error) {
	r.calls.Add(1)
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

// A server that never answered is a wrong address far more often than a restart: a request
// gives up after its few attempts, and the next request of the process does not try again.
func TestNeverAnsweredFailsAfterAttempts(t *testing.T) {
	t.Parallel()
	next := &refusing{}
	o := &Outage{Budget: time.Hour}
	c := &http.Client{Transport: &Transport{Next: next, Attempts: 3, Base: time.Millisecond, Outage: o}}
	if _, err := c.Get("http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "connection refused") || next.calls.Load() != 3 {
		t.Fatalf("want connection refused after 3 attempts, got %v after %d", err, next.calls.Load())
	}
	if _, err := c.Get("http://127.0.0.1:1"); err == nil || next.calls.Load() != 4 {
		t.Fatalf("the second request should give up at once: %v, %d attempts in all", err, next.calls.Load())
	}
}

// Retries never outlive the request's deadline.
func TestRetriesStopAtTheDeadline(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := &http.Client{Transport: &Transport{Next: http.DefaultTransport, Attempts: 10, Max: time.Minute}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || calls.Load() != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("want the 429 itself after 1 call, got %v after %d calls", err, calls.Load())
	}
}

func TestTransient(t *testing.T) {
	t.Parallel()
	gr := schema.GroupResource{Resource: "secrets"}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{apierrors.NewConflict(gr, "x", errors.New("changed")), false},
		{apierrors.NewForbidden(gr, "x", errors.New("no")), false},
		{apierrors.NewNotFound(gr, "x"), false},
		{apierrors.NewAlreadyExists(gr, "x"), false},
		{apierrors.NewTooManyRequests("busy", 1), true},
		{apierrors.NewInternalError(errors.New("etcd")), true},
		{apierrors.NewServiceUnavailable("starting"), true},
		{apierrors.NewTimeoutError("slow", 1), true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{io.ErrUnexpectedEOF, true},
		{errors.New("invalid value"), false},
		{nil, false},
	} {
		if got := Transient(tc.err); got != tc.want {
			t.Errorf("Transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// An answer cut halfway through its body is read again, for idempotent requests; a watch is
// handed over as a stream.
func TestAnswerCutHalfwayRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 && r.URL.Query().Get("watch") == "" {
			w.Header().Set("Content-Length", "20")
			w.Write([]byte(`{"kind":`))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		w.Write([]byte(`{"kind":"ConfigMap"}`))
	}))
	defer srv.Close()
	c := &http.Client{Transport: &Transport{Next: &http.Transport{DisableKeepAlives: true}, Base: time.Millisecond}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != `{"kind":"ConfigMap"}` || calls.Load() != 2 {
		t.Fatalf("body %q, %v after %d calls", b, err, calls.Load())
	}
	calls.Store(0)
	post, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	resp, err = c.Do(post)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
	}
	if err == nil || calls.Load() != 1 {
		t.Fatalf("a POST cut halfway must reach the caller as an error, once: %v, %d calls", err, calls.Load())
	}
}

// The cost of the transport on ordinary answers (read in full here instead of by the caller):
// a 2 KiB object (length known) and a 64 KiB list (streamed), next to the bare transport.
func BenchmarkTransport(b *testing.B) {
	object := []byte(`{"kind":"ConfigMap","data":{"a":"` + strings.Repeat("x", 2000) + `"}}`)
	list := []byte(`{"kind":"List","items":[` + strings.Repeat(`{"a":"0123456789abcdef"},`, 2700) + `{}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/object" {
			w.Header().Set("Content-Length", strconv.Itoa(len(object)))
			w.Write(object)
			return
		}
		w.Write(list)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, path string
		size       int
		rt         http.RoundTripper
	}{
		{"object/bare", "/object", len(object), &http.Transport{}},
		{"object/retry", "/object", len(object), &Transport{Next: &http.Transport{}, Outage: &Outage{}}},
		{"list/bare", "/list", len(list), &http.Transport{}},
		{"list/retry", "/list", len(list), &Transport{Next: &http.Transport{}, Outage: &Outage{}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := &http.Client{Transport: tc.rt}
			b.SetBytes(int64(tc.size))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get(srv.URL + tc.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.ReadAll(resp.Body) // as client-go reads an answer
				resp.Body.Close()
			}
		})
	}
}
