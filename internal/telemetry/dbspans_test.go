package telemetry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// SlowSpans keeps a span only when it failed or lasted the threshold, decided at its end; a
// kept span has its own start time, attributes and events, and a child of a dropped span is a
// child of the dropped span's parent.
func TestSlowSpansKeepOnlyFailedOrSlow(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	ctx, root := tp.Tracer("test").Start(context.Background(), "root")
	slow := telemetry.SlowSpans(tp, 100*time.Millisecond).Tracer("db")

	t0 := time.Now()
	_, fast := slow.Start(ctx, "fast", trace.WithTimestamp(t0))
	fast.SetAttributes(attribute.String("k", "v"))
	fast.End(trace.WithTimestamp(t0.Add(99 * time.Millisecond)))

	_, long := slow.Start(ctx, "slow", trace.WithTimestamp(t0), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attribute.String("a", "1")))
	long.SetAttributes(attribute.String("b", "2"))
	long.End(trace.WithTimestamp(t0.Add(100 * time.Millisecond)))

	outerCtx, outer := slow.Start(ctx, "dropped parent")
	_, failed := slow.Start(outerCtx, "failed")
	if !failed.IsRecording() {
		t.Error("a deferred span must be recording until it ends")
	}
	failed.RecordError(errors.New("boom"))
	failed.SetStatus(codes.Error, "boom")
	failed.End()
	outer.End()
	root.End()

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range rec.Ended() {
		byName[sp.Name()] = sp
	}
	if _, ok := byName["fast"]; ok {
		t.Error("a fast span was kept")
	}
	if _, ok := byName["dropped parent"]; ok {
		t.Error("a fast parent span was kept")
	}
	sp, ok := byName["slow"]
	switch {
	case !ok:
		t.Fatal("the slow span was dropped")
	case !sp.StartTime().Equal(t0) || sp.EndTime().Sub(sp.StartTime()) != 100*time.Millisecond:
		t.Errorf("slow span %v–%v, want its own start and end", sp.StartTime(), sp.EndTime())
	case sp.SpanKind() != trace.SpanKindClient || len(sp.Attributes()) != 2:
		t.Errorf("slow span kind %v attributes %v, want client with a and b", sp.SpanKind(), sp.Attributes())
	case sp.Parent().SpanID() != root.SpanContext().SpanID():
		t.Error("slow span lost its parent")
	}
	sp, ok = byName["failed"]
	switch {
	case !ok:
		t.Fatal("the failed span was dropped")
	case sp.Status().Code != codes.Error || len(sp.Events()) != 1 || sp.Events()[0].Name != "exception":
		t.Errorf("failed span status %v events %v, want the error", sp.Status(), sp.Events())
	case sp.Parent().SpanID() != root.SpanContext().SpanID():
		t.Error("a child of a dropped span must be a child of that span's parent")
	}
}
