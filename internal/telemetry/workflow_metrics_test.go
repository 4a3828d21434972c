package telemetry_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/telemetry/telemetrytest"
)

func newObserver(t *testing.T, opts ...telemetry.MetricsOption) (*telemetry.Observer, *telemetry.Metrics, *tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	m := telemetry.NewMetrics(opts...)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	return telemetry.NewObserver(tp, propagation.TraceContext{}, m, nil), m, spans, tp.Tracer("test")
}

// Runs started, finished, their duration, runs with failed nodes and failed nodes carry the
// workflow's name; two workflows give two series each.
func TestRunMetricsCarryTheWorkflow(t *testing.T) {
	t.Parallel()
	obs, m, _, _ := newObserver(t)
	ctx := context.Background()
	orders, invoices := engine.WorkflowRef{ID: "w1", Name: "orders", Version: 3}, engine.WorkflowRef{ID: "w2", Name: "invoices", Version: 1}
	obs.RunStarted(ctx, orders)
	obs.RunStarted(ctx, orders)
	obs.RunStarted(ctx, invoices)
	obs.TasksFinished(ctx, orders, []engine.FinishedTask{{NodeType: "apiCall", Outcome: engine.TaskOutcomeFailedContinued}, {NodeType: "notification", Outcome: engine.TaskOutcomeCompleted}})
	obs.RunFinished(ctx, orders, "succeeded", 1, time.Second)
	obs.TasksFinished(ctx, invoices, []engine.FinishedTask{{NodeType: "apiCall", Outcome: engine.TaskOutcomeFailed}, {NodeType: "notification", Outcome: engine.TaskOutcomeSkipped}})
	obs.RunFinished(ctx, invoices, "failed", 0, time.Second)

	for _, tc := range []struct {
		family string
		labels []string
		want   []string
	}{
		{"sequenceflow_runs_started_total", []string{"workflow"}, []string{"invoices", "orders"}},
		{"sequenceflow_runs_finished_total", []string{"workflow", "status"}, []string{"invoices failed", "orders succeeded"}},
		{"sequenceflow_run_duration_seconds", []string{"workflow", "status"}, []string{"invoices failed", "orders succeeded"}},
		{"sequenceflow_runs_with_failed_nodes_total", []string{"workflow", "status"}, []string{"orders succeeded"}},
		{"sequenceflow_workflow_failed_nodes_total", []string{"workflow", "outcome"}, []string{"invoices failed", "orders failed_continued"}},
	} {
		if diff := cmp.Diff(tc.want, telemetrytest.Series(t, m.Registry, tc.family, tc.labels...)); diff != "" {
			t.Errorf("%s series (-want +got):\n%s", tc.family, diff)
		}
	}
	if got := testutil.ToFloat64(m.RunsStarted.WithLabelValues("orders")); got != 2 {
		t.Errorf("runs started of orders = %v, want 2", got)
	}
}

