package outbound_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// Every test closes its servers and its clients' idle connections, so no goroutine of the
// transport, the servers or the breakers may outlive the package's tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// hostile is a target that misbehaves in one way. It counts the connections it holds open
// (through http.Server.ConnState, plus hijacked connections until the handler closes them),
// the connections it accepted, the requests it saw and the handlers that ended because the
// client went away.
type hostile struct {
	*httptest.Server
	requests  atomic.Int32
	accepted  atomic.Int32
	abandoned atomic.Int32
	written   atomic.Int64
	release   chan struct{} // closed at cleanup so that no handler outlives the test

	mu   sync.Mutex
	open map[net.Conn]bool
}

type behaviour func(h *hostile, w http.ResponseWriter, r *http.Request)

func newHostile(t *testing.T, behave behaviour) *hostile {
	t.Helper()
	h := &hostile{release: make(chan struct{}), open: map[net.Conn]bool{}}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		behave(h, w, r)
	}))
	h.Config.ConnState = func(c net.Conn, s http.ConnState) {
		h.mu.Lock()
		defer h.mu.Unlock()
		switch s {
		case http.StateNew:
			h.accepted.Add(1)
			h.open[c] = true
		case http.StateClosed:
			delete(h.open, c)
		}
	}
	h.Start()
	t.Cleanup(func() {
		close(h.release)
		h.Close()
	})
	return h
}

// openConns is how many connections the server holds open right now.
func (h *hostile) openConns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.open)
}

// hijackedClosed forgets a connection the handler took over and closed.
func (h *hostile) hijackedClosed(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.open, c)
}

// hang accepts the request and never answers.
func hang(h *hostile, _ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
		h.abandoned.Add(1)
	case <-h.release:
	}
}

// reset drops the connection with a TCP RST (SO_LINGER 0) instead of answering.
func reset(h *hostile, w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	h.hijackedClosed(conn)
}

// cutMidBody sends a 200 with a Content-Length it does not honour, then drops the connection
// half-way through the body.
func cutMidBody(h *hostile, w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"partial\":")
	_ = buf.Flush()
	_ = conn.Close()
	h.hijackedClosed(conn)
}

// status answers with a fixed status, headers and a small JSON body.
func status(code int, header ...string) behaviour {
	return func(_ *hostile, w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":"go away"}`))
	}
}

// endless streams a body that never ends, chunk bytes every pause (no pause: as fast as the
// client reads).
func endless(chunk int, pause time.Duration) behaviour {
	return func(h *hostile, w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		buf := []byte(strings.Repeat("x", chunk))
		w.WriteHeader(http.StatusOK)
		for {
			n, err := w.Write(buf)
			h.written.Add(int64(n))
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				h.abandoned.Add(1)
				return
			}
			if pause > 0 {
				select {
				case <-r.Context().Done():
					h.abandoned.Add(1)
					return
				case <-h.release:
					return
				case <-time.After(pause):
				}
			}
		}
	}
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closeAndCheckConns closes the client's idle connections and waits until no server holds a
// connection open.
func closeAndCheckConns(t *testing.T, c *outbound.Client, servers ...*hostile) {
	t.Helper()
	c.CloseIdle()
	for _, s := range servers {
		eventually(t, "the server's connections to close", func() bool { return s.openConns() == 0 })
	}
}

func send(c *outbound.Client, url string, timeout time.Duration) (*outbound.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// An endpoint that accepts and never answers is cut by the request's deadline; the server sees
// the connection go away and holds nothing open afterwards.
func TestHostileHangEndsAtDeadline(t *testing.T) {
	t.Parallel()
	srv := newHostile(t, hang)
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	_, err := send(c, srv.URL, 300*time.Millisecond)
	if !outbound.IsTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a deadline error", err)
	}
	eventually(t, "the handler to see the client leave", func() bool { return srv.abandoned.Load() == 1 })
	closeAndCheckConns(t, c, srv)
}

