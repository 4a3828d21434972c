package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

func TestLogsCarryTraceAndSpanIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(&buf, nil)}).With("role", "test")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	log.InfoContext(ctx, "hello")
	span.End()
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["trace_id"] != span.SpanContext().TraceID().String() || line["span_id"] != span.SpanContext().SpanID().String() || line["role"] != "test" {
		t.Fatalf("log line %v lacks the span's ids", line)
	}
	buf.Reset()
	log.Info("no span")
	if bytes.Contains(buf.Bytes(), []byte("trace_id")) {
		t.Fatalf("a line without a span got a trace id: %s", buf.Bytes())
	}
}

func TestTraceParentRoundTrip(t *testing.T) {
	t.Parallel()
	p := telemetry.Propagator()
	if telemetry.TraceParent(p, context.Background()) != "" {
		t.Fatal("no span, but a traceparent")
	}
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	defer span.End()
	tpHeader := telemetry.TraceParent(p, ctx)
	back := telemetry.FromTraceParent(p, context.Background(), tpHeader)
	_, child := tp.Tracer("t").Start(back, "child")
	if child.SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Fatalf("traceparent %q did not carry the trace", tpHeader)
	}
}

func TestSetupTracingWithoutEndpointStillMakesIDs(t *testing.T) {
	t.Parallel()
	tr, err := telemetry.SetupTracing(context.Background(), telemetry.TracingConfig{ServiceName: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Shutdown(context.Background())
	if tr.Exporting {
		t.Fatal("exporting without an endpoint")
	}
	_, span := tr.Provider.Tracer("t").Start(context.Background(), "op")
	if !span.SpanContext().IsValid() {
		t.Fatal("no trace ids without an exporter")
	}
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}
	tr2, err := telemetry.SetupTracing(context.Background(), telemetry.TracingConfig{ServiceName: "svc", Getenv: func(k string) string { return env[k] }})
	if err != nil || tr2.Exporting {
		t.Fatalf("OTEL_SDK_DISABLED=true still exports (%v)", err)
	}
}
