package telemetry_test

import (
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// The latency histograms alerts and dashboards read are dense where timeouts sit (1 s to 30 s):
// consecutive bounds at most 5/3 apart, so an interpolated p99 of 6 s calls reads at most
// 7.5 s (a 5 -> 10 s jump read 9.95 s).
func TestLatencyBucketsAreDenseWhereAlertsReadThem(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	m.TaskDuration.WithLabelValues("apiCall", "completed").Observe(6)
	m.SchedulingDelay.WithLabelValues("apiCall").Observe(6)
	m.RunDuration.WithLabelValues("", "succeeded").Observe(6)
	m.HTTPDuration.WithLabelValues("GET", "/", "200").Observe(6)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			h := metric.GetHistogram()
			if h == nil {
				continue
			}
			seen++
			prev := 0.0
			for _, b := range h.GetBucket() {
				ub := b.GetUpperBound()
				if prev >= 1 && ub <= 30 && ub/prev > 5.0/3+1e-9 {
					t.Errorf("%s: buckets jump from %gs to %gs (x%.2f), want at most x5/3 between 1s and 30s", f.GetName(), prev, ub, ub/prev)
				}
				prev = ub
			}
		}
	}
	if seen < 4 {
		t.Fatalf("found %d latency histograms, want 4", seen)
	}
}
