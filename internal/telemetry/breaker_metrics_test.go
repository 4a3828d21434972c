package telemetry_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// loopbackResolver resolves every name to loopback, so one local server is many hosts.
type loopbackResolver struct{}

func (loopbackResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// Calls to many distinct hosts leave at most MaxHosts+1 host label values in the breaker
// metrics: a host whose breaker is dropped loses its series.
func TestBreakerSeriesAreBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "fail") {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	const maxHosts, hosts = 8, 300
	m := telemetry.NewMetrics()
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: loopbackResolver{},
		Breaker: m.ObserveBreakers(outbound.BreakerConfig{MaxHosts: maxHosts, Failures: 1})})
	defer c.CloseIdle()
	m.Registry.MustRegister(m.NewBreakerCollector(c))
	for i := range hosts {
		kind := "ok"
		if i%3 == 0 {
			kind = "fail" // opens its breaker: state and failure series too
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s%d.test:%s/", kind, i, port), nil)
		if _, err := c.Do(req); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range families {
		if f.GetName() != "sequenceflow_breaker_state" && f.GetName() != "sequenceflow_breaker_requests_total" {
			continue
		}
		seen++
		labels := map[string]bool{}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "host" {
					labels[l.GetValue()] = true
				}
			}
		}
		if len(labels) > maxHosts+1 || len(labels) < maxHosts {
			t.Errorf("%s has %d host label values after %d hosts, want %d to %d", f.GetName(), len(labels), hosts, maxHosts, maxHosts+1)
		}
		if len(f.GetMetric()) > 3*(maxHosts+1) {
			t.Errorf("%s has %d series after %d hosts", f.GetName(), len(f.GetMetric()), hosts)
		}
	}
	if seen != 2 {
		t.Fatalf("found %d of the 2 breaker families", seen)
	}
}
