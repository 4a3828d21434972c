package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

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

// A final failure and a retry are one log line each, naming the trace, run, workflow, node
// and task with the error; a success writes none, and the task's input never appears.
func TestTaskFailureLogLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(&buf, nil)})
	tp := sdktrace.NewTracerProvider()
	obs := telemetry.NewObserver(tp, propagation.TraceContext{}, telemetry.NewMetrics(), log)
	ctx, span := tp.Tracer("test").Start(context.Background(), "task apiCall")
	defer span.End()
	c := engine.Claim{TaskID: "t-1", RunID: "r-1", WorkflowID: "w-1", NodeID: "call", NodeType: "apiCall", Attempt: 2,
		Input: []byte(`{"password":"input-never-logged"}`)}
	obs.TaskExecuted(ctx, c, engine.Execution{Outcome: engine.OutcomeCompleted})
	obs.TaskExecuted(ctx, c, engine.Execution{Outcome: engine.OutcomeRetry, Reason: "http_5xx", Error: "unexpected status 503", RetryIn: 1500 * time.Millisecond})
	obs.TaskExecuted(ctx, c, engine.Execution{Outcome: engine.OutcomeFailed, Reason: "http_5xx", Error: "unexpected status 503 (after 2 attempts)"})
	if strings.Contains(buf.String(), "input-never-logged") {
		t.Fatal("the task's input reached the log")
	}
	var got []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		delete(rec, "time")
		got = append(got, rec)
	}
	sc := span.SpanContext()
	base := func(level, msg, errText string, extra map[string]any) map[string]any {
		m := map[string]any{"level": level, "msg": msg, "trace_id": sc.TraceID().String(), "span_id": sc.SpanID().String(),
			"run.id": "r-1", "workflow.id": "w-1", "node.id": "call", "node.type": "apiCall", "task.id": "t-1",
			"attempt": float64(2), "reason": "http_5xx", "error": errText}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	want := []map[string]any{
		base("WARN", "task attempt failed; retrying", "unexpected status 503", map[string]any{"outcome": "retry", "retry_in": "1.5s"}),
		base("ERROR", "task failed", "unexpected status 503 (after 2 attempts)", map[string]any{"outcome": "failed"}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

// A reconciler recovery is counted by cause and logged in the trace of the span that released
// the task; passes are counted by result.
func TestRecoveryIsCountedByCauseAndLogged(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(&buf, nil)})
	m := telemetry.NewMetrics()
	obs := telemetry.NewObserver(sdktrace.NewTracerProvider(), propagation.TraceContext{}, m, log)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	obs.Recovered(context.Background(), engine.Recovery{Cause: engine.RecoveryWaiting, DueTask: engine.DueTask{
		TaskRef:    engine.TaskRef{TaskID: "t-1", RunID: "r-1", Kind: engine.KindWake, NodeType: "delay", TraceContext: "00-" + traceID + "-00f067aa0ba902b7-01"},
		WorkflowID: "w-1", NodeID: "wait", Status: "waiting"}})
	obs.ReconcilerPass(context.Background(), 1, nil, time.Millisecond)
	obs.ReconcilerPass(context.Background(), 0, errors.New("connection refused"), time.Millisecond)

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON line, got %q: %v", buf.String(), err)
	}
	for k, v := range map[string]string{"msg": "reconciler re-enqueued a task", "trace_id": traceID, "run.id": "r-1", "workflow.id": "w-1",
		"node.id": "wait", "node.type": "delay", "task.id": "t-1", "cause": "waiting"} {
		if line[k] != v {
			t.Errorf("recovery line: %s = %v, want %q", k, line[k], v)
		}
	}
	// Every cause and result has a series from the start (dashboards read 0, not "No data").
	if got := telemetrytest.Series(t, m.Registry, "sequenceflow_reconciler_recovered_total", "cause"); !cmp.Equal(got, []string{"lost_worker", "queued", "stale", "waiting"}) {
		t.Errorf("recovered series %v", got)
	}
	values := map[string]float64{}
	families, _ := m.Registry.Gather()
	for _, f := range families {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				values[f.GetName()+" "+l.GetValue()] = s.GetCounter().GetValue()
			}
			if f.GetName() == "sequenceflow_reconciler_pass_duration_seconds" {
				values[f.GetName()] = float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	for key, want := range map[string]float64{"sequenceflow_reconciler_recovered_total waiting": 1, "sequenceflow_reconciler_recovered_total queued": 0,
		"sequenceflow_reconciler_passes_total ok": 1, "sequenceflow_reconciler_passes_total error": 1, "sequenceflow_reconciler_pass_duration_seconds": 2} {
		if values[key] != want {
			t.Errorf("%s = %v, want %v", key, values[key], want)
		}
	}
}

// A retry's or re-run's run.start span links to the original run's run.start span (its stored
// traceparent) with link.kind origin, and stays in its own trace; an invalid traceparent adds
// no link.
func TestRerunLinksToTheOriginalRun(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	obs := telemetry.NewObserver(tp, propagation.TraceContext{}, telemetry.NewMetrics(), nil)

	ctx, end := obs.RunStarting(context.Background(), "wf-1")
	original := obs.TraceParent(ctx)
	end("run-1", nil)

	ctx, end = obs.RunStarting(context.Background(), "wf-1")
	obs.LinkRun(ctx, original, engine.OriginRetry)
	obs.LinkRun(ctx, "00-not-a-traceparent", engine.OriginRetry)
	end("run-2", nil)

	ended := spans.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans, want 2", len(ended))
	}
	first, second := ended[0], ended[1]
	if first.SpanContext().TraceID() == second.SpanContext().TraceID() {
		t.Error("the retry's run.start is in the original's trace, want its own")
	}
	links := second.Links()
	if len(links) != 1 {
		t.Fatalf("%d links, want 1", len(links))
	}
	if links[0].SpanContext.TraceID() != first.SpanContext().TraceID() || links[0].SpanContext.SpanID() != first.SpanContext().SpanID() {
		t.Errorf("link to %v, want the original's run.start %v", links[0].SpanContext, first.SpanContext())
	}
	got := map[string]string{}
	for _, kv := range links[0].Attributes {
		got[string(kv.Key)] = kv.Value.String()
	}
	if diff := cmp.Diff(map[string]string{"link.kind": "origin", "run.origin": "retry"}, got); diff != "" {
		t.Errorf("link attributes (-want +got):\n%s", diff)
	}
}
