package telemetry

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/engine"
)

// Observer implements engine.Observer with spans, metrics and the process log lines about
// tasks (README.md, "Logs").
type Observer struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	metrics    *Metrics
	log        *slog.Logger
}

// NewObserver returns an engine observer that logs to log (nil: no log lines).
func NewObserver(tp trace.TracerProvider, p propagation.TextMapPropagator, m *Metrics, log *slog.Logger) *Observer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Observer{tracer: tp.Tracer("github.com/sequenceflow/sequenceflow/internal/engine"), propagator: p, metrics: m, log: log}
}

var (
	_ engine.Observer    = (*Observer)(nil)
	_ engine.EagerTracer = (*Observer)(nil)
)

// EagerTask opens the span of a task the worker that released it executes itself, as
// TaskSpans does for a queue delivery: a child of the span that released it, named like a
// delivery's until TaskClaimed names it after its node type.
func (o *Observer) EagerTask(ctx context.Context, ref engine.TaskRef) (context.Context, func(error)) {
	parent := o.propagator.Extract(context.WithoutCancel(ctx), propagation.MapCarrier{"traceparent": ref.TraceContext})
	// The span's parent comes from the released trace context, not from the delivery that ran
	// before it on this slot; the values of ctx (the slot) are kept.
	if sc := trace.SpanContextFromContext(parent); sc.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, sc)
	}
	ctx, span := o.tracer.Start(ctx, "sequenceflow:execute", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.system", "sequenceflow"), attribute.String("task.dispatch", dispatchEager)))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

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
	dispatch := dispatchQueue
	if c.Eager {
		dispatch = dispatchEager
	}
	span.SetAttributes(attribute.String("task.dispatch", dispatch))
	o.metrics.TaskDispatches.WithLabelValues(dispatch).Inc()
	o.metrics.SchedulingDelay.WithLabelValues(c.NodeType).Observe(delay.Seconds())
	switch c.Wait {
	case engine.WaitQueue:
		o.metrics.QueueWait.WithLabelValues(c.NodeType).Observe(delay.Seconds())
	case engine.WaitRetry, engine.WaitDelay, engine.WaitThrottle:
		o.metrics.TimerLateness.WithLabelValues(c.NodeType, c.Wait).Observe(delay.Seconds())
	}
}

// TaskExecuted records the outcome on the span and in the metrics, with the trace id as the
// duration's exemplar, and logs a failure or retry.
func (o *Observer) TaskExecuted(ctx context.Context, c engine.Claim, x engine.Execution) {
	nodeType, outcome, reason, d := c.NodeType, x.Outcome, x.Reason, x.Duration
	o.logExecution(ctx, c, x)
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("task.outcome", outcome))
	switch {
	case outcome == engine.OutcomeThrottled:
		span.SetAttributes(attribute.String("task.throttle_reason", reason), attribute.Int64("task.throttle_wait_ms", x.RetryIn.Milliseconds()))
	case reason != "":
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

// Recovered counts a reconciler recovery by cause and logs it, in the trace of the span that
// released the task.
func (o *Observer) Recovered(ctx context.Context, r engine.Recovery) {
	o.metrics.Recovered.WithLabelValues(r.Cause).Inc()
	if r.TraceContext != "" {
		ctx = o.propagator.Extract(ctx, propagation.MapCarrier{"traceparent": r.TraceContext})
	}
	o.log.LogAttrs(ctx, slog.LevelInfo, "reconciler re-enqueued a task",
		slog.String(engine.LogRunID, r.RunID), slog.String(engine.LogWorkflowID, r.WorkflowID), slog.String(engine.LogNodeID, r.NodeID),
		slog.String(engine.LogNodeType, r.NodeType), slog.String(engine.LogTaskID, r.TaskID),
		slog.String("cause", r.Cause), slog.String("kind", r.Kind), slog.Int("redelivery", r.Recovery))
}

// ReconcilerPass counts a pass by result and records its duration.
func (o *Observer) ReconcilerPass(_ context.Context, _ int, err error, d time.Duration) {
	result := reconcileOK
	if err != nil {
		result = reconcileError
	}
	o.metrics.ReconcilePasses.WithLabelValues(result).Inc()
	o.metrics.ReconcileTime.Observe(d.Seconds())
}

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

// maxLoggedError bounds the error text quoted on a log line.
const maxLoggedError = 1000

// logExecution writes the line of a failed or retried execution: the task's identity, the
// attempt, the reason and the error (as stored on the task, secrets scrubbed; never its input).
func (o *Observer) logExecution(ctx context.Context, c engine.Claim, x engine.Execution) {
	var level slog.Level
	var msg string
	switch x.Outcome {
	case engine.OutcomeRetry:
		level, msg = slog.LevelWarn, "task attempt failed; retrying"
	case engine.OutcomeThrottled:
		// Every throttle of a busy host: the run log has the first of each attempt.
		level, msg = slog.LevelDebug, "task held back by its host's limits; queued again"
	case engine.OutcomeContinued:
		level, msg = slog.LevelWarn, "task failed; continuing (onError: continue)"
	case engine.OutcomeFailed:
		level, msg = slog.LevelError, "task failed"
	default:
		return
	}
	if !o.log.Enabled(ctx, level) {
		return
	}
	attrs := append(c.LogAttrs(), slog.Int("attempt", c.Attempt), slog.String("outcome", x.Outcome), slog.String("reason", x.Reason))
	if x.Error != "" {
		attrs = append(attrs, slog.String(engine.LogError, truncateUTF8(x.Error, maxLoggedError)))
	}
	if x.Outcome == engine.OutcomeRetry || x.Outcome == engine.OutcomeThrottled {
		attrs = append(attrs, slog.String("retry_in", x.RetryIn.Round(time.Millisecond).String()))
	}
	o.log.LogAttrs(ctx, level, msg, attrs...)
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
