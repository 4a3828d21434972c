package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/outbound/outboundtest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// A host's breaker opens after the configured consecutive failures, fails fast while open
// (the endpoint sees no request), and closes again once a probe succeeds.
func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	var mu sync.Mutex
	var states []string
	outcomes := map[string]int{}
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Breaker: outbound.BreakerConfig{
		Failures: 3, OpenTimeout: 200 * time.Millisecond,
		OnStateChange: func(_, s string) { mu.Lock(); states = append(states, s); mu.Unlock() },
		OnOutcome:     func(_, o string) { mu.Lock(); outcomes[o]++; mu.Unlock() },
	}})
	call := func() (int, error) {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		return resp.StatusCode, nil
	}

	for i := range 3 {
		if code, err := call(); err != nil || code != 500 {
			t.Fatalf("failure %d: %d %v, want the 500 passed through", i, code, err)
		}
	}
	before := hits.Load()
	_, err := call()
	if !outbound.IsBreakerOpen(err) {
		t.Fatalf("4th call: %v, want the breaker open", err)
	}
	if hits.Load() != before {
		t.Fatalf("an open breaker still called the endpoint (hits %d → %d)", before, hits.Load())
	}

	healthy.Store(true)
	deadline := time.Now().Add(testenv.Scaled(5 * time.Second))
	for {
		code, err := call()
		if err == nil && code == 200 {
			break
		}
		if !outbound.IsBreakerOpen(err) || time.Now().After(deadline) {
			t.Fatalf("while recovering: %d %v", code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, err := call(); err != nil || code != 200 {
		t.Fatalf("after recovery: %d %v, want the breaker closed", code, err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"closed", "open", "half-open", "closed"}
	if len(states) != len(want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("states %v, want %v", states, want)
		}
	}
	if outcomes["failure"] != 3 || outcomes["rejected"] < 1 || outcomes["success"] < 2 {
		t.Fatalf("outcomes %v", outcomes)
	}
}

// A caller's cancellation does not count against the target.
func TestBreakerIgnoresCancellation(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Breaker: outbound.BreakerConfig{Failures: 1}})
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
		if _, err := c.Do(req); outbound.IsBreakerOpen(err) {
			t.Fatal("cancelled requests opened the breaker")
		}
	}
}

// anyHost resolves every name to loopback, so one local server can be many hosts.
type anyHost struct{}

func (anyHost) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// seriesMirror keeps the host label values the breaker callbacks have created and not deleted,
// as the Prometheus wiring does.
type seriesMirror struct {
	mu      sync.Mutex
	hosts   map[string]bool
	most    int
	evicted []string
}

func (m *seriesMirror) config(maxHosts int) outbound.BreakerConfig {
	m.hosts = map[string]bool{}
	add := func(host string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.hosts[host] = true
		m.most = max(m.most, len(m.hosts))
	}
	return outbound.BreakerConfig{MaxHosts: maxHosts, Failures: 1,
		OnStateChange: func(host, _ string) { add(host) },
		OnOutcome:     func(host, _ string) { add(host) },
		OnEvict: func(host string) {
			m.mu.Lock()
			defer m.mu.Unlock()
			delete(m.hosts, host)
			m.evicted = append(m.evicted, host)
		},
	}
}

