// Package faultproxy is an HTTP proxy for tests that sits between the plugin and the local API
// server and misbehaves on purpose: a share of requests answered 500/503/429 (with Retry-After),
// added latency, connections reset mid-response, watch streams cut, and "down for a while".
// It listens on loopback only, with TLS (clients do not send bearer tokens over plain HTTP).
package faultproxy

import (
	"context"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Faults says how often each misbehaviour happens (shares between 0 and 1).
type Faults struct {
	Error5xx   float64       // answer 500 or 503 without forwarding
	TooMany    float64       // answer 429 with Retry-After: 1
	Reset      float64       // forward, then reset the connection before the response
	Latency    time.Duration // added to every request
	CutWatchAt time.Duration // close watch streams after this long (0: never)
}

// Proxy forwards to an API server, injecting faults.
type Proxy struct {
	URL    string // https://127.0.0.1:port (self-signed: use insecure-skip-tls-verify)
	srv    *httptest.Server
	mu     sync.Mutex
	faults Faults
	downTo time.Time
	rng    *rand.Rand
	// Counts of what was injected.
	Injected5xx, Injected429, InjectedResets, Forwarded atomic.Int64
}

// Start listens on a free loopback port and forwards to target (the API server, TLS not
// verified: loopback test cluster).
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback test cluster
	rp.FlushInterval = -1                                                                  // stream watches
	p := &Proxy{rng: rand.New(rand.NewPCG(1, 2))}
	p.srv = httptest.NewUnstartedServer(p.handler(rp))
	p.srv.StartTLS()
	p.URL = p.srv.URL
	return p, nil
}

// Set changes the faults.
func (p *Proxy) Set(f Faults) { p.mu.Lock(); p.faults = f; p.mu.Unlock() }

// Down makes the proxy refuse every request for d.
func (p *Proxy) Down(d time.Duration) { p.mu.Lock(); p.downTo = time.Now().Add(d); p.mu.Unlock() }

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.CloseClientConnections(); p.srv.Close() }

func (p *Proxy) roll() (f Faults, r float64, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults, p.rng.Float64(), time.Now().Before(p.downTo)
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, x, down := p.roll()
		if down {
			hijackAndClose(w)
			return
		}
		if f.Latency > 0 {
			time.Sleep(f.Latency)
		}
		watch := r.URL.Query().Get("watch") == "true" || strings.Contains(r.URL.Path, "/watch/")
		switch {
		case x < f.Error5xx:
			p.Injected5xx.Add(1)
			code := http.StatusServiceUnavailable
			if x < f.Error5xx/2 {
				code = http.StatusInternalServerError
			}
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected","code":`+strconv.Itoa(code)+`}`, code)
			return
		case x < f.Error5xx+f.TooMany:
			p.Injected429.Add(1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected throttling","reason":"TooManyRequests","code":429}`, http.StatusTooManyRequests)
			return
		case x < f.Error5xx+f.TooMany+f.Reset && !watch:
			p.InjectedResets.Add(1)
			// The server acts on the request; the client never hears the answer.
			rec := &discard{header: http.Header{}}
			next.ServeHTTP(rec, r)
			hijackAndClose(w)
			return
		}
		p.Forwarded.Add(1)
		if watch && f.CutWatchAt > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), f.CutWatchAt)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			c.Close()
			return
		}
	}
	w.WriteHeader(http.StatusBadGateway)
}

type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return io.Discard.Write(b) }
func (d *discard) WriteHeader(int)             {}
