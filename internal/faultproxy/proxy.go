// Package faultproxy is an HTTP proxy for tests that sits between the plugin and the local API
// server and misbehaves on purpose: a share of requests answered 500/503/429 (with Retry-After),
// added latency, connections reset after the server acted, watch streams cut, "down for N
// seconds" (the port refuses connections, as a restarting API server's does), and requests held
// at a chosen point so that a test can kill the client exactly there.
// It listens on loopback only, with TLS (clients do not send bearer tokens over plain HTTP).
package faultproxy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
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
	Reset      float64       // forward, then reset the connection before the response or halfway through it
	Latency    time.Duration // added to every request
	CutWatchAt time.Duration // close watch streams after this long (0: never)
	// ExpireWatchEvery N: every Nth watch is answered at once with a 410 Expired event ("too
	// old resource version"), as after an etcd compaction (0: none).
	ExpireWatchEvery int
	// Unavailable, if set, answers 503 to every request it matches, without forwarding (an
	// outage of one kind of request: lock renewals, for example).
	Unavailable func(r *http.Request) bool
}

// Proxy forwards to an API server, injecting faults.
type Proxy struct {
	URL  string // https://127.0.0.1:port (self-signed: use insecure-skip-tls-verify)
	addr string
	srv  *http.Server
	tls  *tls.Config

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	faults Faults
	rng    *mrand.Rand
	holds  []*Held
	// watches counts watch requests (for ExpireWatchEvery).
	watches atomic.Int64

	// Counts of what was injected.
	Injected5xx, Injected429, InjectedResets, WatchCuts, ExpiredWatches, Forwarded atomic.Int64
	// Writes counts the requests forwarded that may change something (neither GET nor HEAD).
	Writes atomic.Int64
}

// Start listens on a free loopback port and forwards to target (the API server, TLS not
// verified: loopback test cluster).
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	cert, err := selfSigned()
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback test cluster
	rp.FlushInterval = -1                                                                  // stream watches
	rp.ErrorLog = log.New(io.Discard, "", 0)                                               // cut and held requests are the point, not news
	p := &Proxy{rng: mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 2)), conns: map[net.Conn]bool{},
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}}
	p.srv = &http.Server{Handler: p.handler(rp), ConnState: p.track, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.URL = "https://" + p.addr
	p.serve(ln)
	return p, nil
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() { _ = p.srv.Serve(tls.NewListener(ln, p.tls)) }()
}

func (p *Proxy) track(c net.Conn, s http.ConnState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch s {
	case http.StateNew:
		p.conns[c] = true
	case http.StateClosed, http.StateHijacked:
		delete(p.conns, c)
	}
}

// Set changes the faults.
func (p *Proxy) Set(f Faults) { p.mu.Lock(); p.faults = f; p.mu.Unlock() }

// Down stops the proxy for d as a restarting API server stops: open connections are reset and
// new ones refused; then it listens again on the same port. It returns at once.
func (p *Proxy) Down(d time.Duration) {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	if ln == nil {
		return // already down
	}
	_ = ln.Close()
	for _, c := range conns {
		reset(c)
	}
	time.AfterFunc(d, func() {
		for {
			ln, err := net.Listen("tcp", p.addr)
			if err == nil {
				p.serve(ln)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// IsDown tells whether the proxy refuses connections now.
func (p *Proxy) IsDown() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.ln == nil }

// Close stops the proxy.
func (p *Proxy) Close() {
	_ = p.srv.Close()
}

// Held is a request stopped on its way to the API server.
type Held struct {
	match   func(r *http.Request, body []byte) bool
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
	Request string // "METHOD path" of the request held
}

// Arrived is closed when a matching request arrives (and is held).
func (h *Held) Arrived() <-chan struct{} { return h.arrived }

// Release lets the held request go on to the API server (if its client is still there).
func (h *Held) Release() { h.once.Do(func() { close(h.release) }) }

// Hold stops the first request for which match is true (given the request and its body) until
// Release is called.
func (p *Proxy) Hold(match func(r *http.Request, body []byte) bool) *Held {
	h := &Held{match: match, arrived: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	p.holds = append(p.holds, h)
	p.mu.Unlock()
	return h
}

// hold returns the pending hold that matches r, removing it.
func (p *Proxy) hold(r *http.Request) *Held {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.holds) == 0 {
		return nil
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	for i, h := range p.holds {
		if h.match(r, body) {
			p.holds = append(p.holds[:i], p.holds[i+1:]...)
			h.Request = r.Method + " " + r.URL.Path
			return h
		}
	}
	return nil
}

func (p *Proxy) roll() (f Faults, r float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults, p.rng.Float64()
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := p.hold(r); h != nil {
			close(h.arrived)
			select {
			case <-h.release:
			case <-r.Context().Done():
				return // the client is gone: the request never reaches the server
			}
		}
		f, x := p.roll()
		if f.Latency > 0 {
			time.Sleep(f.Latency)
		}
		watch := r.URL.Query().Get("watch") == "true" || strings.Contains(r.URL.Path, "/watch/")
		switch {
		case f.Unavailable != nil && f.Unavailable(r):
			p.Injected5xx.Add(1)
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected unavailability","code":503}`, http.StatusServiceUnavailable)
			return
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
			// The server acts on the request; the client never hears the answer, or hears half.
			rec := &recorder{header: http.Header{}, code: http.StatusOK}
			next.ServeHTTP(rec, r)
			if x < f.Error5xx+f.TooMany+f.Reset/2 || rec.body.Len() < 2 {
				hijackAndReset(w)
				return
			}
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(rec.body.Len()))
			w.WriteHeader(rec.code)
			_, _ = w.Write(rec.body.Bytes()[:rec.body.Len()/2])
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			panic(http.ErrAbortHandler) // the connection is dropped mid-body

		}
		if watch && f.ExpireWatchEvery > 0 && p.watches.Add(1)%int64(f.ExpireWatchEvery) == 0 {
			p.ExpiredWatches.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version","reason":"Expired","code":410}}`+"\n")
			return
		}
		p.Forwarded.Add(1)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			p.Writes.Add(1)
		}
		if watch && f.CutWatchAt > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), f.CutWatchAt)
			defer func() {
				// The reverse proxy aborts the handler (panics) when the stream is cut.
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					p.WatchCuts.Add(1)
				}
				cancel()
			}()
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hijackAndReset(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			reset(c)
			return
		}
	}
	w.WriteHeader(http.StatusBadGateway)
}

// reset closes a connection with RST, not FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// recorder keeps the API server's answer that the client will not (fully) get.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (d *recorder) Header() http.Header         { return d.header }
func (d *recorder) Write(b []byte) (int, error) { return d.body.Write(b) }
func (d *recorder) WriteHeader(code int)        { d.code = code }

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "faultproxy"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
