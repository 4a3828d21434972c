package outbound_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
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
	deadline := time.Now().Add(5 * time.Second)
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
