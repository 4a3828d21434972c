package telemetry_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/telemetry/telemetrytest"
)

// Waits for an event are counted by outcome; the three series of wait nodes exist from the
// start.
func TestWaitEventsCounted(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	series := telemetrytest.Series(t, m.Registry, "sequenceflow_wait_events_total", "node_type", "outcome")
	if want := []string{"wait refused", "wait resumed", "wait timed_out"}; !cmp.Equal(series, want) {
		t.Fatalf("series %v, want %v", series, want)
	}
	obs := telemetry.NewObserver(noop.NewTracerProvider(), propagation.TraceContext{}, m, nil)
	var _ engine.WaitObserver = obs
	obs.WaitEnded(context.Background(), "wait", engine.WaitResumed)
	obs.WaitEnded(context.Background(), "wait", engine.WaitResumed)
	if got := testutil.ToFloat64(m.WaitEvents.WithLabelValues("wait", engine.WaitResumed)); got != 2 {
		t.Fatalf("resumed = %v, want 2", got)
	}
}
