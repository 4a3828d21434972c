package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/engine"
)

// Observer implements engine.Observer with spans and metrics.
type Observer struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	metrics    *Metrics
}

// NewObserver returns an engine observer.
func NewObserver(tp trace.TracerProvider, p propagation.TextMapPropagator, m *Metrics) *Observer {
	return &Observer{tracer: tp.Tracer("github.com/sequenceflow/sequenceflow/internal/engine"), propagator: p, metrics: m}
}

var _ engine.Observer = (*Observer)(nil)

// RunStarting opens the run.start span, child of the API request span.
func (o *Observer) RunStarting(ctx context.Context, workflowID string) (context.Context, func(string, error)) {
	ctx, span := o.tracer.Start(ctx, "run.start", trace.WithAttributes(attribute.String("workflow.id", workflowID)))
	return ctx, func(runID string, err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		} else {
			span.SetAttributes(attribute.String("run.id", runID))
		}
		span.End()
	}
}

// RunStarted names the run's workflow on its span and counts the run under its workflow.
func (o *Observer) RunStarted(ctx context.Context, wf engine.WorkflowRef) {
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("workflow.name", cutUTF8(wf.Name, MaxSpanNameBytes)),
		attribute.Int("workflow.version", wf.Version))
	o.metrics.RunsStarted.WithLabelValues(o.metrics.Workflows.Label(wf.Name)).Inc()
}

// TraceParent returns ctx's span as a traceparent.
func (o *Observer) TraceParent(ctx context.Context) string { return TraceParent(o.propagator, ctx) }

// TaskClaimed names the task span after its node type (the node is an attribute, so span
// names stay few) and records the scheduling delay, and the queue wait or timer lateness it
// stands for.
func (o *Observer) TaskClaimed(ctx context.Context, c engine.Claim, delay time.Duration) {
	span := trace.SpanFromContext(ctx)
	span.SetName("task " + c.NodeType)
	span.SetAttributes(
		attribute.String("workflow.id", c.WorkflowID), attribute.String("workflow.name", cutUTF8(c.WorkflowName, MaxSpanNameBytes)),
		attribute.Int("workflow.version", c.WorkflowVersion), attribute.String("run.id", c.RunID), attribute.String("task.id", c.TaskID),
		attribute.String("node.id", c.NodeID), attribute.String("node.name", cutUTF8(c.NodeName, MaxSpanNameBytes)),
		attribute.String("node.type", c.NodeType), attribute.Int("task.attempt", c.Attempt), attribute.Int("task.redeliveries", c.Redeliveries))
	o.linkParents(span, c)
	o.metrics.SchedulingDelay.WithLabelValues(c.NodeType).Observe(delay.Seconds())
	switch c.Wait {
	case engine.WaitQueue:
		o.metrics.QueueWait.WithLabelValues(c.NodeType).Observe(delay.Seconds())
	case engine.WaitRetry, engine.WaitDelay:
		o.metrics.TimerLateness.WithLabelValues(c.NodeType, c.Wait).Observe(delay.Seconds())
	}
}

// TaskExecuted records the outcome on the span and in the metrics, with the trace id as the
// duration's exemplar.
func (o *Observer) TaskExecuted(ctx context.Context, nodeType, outcome, reason string, d time.Duration) {
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("task.outcome", outcome))
	if reason != "" {
		span.SetAttributes(attribute.String("task.failure_reason", reason))
	}
	if outcome == engine.OutcomeFailed || outcome == engine.OutcomeRetry || outcome == engine.OutcomeContinued {
		span.SetStatus(codes.Error, outcome+": "+reason)
	}
	observeWithTrace(o.metrics.TaskDuration.WithLabelValues(nodeType, outcome), d.Seconds(), span.SpanContext())
	switch outcome {
	case engine.OutcomeRetry:
		o.metrics.TaskRetries.WithLabelValues(nodeType, reason).Inc()
	case engine.OutcomeFailed, engine.OutcomeContinued:
		o.metrics.TaskFailures.WithLabelValues(nodeType, reason).Inc()
	}
}

// TasksFinished counts tasks by their final outcome, and those whose node failed for good by
// their workflow.
func (o *Observer) TasksFinished(_ context.Context, wf engine.WorkflowRef, tasks []engine.FinishedTask) {
	for _, t := range tasks {
		o.metrics.TasksFinished.WithLabelValues(t.NodeType, t.Outcome).Inc()
		if t.Outcome == engine.TaskOutcomeFailed || t.Outcome == engine.TaskOutcomeFailedContinued {
			o.metrics.WorkflowFailedNodes.WithLabelValues(o.metrics.Workflows.Label(wf.Name), t.Outcome).Inc()
		}
	}
}

// RunFinished counts finished runs, those with nodes that failed but continued, and their
// duration (with the trace id as exemplar), by workflow.
func (o *Observer) RunFinished(ctx context.Context, wf engine.WorkflowRef, status string, failedNodes int, d time.Duration) {
	label := o.metrics.Workflows.Label(wf.Name)
	o.metrics.RunsFinished.WithLabelValues(label, status).Inc()
	if failedNodes > 0 {
		o.metrics.RunsFailedNodes.WithLabelValues(label, status).Inc()
	}
	observeWithTrace(o.metrics.RunDuration.WithLabelValues(label, status), d.Seconds(), trace.SpanContextFromContext(ctx))
}

// Recovered counts reconciler recoveries.
func (o *Observer) Recovered(_ context.Context, n int) { o.metrics.Recovered.Add(float64(n)) }

// Redelivered counts redeliveries by node type and cause, and records the lost attempt as an
// event on the task's span, so the trace explains the gap before the attempt begins again.
func (o *Observer) Redelivered(ctx context.Context, r engine.Redelivery) {
	o.metrics.Redeliveries.WithLabelValues(r.NodeType, r.Cause).Inc()
	trace.SpanFromContext(ctx).AddEvent("task.redelivered", trace.WithAttributes(
		attribute.String("redelivery.cause", r.Cause),
		attribute.String("redelivery.detail", r.Detail),
		attribute.Int("task.attempt", r.Attempt),
		attribute.Int("task.redeliveries", r.Redeliveries),
		attribute.String("redelivery.previous_worker", r.PreviousWorker),
	))
}

func observeWithTrace(obs prometheus.Observer, v float64, sc trace.SpanContext) {
	if eo, ok := obs.(prometheus.ExemplarObserver); ok && sc.IsSampled() {
		eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": sc.TraceID().String()})
		return
	}
	obs.Observe(v)
}
