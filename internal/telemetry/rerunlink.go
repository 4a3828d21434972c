package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/engine"
)

// linkOrigin is the link.kind of a retried or re-run run's run.start span → the run.start span
// of the run it was made from.
const linkOrigin = "origin"

var _ engine.RunLinker = (*Observer)(nil)

// LinkRun links the run.start span of a retry or re-run to the run.start span of the run it
// was made from (its stored traceparent), with link.kind "origin" and run.origin naming the
// kind; the new run keeps its own trace. An invalid traceparent adds no link.
func (o *Observer) LinkRun(ctx context.Context, traceparent, origin string) {
	sc := spanContextOf(o.propagator, traceparent)
	if !sc.IsValid() {
		return
	}
	span := trace.SpanFromContext(ctx)
	span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{
		attribute.String("link.kind", linkOrigin), attribute.String("run.origin", origin)}})
	span.SetAttributes(attribute.String("run.origin", origin))
}

var _ engine.ScheduleTagger = (*Observer)(nil)

// ScheduledRun names the schedule whose tick started the run on its run.start span
// (schedule.id, with run.origin "schedule").
func (o *Observer) ScheduledRun(ctx context.Context, scheduleID string) {
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("schedule.id", scheduleID), attribute.String("run.origin", "schedule"))
}
