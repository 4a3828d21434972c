package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// fakeClock is a clock the test moves forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// breakerSeries gathers m and returns the breaker state per host and how many
// sequenceflow_breaker_requests_total series each host has.
func breakerSeries(t *testing.T, m *telemetry.Metrics) (states map[string]float64, requests map[string]int) {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	states, requests = map[string]float64{}, map[string]int{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			host := ""
			for _, l := range metric.GetLabel() {
				if l.GetName() == "host" {
					host = l.GetValue()
				}
			}
			switch f.GetName() {
			case "sequenceflow_breaker_state":
				states[host] = metric.GetGauge().GetValue()
			case "sequenceflow_breaker_requests_total":
				requests[host]++
			}
		}
	}
	return states, requests
}

// An open breaker reads half-open at scrape time once its open timeout has passed, with no
// request in between; a host with no request for the idle expiry loses all its series.
func TestBreakerStateIsReadAtScrapeTimeAndIdleHostsExpire(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	m := telemetry.NewMetrics()
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Breaker: m.ObserveBreakers(outbound.BreakerConfig{
		Failures: 1, OpenTimeout: 2 * time.Second, IdleExpiry: 10 * time.Minute, Now: clock.Now})})
	defer c.CloseIdle()
	m.Registry.MustRegister(m.NewBreakerCollector(c))
	host := srv.Listener.Addr().String()

	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL, nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("call: %v %v, want the 502 passed through", resp, err)
	}
	states, _ := breakerSeries(t, m)
	if states[host] != 2 {
		t.Fatalf("breaker state right after the failure = %v, want 2 (open); all: %v", states[host], states)
	}

	deadline := time.Now().Add(10 * time.Second)
	for states[host] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("breaker still reads %v 10s after its 2s open timeout, want 1 (half-open)", states[host])
		}
		time.Sleep(10 * time.Millisecond)
		states, _ = breakerSeries(t, m)
	}

	clock.Advance(9 * time.Minute)
	if states, requests := breakerSeries(t, m); len(states) != 1 || requests[host] == 0 {
		t.Fatalf("after 9 idle minutes: states %v, requests %v; want the host kept", states, requests)
	}
	clock.Advance(time.Minute)
	if states, requests := breakerSeries(t, m); len(states) != 0 || len(requests) != 0 {
		t.Fatalf("after 10 idle minutes: states %v, requests %v; want the host's series gone", states, requests)
	}
	if n := len(c.BreakerStates()); n != 0 {
		t.Fatalf("%d breakers kept after the idle expiry, want 0", n)
	}
}
