package outbound_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/outbound/outboundtest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// Every test closes its servers and its clients' idle connections, so no goroutine of the
// transport, the servers or the breakers may outlive the package's tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// closeAndCheckConns closes the client's idle connections and waits until no server holds a
// connection open.
func closeAndCheckConns(t *testing.T, c *outbound.Client, servers ...*outboundtest.Hostile) {
	t.Helper()
	c.CloseIdle()
	for _, s := range servers {
		testenv.WaitFor(t, 10*time.Second, "the server's connections to close", func() bool { return s.OpenConns() == 0 })
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
	srv := outboundtest.NewHostile(t, outboundtest.Hang)
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	_, err := send(c, srv.URL, 300*time.Millisecond)
	if !outbound.IsTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a deadline error", err)
	}
	testenv.WaitFor(t, 10*time.Second, "the handler to see the client leave", func() bool { return srv.Abandoned.Load() == 1 })
	closeAndCheckConns(t, c, srv)
}

// A connection reset is an error that is not a timeout; the dead connection is not kept.
func TestHostileResetIsAConnectionError(t *testing.T) {
	t.Parallel()
	srv := outboundtest.NewHostile(t, outboundtest.Reset)
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	for i := range 2 {
		_, err := send(c, srv.URL, 10*time.Second)
		if err == nil || outbound.IsTimeout(err) || outbound.IsBreakerOpen(err) {
			t.Fatalf("call %d: error %v, want a connection error that is not a timeout", i, err)
		}
	}
	if got := srv.Accepted.Load(); got != 2 {
		t.Fatalf("server accepted %d connections for 2 calls, want 2 (a reset connection is never reused)", got)
	}
	closeAndCheckConns(t, c, srv)
}

// An endless body is cut at MaxResponseBytes with ErrResponseTooLarge, not by the deadline,
// and the connection is closed at once rather than returned to the pool.
func TestHostileEndlessBodyIsBounded(t *testing.T) {
	t.Parallel()
	srv := outboundtest.NewHostile(t, outboundtest.Endless(32<<10, 0))
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
		testenv.WaitFor(t, 10*time.Second, "the connection to be closed", func() bool { return srv.OpenConns() == 0 })
	}
	if got := srv.Accepted.Load(); got != 2 {
		t.Fatalf("server accepted %d connections for 2 calls, want 2 (a cut body's connection is never reused)", got)
	}
	testenv.WaitFor(t, 10*time.Second, "both handlers to stop writing", func() bool { return srv.Abandoned.Load() == 2 })
	t.Logf("server wrote %d bytes in all before its writes failed (limit %d per response)", srv.Written.Load(), limit)
	closeAndCheckConns(t, c, srv)
}

// A body that drips forever below the size bound is ended by the request's deadline.
func TestHostileSlowDripEndsAtDeadline(t *testing.T) {
	t.Parallel()
	srv := outboundtest.NewHostile(t, outboundtest.Endless(1, 10*time.Millisecond))
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	_, err := send(c, srv.URL, 300*time.Millisecond)
	if !outbound.IsTimeout(err) || errors.Is(err, outbound.ErrResponseTooLarge) {
		t.Fatalf("error %v, want a deadline error while reading the body", err)
	}
	testenv.WaitFor(t, 10*time.Second, "the handler to stop dripping", func() bool { return srv.Abandoned.Load() == 1 })
	closeAndCheckConns(t, c, srv)
}

// 500 and 429 are answers, not transport errors: they come back as responses with their
// headers (Retry-After) and body, and their connection is reused. CloseIdle then closes the
// kept-alive connections even through the tracing transport, which does not pass
// CloseIdleConnections on.
func TestHostileStatusesAreResponses(t *testing.T) {
	t.Parallel()
	down := outboundtest.NewHostile(t, outboundtest.Status(http.StatusInternalServerError))
	limited := outboundtest.NewHostile(t, outboundtest.Status(http.StatusTooManyRequests, "Retry-After", "2"))
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, TracerProvider: noop.NewTracerProvider()})
	tests := []struct {
		srv        *outboundtest.Hostile
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
		if got := tc.srv.Accepted.Load(); got != 1 {
			t.Fatalf("%d endpoint accepted %d connections for 2 calls, want 1 (kept alive)", tc.code, got)
		}
		if got := tc.srv.OpenConns(); got != 1 {
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
	healthy := outboundtest.NewHostile(t, outboundtest.Status(http.StatusOK))
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
		srv   *outboundtest.Hostile
		trips bool
	}{
		{"hang", outboundtest.NewHostile(t, outboundtest.Hang), true},
		{"reset", outboundtest.NewHostile(t, outboundtest.Reset), true},
		{"500", outboundtest.NewHostile(t, outboundtest.Status(http.StatusInternalServerError)), true},
		{"drip", outboundtest.NewHostile(t, outboundtest.Endless(1, 10*time.Millisecond)), true},
		{"cut mid-body", outboundtest.NewHostile(t, outboundtest.CutMidBody), true},
		{"429", outboundtest.NewHostile(t, outboundtest.Status(http.StatusTooManyRequests, "Retry-After", "2")), false},
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
		before := len(tc.srv.Requests())
		start = time.Now()
		_, err := send(c, tc.srv.URL, 30*time.Second)
		rejected := time.Since(start)
		if tc.trips != outbound.IsBreakerOpen(err) {
			t.Fatalf("%s: call after %d failures: %v, want breaker open = %v", tc.name, failures, err, tc.trips)
		}
		if tc.trips && len(tc.srv.Requests()) != before {
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
	servers := []*outboundtest.Hostile{healthy}
	for _, tc := range tests {
		servers = append(servers, tc.srv)
	}
	closeAndCheckConns(t, c, servers...)
}
