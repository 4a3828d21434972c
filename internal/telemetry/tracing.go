// Package telemetry wires OpenTelemetry tracing and Prometheus metrics at SequenceFlow's edges:
// the tracer provider (configured by the standard OTEL_* variables), an engine Observer that
// turns engine events into spans and metrics, HTTP and asynq middleware, collectors for the
// database pool and runs in flight, and a slog handler that stamps trace ids on log lines.
package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is a configured tracer provider and the propagator every edge uses.
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
	// Exporting is true when spans leave the process (an OTLP endpoint is configured).
	Exporting bool
	shutdown  func(context.Context) error
}

// Shutdown flushes pending spans.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// Propagator is the W3C trace-context (and baggage) propagator.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// SetupTracing builds the tracer provider from the standard OTEL_* variables: spans are
// exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set and
// OTEL_SDK_DISABLED is not true. Without export, trace and span ids are still created and
// propagated, so run responses and logs carry them.
func SetupTracing(ctx context.Context, serviceName string, getenv func(string) string) (*Tracing, error) {
	if name := getenv("OTEL_SERVICE_NAME"); name != "" {
		serviceName = name
	}
	res := resource.NewSchemaless(attribute.String("service.name", serviceName))
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	t := &Tracing{Propagator: Propagator()}
	disabled := strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true")
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
	if endpoint && !disabled {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
		t.Exporting = true
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t.Provider, t.shutdown = tp, tp.Shutdown
	return t, nil
}

// TraceParent returns the W3C traceparent of ctx's span, or "".
func TraceParent(p propagation.TextMapPropagator, ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	p.Inject(ctx, carrier)
	return carrier["traceparent"]
}

// FromTraceParent returns ctx carrying a remote span context parsed from a traceparent.
func FromTraceParent(p propagation.TextMapPropagator, ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return p.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}
