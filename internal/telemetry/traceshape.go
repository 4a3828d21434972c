package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/engine"
)

// Bounds of the trace-shape attributes. A join's span links to at most engine.MaxParentLinks
// parents (task.parent_links_dropped counts the rest); a branch.skipped event names at most
// MaxSkippedNodes skipped nodes and MaxEventHandles chosen handles (branch.skipped_count and
// branch.handle_count carry the totals).
const (
	MaxSkippedNodes = 32
	MaxEventHandles = 32
)

// Values of the link.kind attribute on span links.
const (
	linkParent = "parent" // a join's task span → one of its activating parents' spans
	linkCause  = "cause"  // a run.cancel span → the span that ended the run (an API request, a task, the reconciler)
	linkRun    = "run"    // the span that ended a run → the run's run.start span
)

// linkParents links a join's task span to the span of every activating parent it recorded.
// Its parent stays the span that released it.
func (o *Observer) linkParents(span trace.Span, c engine.Claim) {
	for _, tp := range c.ParentSpans {
		if sc := spanContextOf(o.propagator, tp); sc.IsValid() {
			span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("link.kind", linkParent)}})
		}
	}
	if len(c.ParentSpans) > 0 || c.ParentSpansDropped > 0 {
		span.SetAttributes(attribute.Int("task.parent_links", len(c.ParentSpans)))
	}
	if c.ParentSpansDropped > 0 {
		span.SetAttributes(attribute.Int("task.parent_links_dropped", c.ParentSpansDropped))
	}
}

// BranchSkipped records a branch.skipped event on the deciding task's span: the handles it
// chose and the nodes that became skipped, both bounded.
func (o *Observer) BranchSkipped(ctx context.Context, b engine.BranchSkip) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := []attribute.KeyValue{
		attribute.StringSlice("branch.skipped_nodes", b.Skipped[:min(len(b.Skipped), MaxSkippedNodes)]),
		attribute.Int("branch.skipped_count", len(b.Skipped)),
	}
	if b.Handles != nil {
		attrs = append(attrs, attribute.StringSlice("branch.handles", b.Handles[:min(len(b.Handles), MaxEventHandles)]),
			attribute.Int("branch.handle_count", len(b.Handles)))
	}
	span.AddEvent("branch.skipped", trace.WithAttributes(attrs...))
}

// RunAborted records a run that ended early as a short run.cancel span in the run's trace
// (a child of its run.start span) that names the cause and counts the tasks it ended, with a
// link to the span that ended it; that span, when it is in another trace (an API request),
// links back to the run.
func (o *Observer) RunAborted(ctx context.Context, a engine.AbortedRun) {
	cause := trace.SpanFromContext(ctx)
	parent := ctx
	runSC := spanContextOf(o.propagator, a.TraceContext)
	if runSC.IsValid() {
		parent = trace.ContextWithRemoteSpanContext(ctx, runSC)
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(
		attribute.String("run.id", a.RunID),
		attribute.String("cancel.cause", a.Cause),
		attribute.Int("cancel.tasks_cancelled", a.Cancelled),
		attribute.Int("cancel.tasks_skipped", a.Skipped),
	)}
	causeSC := cause.SpanContext()
	if !runSC.IsValid() && !causeSC.IsValid() {
		return // neither the run nor what ended it is traced
	}
	if causeSC.IsValid() && causeSC.SpanID() != runSC.SpanID() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: causeSC, Attributes: []attribute.KeyValue{attribute.String("link.kind", linkCause)}}))
	}
	_, span := o.tracer.Start(parent, "run.cancel", opts...)
	span.End()
	if runSC.IsValid() && cause.IsRecording() && causeSC.TraceID() != runSC.TraceID() {
		cause.AddLink(trace.Link{SpanContext: runSC, Attributes: []attribute.KeyValue{attribute.String("link.kind", linkRun)}})
		cause.SetAttributes(attribute.String("run.id", a.RunID))
	}
}

// spanContextOf parses a W3C traceparent; the span context is invalid when it cannot.
func spanContextOf(p propagation.TextMapPropagator, traceparent string) trace.SpanContext {
	if traceparent == "" {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(p.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceparent}))
}