// Many distinct hosts keep at most MaxHosts breakers and host labels: the least recently used
// idle breaker is dropped for a new host (a host used again is kept), and its series with it.
func TestBreakersAreBoundedPerHost(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	const maxHosts = 4
	var m seriesMirror
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: anyHost{}, Breaker: m.config(maxHosts)})
	defer c.CloseIdle()
	host := func(i int) string { return fmt.Sprintf("h%d.test:%s", i, port) }
	call := func(h string) {
		t.Helper()
		if _, err := send(c, "http://"+h+"/", 10*time.Second); err != nil {
			t.Fatalf("GET %s: %v", h, err)
		}
	}
	for i := range 4 {
		call(host(i))
	}
	call(host(0)) // h0 is now the most recently used; h1 the least
	call(host(4))
	if len(m.evicted) == 0 || m.evicted[0] != host(1) {
		t.Fatalf("evicted %v first, want the least recently used %s", m.evicted, host(1))
	}
	const hosts = 200
	for i := 5; i < hosts; i++ {
		call(host(i))
		if n := c.BreakerHosts(); n > maxHosts {
			t.Fatalf("after %d hosts the client keeps %d breakers, want at most %d", i+1, n, maxHosts)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.most > maxHosts+1 || len(m.hosts) != maxHosts || len(m.evicted) != hosts-maxHosts {
		t.Fatalf("%d hosts: at most %d label values at once (want ≤ %d), %d now (want %d), %d evicted (want %d)",
			hosts, m.most, maxHosts+1, len(m.hosts), maxHosts, len(m.evicted), hosts-maxHosts)
	}
	for i := hosts - maxHosts; i < hosts; i++ {
		if !m.hosts[host(i)] {
			t.Fatalf("labels %v lack the recent host %s", m.hosts, host(i))
		}
	}
}

// While every kept breaker has a request in flight, a new host's request is sent without a
// breaker of its own and reported under the host "other"; the map does not grow.
func TestBreakerOverflowIsReportedAsOther(t *testing.T) {
	t.Parallel()
	hang := outboundtest.NewHostile(t, outboundtest.Hang)
	ok := outboundtest.NewHostile(t, outboundtest.Status(http.StatusOK))
	_, hangPort, _ := net.SplitHostPort(strings.TrimPrefix(hang.URL, "http://"))
	var m seriesMirror
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: anyHost{}, Breaker: m.config(2)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, h := range []string{"a.test", "b.test"} {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+h+":"+hangPort+"/", nil)
			_, _ = c.Do(req)
		})
	}
	testenv.WaitFor(t, 10*time.Second, "both hanging requests to arrive", func() bool { return len(hang.Requests()) == 2 })
	if _, err := send(c, ok.URL, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := c.BreakerHosts(); n != 2 {
		t.Fatalf("the client keeps %d breakers, want 2", n)
	}
	m.mu.Lock()
	if !m.hosts[outbound.OtherHost] || m.hosts[strings.TrimPrefix(ok.URL, "http://")] || len(m.hosts) != 3 {
		t.Fatalf("labels %v, want the two kept hosts and %q", m.hosts, outbound.OtherHost)
	}
	m.mu.Unlock()
	cancel()
	wg.Wait()
	closeAndCheckConns(t, c, hang, ok)
}

// Requests the target never saw because of the caller do not count against its breaker: a
// header value that templating filled with CR/LF or NUL, a name that is not a token, an
// address the SSRF guard refuses.
func TestBreakerIgnoresRequestsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	var failures atomic.Int32
	cfg := outbound.BreakerConfig{Failures: 1, OnOutcome: func(_, o string) {
		if o == "failure" {
			failures.Add(1)
		}
	}}
	open := outbound.NewClient(outbound.Config{AllowPrivate: true, Breaker: cfg})
	strict := outbound.NewClient(outbound.Config{Breaker: cfg})
	defer open.CloseIdle()
	for _, header := range [][2]string{{"X-Name", "a\r\nInjected: 1"}, {"X-Name", "nul\x00"}, {"X-Name", "lf\n"}, {"Bad Name", "plain-value"}} {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL, strings.NewReader("body"))
		req.Header[header[0]] = []string{header[1]}
		_, err := open.Do(req)
		var invalid *outbound.InvalidHeaderError
		if !errors.As(err, &invalid) || invalid.Name != header[0] || strings.Contains(err.Error(), header[1]) {
			t.Fatalf("header %q: %v, want an InvalidHeaderError naming it and not quoting its value", header[0], err)
		}
	}
	for range 2 {
		if err := get(strict, srv.URL); !outbound.IsBlocked(err) {
			t.Fatalf("strict client: %v, want refused", err)
		}
	}
	if err := get(open, srv.URL); err != nil {
		t.Fatalf("a valid request after the refused ones: %v, want the breaker still closed", err)
	}
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d breaker failures, want 0", n)
	}
}
