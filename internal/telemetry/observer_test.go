package telemetry_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/telemetry/telemetrytest"
)

// A redelivery is counted by node type and cause, and the task's span records the lost
// attempt as an event: which attempt, which worker held it and how the loss was detected.
func TestRedeliveryIsAnEventOnTheTaskSpan(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	obs := telemetry.NewObserver(tp, propagation.TraceContext{}, m, nil)

	ctx, span := tp.Tracer("test").Start(context.Background(), "task apiCall")
	obs.Redelivered(ctx, engine.Redelivery{NodeType: "apiCall", Cause: engine.CauseLost,
		Detail: "the worker executing it stopped or lost its lease", Attempt: 2, Redeliveries: 1, PreviousWorker: "host-1-42-ab"})
	span.End()

	ended := spans.Ended()
	if len(ended) != 1 || len(ended[0].Events()) != 1 {
		t.Fatalf("want one span with one event, got %d spans", len(ended))
	}
	ev := ended[0].Events()[0]
	got := map[string]string{"name": ev.Name}
	for _, kv := range ev.Attributes {
		got[string(kv.Key)] = kv.Value.String()
	}
	want := map[string]string{
		"name":                       "task.redelivered",
		"redelivery.cause":           "lost",
		"redelivery.detail":          "the worker executing it stopped or lost its lease",
		"redelivery.previous_worker": "host-1-42-ab",
		"task.attempt":               "2",
		"task.redeliveries":          "1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("redelivery event (-want +got):\n%s", diff)
	}
	if series := telemetrytest.Series(t, m.Registry, "sequenceflow_task_redeliveries_total", "node_type", "cause"); !cmp.Equal(series, []string{"apiCall lost"}) {
		t.Errorf("redelivery series %v, want [apiCall lost]", series)
	}
}