// A connection reset is an error that is not a timeout; the dead connection is not kept.
func TestHostileResetIsAConnectionError(t *testing.T) {
	t.Parallel()
	srv := newHostile(t, reset)
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	for i := range 2 {
		_, err := send(c, srv.URL, 10*time.Second)
		if err == nil || outbound.IsTimeout(err) || outbound.IsBreakerOpen(err) {
			t.Fatalf("call %d: error %v, want a connection error that is not a timeout", i, err)
		}
	}
	if got := srv.accepted.Load(); got != 2 {
		t.Fatalf("server accepted %d connections for 2 calls, want 2 (a reset connection is never reused)", got)
	}
	closeAndCheckConns(t, c, srv)
}

// An endless body is cut at MaxResponseBytes with ErrResponseTooLarge, not by the deadline,
// and the connection is closed at once rather than returned to the pool.
func TestHostileEndlessBodyIsBounded(t *testing.T) {
	t.Parallel()
	srv := newHostile(t, endless(32<<10, 0))
	const limit = 64 << 10
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, MaxResponseBytes: limit})
	for i := range 2 {
		start := time.Now()
		_, err := send(c, srv.URL, 30*time.Second)
		if !errors.Is(err, outbound.ErrResponseTooLarge) || outbound.IsTimeout(err) {
			t.Fatalf("call %d: error %v, want ErrResponseTooLarge", i, err)
		}
		t.Logf("call %d: %v after %s", i, err, time.Since(start))
		// Without CloseIdle: the connection must already be gone, not parked in the pool.
		eventually(t, "the connection to be closed", func() bool { return srv.openConns() == 0 })
	}
	if got := srv.accepted.Load(); got != 2 {
		t.Fatalf("server accepted %d connections for 2 calls, want 2 (a cut body's connection is never reused)", got)
	}
	eventually(t, "both handlers to stop writing", func() bool { return srv.abandoned.Load() == 2 })
	t.Logf("server wrote %d bytes in all before its writes failed (limit %d per response)", srv.written.Load(), limit)
	closeAndCheckConns(t, c, srv)
}

// A body that drips forever below the size bound is ended by the request's deadline.
func TestHostileSlowDripEndsAtDeadline(t *testing.T) {
	t.Parallel()
	srv := newHostile(t, endless(1, 10*time.Millisecond))
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	_, err := send(c, srv.URL, 300*time.Millisecond)
	if !outbound.IsTimeout(err) || errors.Is(err, outbound.ErrResponseTooLarge) {
		t.Fatalf("error %v, want a deadline error while reading the body", err)
	}
	eventually(t, "the handler to stop dripping", func() bool { return srv.abandoned.Load() == 1 })
	closeAndCheckConns(t, c, srv)
}

// roundTripperFunc wraps a transport the way the tracing transport does: it forwards requests
// and nothing else (no CloseIdleConnections).
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// 500 and 429 are answers, not transport errors: they come back as responses with their
// headers (Retry-After) and body, and their connection is reused. CloseIdle then closes the
// kept-alive connections even through an instrumenting wrapper.
func TestHostileStatusesAreResponses(t *testing.T) {
	t.Parallel()
	down := newHostile(t, status(http.StatusInternalServerError))
	limited := newHostile(t, status(http.StatusTooManyRequests, "Retry-After", "2"))
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Instrument: func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(next.RoundTrip)
	}})
	tests := []struct {
		srv        *hostile
		code       int
		retryAfter string
	}{
		{down, 500, ""},
		{limited, 429, "2"},
	}
	for _, tc := range tests {
		for range 2 {
			resp, err := send(c, tc.srv.URL, 10*time.Second)
			if err != nil {
				t.Fatalf("%d endpoint: %v, want a response", tc.code, err)
			}
			if resp.StatusCode != tc.code || resp.Header.Get("Retry-After") != tc.retryAfter || string(resp.Body) != `{"error":"go away"}` {
				t.Fatalf("response %d %q %q, want %d with Retry-After %q and the body", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Body, tc.code, tc.retryAfter)
			}
		}
		if got := tc.srv.accepted.Load(); got != 1 {
			t.Fatalf("%d endpoint accepted %d connections for 2 calls, want 1 (kept alive)", tc.code, got)
		}
		if got := tc.srv.openConns(); got != 1 {
			t.Fatalf("%d endpoint holds %d connections before CloseIdle, want the 1 idle one", tc.code, got)
		}
	}
	closeAndCheckConns(t, c, down, limited)
}