// 1,000 distinct workflow names, reported from many goroutines at once, make at most the cap
// of series plus one "other" per family; the names beyond the cap are counted, under other.
func TestWorkflowLabelCardinalityIsCapped(t *testing.T) {
	t.Parallel()
	const names, limit = 1000, 100
	obs, m, _, _ := newObserver(t, telemetry.WithWorkflowLabels(limit))
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < names; i += 8 {
				wf := engine.WorkflowRef{Name: fmt.Sprintf("workflow-%04d", i), Version: 1}
				obs.RunStarted(ctx, wf)
				obs.TasksFinished(ctx, wf, []engine.FinishedTask{{NodeType: "apiCall", Outcome: engine.TaskOutcomeFailed}})
				obs.RunFinished(ctx, wf, "failed", 1, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for _, family := range []string{"sequenceflow_runs_started_total", "sequenceflow_runs_finished_total", "sequenceflow_run_duration_seconds",
		"sequenceflow_runs_with_failed_nodes_total", "sequenceflow_workflow_failed_nodes_total"} {
		series := telemetrytest.Series(t, m.Registry, family, "workflow")
		if len(series) != limit+1 {
			t.Errorf("%s has %d series, want the cap %d plus other", family, len(series), limit)
		}
		if !contains(series, telemetry.OtherWorkflow) {
			t.Errorf("%s has no workflow=%q series", family, telemetry.OtherWorkflow)
		}
	}
	var total float64
	for _, s := range telemetrytest.Series(t, m.Registry, "sequenceflow_runs_started_total", "workflow") {
		total += testutil.ToFloat64(m.RunsStarted.WithLabelValues(s))
	}
	if total != names {
		t.Errorf("runs started sum to %v over the series, want every one of the %d runs", total, names)
	}
	if got := testutil.ToFloat64(m.RunsStarted.WithLabelValues(telemetry.OtherWorkflow)); got != names-limit {
		t.Errorf("runs started under other = %v, want %d", got, names-limit)
	}
}

// With METRICS_WORKFLOW_LABELS=0 the dimension is off: one series, workflow="".
func TestWorkflowLabelOff(t *testing.T) {
	t.Parallel()
	obs, m, _, _ := newObserver(t, telemetry.WithWorkflowLabels(0))
	for i := range 10 {
		obs.RunStarted(context.Background(), engine.WorkflowRef{Name: fmt.Sprint("w", i)})
	}
	if diff := cmp.Diff([]string{""}, telemetrytest.Series(t, m.Registry, "sequenceflow_runs_started_total", "workflow")); diff != "" {
		t.Errorf("series with the dimension off (-want +got):\n%s", diff)
	}
}

// A long name is cut to 100 bytes at a rune boundary, invalid UTF-8 is replaced, and names
// that are the same once cut share a value.
func TestWorkflowLabelValues(t *testing.T) {
	t.Parallel()
	l := telemetry.NewWorkflowLabels(3)
	long := strings.Repeat("a", 99) + "é" + "tail" // é straddles byte 100
	if got := l.Label(long); got != strings.Repeat("a", 99) {
		t.Errorf("label of a long name = %q, want it cut before the rune that crosses %d bytes", got, telemetry.MaxWorkflowLabelBytes)
	}
	if got := l.Label(strings.Repeat("a", 99) + "éother"); got != strings.Repeat("a", 99) {
		t.Errorf("a name equal once cut = %q, want the same value", got)
	}
	if got := l.Label("bad\xffname"); got != "bad\uFFFDname" {
		t.Errorf("label of invalid UTF-8 = %q", got)
	}
	if got := l.Label(""); got != telemetry.OtherWorkflow {
		t.Errorf("label of an unknown workflow = %q, want %q", got, telemetry.OtherWorkflow)
	}
	l.Label("third")
	if got := l.Label("fourth"); got != telemetry.OtherWorkflow {
		t.Errorf("a name beyond the cap = %q, want %q", got, telemetry.OtherWorkflow)
	}
	if got := l.Label("third"); got != "third" {
		t.Errorf("a name within the cap = %q after the cap was reached, want it kept", got)
	}
}

// A task span is named after its node type only and carries the node and workflow as
// attributes, long names cut to MaxSpanNameBytes.
func TestTaskSpanNameAndAttributes(t *testing.T) {
	t.Parallel()
	obs, _, spans, tracer := newObserver(t)
	longName := strings.Repeat("n", 300)
	ctx, span := tracer.Start(context.Background(), "sequenceflow:execute")
	obs.TaskClaimed(ctx, engine.Claim{TaskID: "t1", RunID: "r1", WorkflowID: "w1", VersionID: "v1", NodeID: "fetch-7", NodeType: "apiCall",
		Attempt: 2, WorkflowName: "orders", WorkflowVersion: 4, NodeName: longName, Wait: engine.WaitRetry}, time.Second)
	span.End()

	got := spans.Ended()[0]
	if got.Name() != "task apiCall" {
		t.Errorf("span name %q, want %q", got.Name(), "task apiCall")
	}
	attrs := map[string]string{}
	for _, kv := range got.Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	want := map[string]string{
		"node.id": "fetch-7", "node.name": longName[:telemetry.MaxSpanNameBytes], "node.type": "apiCall",
		"workflow.id": "w1", "workflow.name": "orders", "workflow.version": "4",
		"run.id": "r1", "task.id": "t1", "task.attempt": "2", "task.redeliveries": "0", "task.dispatch": "queue",
	}
	if diff := cmp.Diff(want, attrs); diff != "" {
		t.Errorf("task span attributes (-want +got):\n%s", diff)
	}
}

// An eagerly dispatched task gets a span of its own, a child of the span that released it
// (not of the delivery that ran before it on the slot), and is counted as eager.
func TestEagerTaskSpanAndDispatchCount(t *testing.T) {
	t.Parallel()
	obs, m, spans, tracer := newObserver(t)
	releaseCtx, releaser := tracer.Start(context.Background(), "task notification")
	parent := obs.TraceParent(releaseCtx)
	releaser.End()
	deliveryCtx, delivery := tracer.Start(context.Background(), "sequenceflow:execute")
	ctx, end := obs.EagerTask(deliveryCtx, engine.TaskRef{TaskID: "t2", RunID: "r1", Kind: engine.KindExecute, TraceContext: parent})
	obs.TaskClaimed(ctx, engine.Claim{TaskID: "t2", RunID: "r1", NodeID: "n", NodeType: "notification", Attempt: 1, Eager: true, Wait: engine.WaitQueue}, 0)
	end(nil)
	delivery.End()

	var got sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "task notification" && s.Parent().SpanID() == releaser.SpanContext().SpanID() {
			got = s
		}
	}
	if got == nil {
		t.Fatalf("no task span whose parent is the releasing span among %d spans", len(spans.Ended()))
	}
	dispatch := ""
	for _, kv := range got.Attributes() {
		if kv.Key == "task.dispatch" {
			dispatch = kv.Value.AsString()
		}
	}
	if dispatch != "eager" {
		t.Errorf("task.dispatch %q, want eager", dispatch)
	}
	if n := testutil.ToFloat64(m.TaskDispatches.WithLabelValues("eager")); n != 1 {
		t.Errorf("eager dispatches %v, want 1", n)
	}
}

// The run.start span names the workflow and its version.
func TestRunStartSpanNamesTheWorkflow(t *testing.T) {
	t.Parallel()
	obs, _, spans, _ := newObserver(t)
	ctx, end := obs.RunStarting(context.Background(), "w1")
	obs.RunStarted(ctx, engine.WorkflowRef{ID: "w1", Name: "orders", Version: 2})
	end("r1", nil)
	attrs := map[string]string{}
	for _, kv := range spans.Ended()[0].Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	if attrs["workflow.name"] != "orders" || attrs["workflow.version"] != "2" || attrs["workflow.id"] != "w1" || attrs["run.id"] != "r1" {
		t.Errorf("run.start attributes %v", attrs)
	}
}

// Queue wait and timer lateness are separate: a release lands in the queue wait, retry and
// delay wake-ups in timer lateness by timer, a takeover of a running task in neither; the old
// scheduling delay still sees them all.
func TestWaitsAreSeparated(t *testing.T) {
	t.Parallel()
	obs, m, _, _ := newObserver(t)
	ctx := context.Background()
	for _, c := range []engine.Claim{
		{NodeType: "apiCall", Attempt: 1, Wait: engine.WaitQueue},
		{NodeType: "apiCall", Attempt: 2, Wait: engine.WaitRetry},
		{NodeType: "delay", Attempt: 1, Wait: engine.WaitDelay},
		{NodeType: "apiCall", Attempt: 1, Redelivered: true},
	} {
		obs.TaskClaimed(ctx, c, 250*time.Millisecond)
	}
	if diff := cmp.Diff([]string{"apiCall"}, telemetrytest.Series(t, m.Registry, "sequenceflow_task_queue_wait_seconds", "node_type")); diff != "" {
		t.Errorf("queue wait series (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"apiCall retry", "delay delay"}, telemetrytest.Series(t, m.Registry, "sequenceflow_timer_lateness_seconds", "node_type", "timer")); diff != "" {
		t.Errorf("timer lateness series (-want +got):\n%s", diff)
	}
	if got := testutil.CollectAndCount(m.QueueWait); got != 1 {
		t.Errorf("queue wait has %d series, want 1", got)
	}
	counts := histogramCounts(t, m, "sequenceflow_task_queue_wait_seconds", "sequenceflow_timer_lateness_seconds", "sequenceflow_task_scheduling_delay_seconds")
	if diff := cmp.Diff(map[string]uint64{"sequenceflow_task_queue_wait_seconds": 1, "sequenceflow_timer_lateness_seconds": 2,
		"sequenceflow_task_scheduling_delay_seconds": 4}, counts); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
}

// histogramCounts sums the observations of each named histogram family.
func histogramCounts(t *testing.T, m *telemetry.Metrics, families ...string) map[string]uint64 {
	t.Helper()
	gathered, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range gathered {
		if !contains(families, f.GetName()) {
			continue
		}
		for _, metric := range f.GetMetric() {
			out[f.GetName()] += metric.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// The slot gauges read the worker's concurrency and the slots of its pool in use.
func TestWorkerSlots(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	slots := queue.NewSlots(4)
	m.RegisterWorkerSlots(slots)
	for range 3 {
		if !slots.TryAcquire() {
			t.Fatal("a slot of 4 was not free")
		}
	}
	if got := gaugeValues(t, m); got["sequenceflow_worker_slots_busy"] != 3 || got["sequenceflow_worker_slots_total"] != 4 {
		t.Errorf("slots while 3 are held: %v, want busy 3 of 4", got)
	}
	for range 3 {
		slots.Release()
	}
	if got := gaugeValues(t, m); got["sequenceflow_worker_slots_busy"] != 0 {
		t.Errorf("slots after release: %v, want none busy", got)
	}
}

func gaugeValues(t *testing.T, m *telemetry.Metrics) map[string]float64 {
	t.Helper()
	gathered, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range gathered {
		for _, metric := range f.GetMetric() {
			if g := metric.GetGauge(); g != nil && strings.HasPrefix(f.GetName(), "sequenceflow_worker_slots") {
				out[f.GetName()] = g.GetValue()
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
