package telemetry_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/outbound/outboundtest"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/telemetry/telemetrytest"
)

const outboundFamily = "sequenceflow_outbound_request_duration_seconds"

// Each outbound request is one observation of sequenceflow_outbound_request_duration_seconds
// under its host and outcome, in the latency buckets of the other duration histograms.
func TestOutboundDurationsPerHostAndOutcome(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: outboundtest.LoopbackResolver{},
		Breaker: m.ObserveBreakers(outbound.BreakerConfig{Failures: 1, OpenTimeout: time.Hour})})
	defer c.CloseIdle()
	m.Registry.MustRegister(m.NewBreakerCollector(c))
	hosts := outboundtest.EveryOutcome(t, c)
	m.TaskDuration.WithLabelValues("apiCall", "completed").Observe(1) // its buckets are the latency buckets

	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var latencyBuckets []float64
	for _, f := range families {
		if f.GetName() == "sequenceflow_task_duration_seconds" {
			for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
				latencyBuckets = append(latencyBuckets, b.GetUpperBound())
			}
		}
	}
	got := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != outboundFamily {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			h := metric.GetHistogram()
			got[labels["host"]+" "+labels["outcome"]] = h.GetSampleCount()
			var bounds []float64
			for _, b := range h.GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
			if diff := cmp.Diff(latencyBuckets, bounds); diff != "" {
				t.Errorf("%v buckets (-want +got):\n%s", labels, diff)
			}
		}
	}
	want := map[string]uint64{}
	for outcome, host := range hosts {
		want[host+" "+outcome] = 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s series (-want +got):\n%s", outboundFamily, diff)
	}
	if n := testutil.CollectAndCount(m.NewBreakerCollector(c), outboundFamily); n != len(want) {
		t.Fatalf("collector exports %d %s series, want %d", n, outboundFamily, len(want))
	}
}

// 1,000 distinct hosts leave at most DefaultMaxHosts host values plus "other" in the outbound
// duration and breaker families: a dropped breaker takes its host's series with it.
func TestOutboundSeriesAreBoundedOverManyHosts(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "fail") {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	const hosts = 1000
	m := telemetry.NewMetrics()
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: outboundtest.LoopbackResolver{},
		Breaker: m.ObserveBreakers(outbound.BreakerConfig{Failures: 1})})
	defer c.CloseIdle()
	m.Registry.MustRegister(m.NewBreakerCollector(c))
	host := func(i int) string {
		kind := "ok"
		if i%4 == 0 {
			kind = "fail" // a 502 opens its breaker: an http_5xx series and a failure series
		}
		return fmt.Sprintf("%s%d.test:%s", kind, i, port)
	}
	for i := range hosts {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+host(i)+"/", nil)
		if _, err := c.Do(req); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	for _, family := range []string{outboundFamily, "sequenceflow_breaker_requests_total", "sequenceflow_breaker_state"} {
		values := map[string]bool{}
		series := telemetrytest.Series(t, m.Registry, family, "host")
		for _, h := range series {
			values[h] = true
		}
		if len(values) > outbound.DefaultMaxHosts+1 || len(values) < outbound.DefaultMaxHosts {
			t.Errorf("%s has %d host values after %d hosts, want %d to %d", family, len(values), hosts, outbound.DefaultMaxHosts, outbound.DefaultMaxHosts+1)
		}
		if len(series) > 2*(outbound.DefaultMaxHosts+1) {
			t.Errorf("%s has %d series after %d hosts", family, len(series), hosts)
		}
		if values[host(0)] || !values[host(hosts-1)] {
			t.Errorf("%s: the first host is kept (%v) or the last one is not (%v)", family, values[host(0)], values[host(hosts-1)])
		}
	}
}
