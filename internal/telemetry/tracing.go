// Package telemetry wires OpenTelemetry tracing and Prometheus metrics at SequenceFlow's edges:
// the tracer provider (configured by the standard OTEL_* variables), an engine Observer that
// turns engine events into spans and metrics, HTTP and asynq middleware, collectors for the
// database pool and runs in flight, and a slog handler that stamps trace ids on log lines.
package telemetry

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	// Resource describes the process on every span it exports.
	Resource *resource.Resource
	shutdown func(context.Context) error
	flush    func(context.Context) error
}

// Shutdown flushes pending spans.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// ForceFlush exports the spans ended so far.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t.flush == nil {
		return nil
	}
	return t.flush(ctx)
}

// Propagator is the W3C trace-context (and baggage) propagator.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// TracingConfig configures SetupTracing.
type TracingConfig struct {
	// ServiceName is service.name unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) sets it.
	ServiceName string
	// ServiceVersion is service.version (the binary's build version).
	ServiceVersion string
	// Role is the process role, the sequenceflow.role resource attribute.
	Role string
	// InstanceID is service.instance.id, unique per process (default a random UUID).
	InstanceID string
	// Getenv reads the OTEL_* variables.
	Getenv func(string) string
	// Log receives export failures (default slog.Default()).
	Log *slog.Logger
	// Registerer, when set, gets the export failures counter.
	Registerer prometheus.Registerer
	// FailureLogInterval is the least time between two export failure lines
	// (default DefaultExportFailureLogInterval).
	FailureLogInterval time.Duration
	// Now is the clock of the failure log's rate limit (default time.Now).
	Now func() time.Time
}

// WithDefaults fills what is unset.
func (c TracingConfig) WithDefaults() TracingConfig {
	c.ServiceName = cmp.Or(c.ServiceName, "sequenceflow")
	if c.Getenv == nil {
		c.Getenv = func(string) string { return "" }
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.FailureLogInterval = cmp.Or(c.FailureLogInterval, DefaultExportFailureLogInterval)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// SetupTracing builds the tracer provider from the standard OTEL_* variables. Spans are
// exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set, unless
// OTEL_SDK_DISABLED is true or OTEL_TRACES_EXPORTER is none; the protocol is
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf.
// Without export, trace and span ids are still created and propagated, so logs and outbound
// requests carry them. A value the SDK does not understand is refused with its variable named.
func SetupTracing(ctx context.Context, cfg TracingConfig) (*Tracing, error) {
	cfg = cfg.WithDefaults()
	getenv := cfg.Getenv
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sampler, err := samplerFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	settings, err := readOTLPSettings(getenv)
	if err != nil {
		return nil, err
	}
	failures := newExportFailures(cfg.Log, cfg.FailureLogInterval, cfg.Now)
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(failures.counter); err != nil {
			return nil, fmt.Errorf("register trace export metric: %w", err)
		}
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
	t := &Tracing{Propagator: Propagator(), Resource: res}
	disabled := strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true")
	switch exporter := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exporter {
	case "", "otlp":
	case "none":
		disabled = true
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (otlp or none)", exporter)
	}
	if settings.endpoint != "" && !disabled {
		exp, err := newOTLPExporter(ctx, settings)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter (%s): %w", settings.protocol, err)
		}
		opts = append(opts, sdktrace.WithBatcher(reportingExporter{SpanExporter: exp, failures: failures}))
		t.Exporting = true
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t.Provider, t.shutdown, t.flush = tp, tp.Shutdown, tp.ForceFlush
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