// Each hostile host's breaker opens after the configured consecutive failures (timeouts,
// resets, 5xx, a body that stalls or breaks off after a 200) and then fails fast without
// reaching the host, while another host on the same client still works. A 429 is the target
// answering: it never opens the breaker.
func TestHostileHostsOpenTheirOwnBreaker(t *testing.T) {
	t.Parallel()
	const failures = 3
	healthy := newHostile(t, status(http.StatusOK))
	var mu sync.Mutex
	opened := map[string]int{}
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Breaker: outbound.BreakerConfig{
		Failures: failures, OpenTimeout: time.Minute,
		OnStateChange: func(host, state string) {
			if state == "open" {
				mu.Lock()
				opened[host]++
				mu.Unlock()
			}
		},
	}})
	tests := []struct {
		name  string
		srv   *hostile
		trips bool
	}{
		{"hang", newHostile(t, hang), true},
		{"reset", newHostile(t, reset), true},
		{"500", newHostile(t, status(http.StatusInternalServerError)), true},
		{"drip", newHostile(t, endless(1, 10*time.Millisecond)), true},
		{"cut mid-body", newHostile(t, cutMidBody), true},
		{"429", newHostile(t, status(http.StatusTooManyRequests, "Retry-After", "2")), false},
	}
	for _, tc := range tests {
		start := time.Now()
		for i := range failures {
			resp, err := send(c, tc.srv.URL, 300*time.Millisecond)
			if outbound.IsBreakerOpen(err) {
				t.Fatalf("%s: call %d refused by the breaker before %d failures", tc.name, i+1, failures)
			}
			if err == nil && resp.StatusCode < 500 && resp.StatusCode != 429 {
				t.Fatalf("%s: call %d answered %d, want a failure", tc.name, i+1, resp.StatusCode)
			}
		}
		perFailure := time.Since(start) / failures
		before := tc.srv.requests.Load()
		start = time.Now()
		_, err := send(c, tc.srv.URL, 30*time.Second)
		rejected := time.Since(start)
		if tc.trips != outbound.IsBreakerOpen(err) {
			t.Fatalf("%s: call after %d failures: %v, want breaker open = %v", tc.name, failures, err, tc.trips)
		}
		if tc.trips && tc.srv.requests.Load() != before {
			t.Fatalf("%s: the open breaker let a request reach the host", tc.name)
		}
		if tc.trips {
			var open *outbound.BreakerOpenError
			if !errors.As(err, &open) || open.Host != strings.TrimPrefix(tc.srv.URL, "http://") || !strings.Contains(err.Error(), "circuit breaker open") {
				t.Fatalf("%s: error %v, want a BreakerOpenError naming the host", tc.name, err)
			}
			t.Logf("%s: %s per failing call, %s once the breaker is open", tc.name, perFailure, rejected)
		}
		resp, err := send(c, healthy.URL, 10*time.Second)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthy host after %s opened its breaker: %v, want 200", tc.name, err)
		}
	}
	mu.Lock()
	for _, tc := range tests {
		want := 0
		if tc.trips {
			want = 1
		}
		if got := opened[strings.TrimPrefix(tc.srv.URL, "http://")]; got != want {
			t.Errorf("%s: breaker opened %d times, want %d", tc.name, got, want)
		}
	}
	if got := opened[strings.TrimPrefix(healthy.URL, "http://")]; got != 0 {
		t.Errorf("healthy host's breaker opened %d times, want 0", got)
	}
	mu.Unlock()
	servers := []*hostile{healthy}
	for _, tc := range tests {
		servers = append(servers, tc.srv)
	}
	closeAndCheckConns(t, c, servers...)
}
