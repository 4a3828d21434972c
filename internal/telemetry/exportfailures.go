package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultExportFailureLogInterval is the least time between two log lines about failed span
// exports.
const DefaultExportFailureLogInterval = 30 * time.Second

// exportFailures counts failed span exports and logs them at WARN, at most one line per
// interval; the line says how many failures it stands for.
type exportFailures struct {
	counter  prometheus.Counter
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	lastLine time.Time
	unlogged int // failures since the last line, not yet reported
}

func newExportFailures(log *slog.Logger, interval time.Duration, now func() time.Time) *exportFailures {
	return &exportFailures{
		counter: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sequenceflow_trace_export_failures_total",
			Help: "Span batches the OTLP exporter could not deliver (their spans are dropped).",
		}),
		log: log, interval: interval, now: now,
	}
}

func (f *exportFailures) record(err error, spans int) {
	f.counter.Inc()
	f.mu.Lock()
	f.unlogged++
	now := f.now()
	if !f.lastLine.IsZero() && now.Sub(f.lastLine) < f.interval {
		f.mu.Unlock()
		return
	}
	failures := f.unlogged
	f.lastLine, f.unlogged = now, 0
	f.mu.Unlock()
	f.log.Warn("trace export failed; spans dropped", "error", err.Error(), "spans", spans,
		"failures", failures, "log_interval", f.interval.String())
}

// reportingExporter reports the export failures of the exporter it wraps. It answers nil for
// a failed export once reported: the batch is dropped either way, and the SDK would otherwise
// hand the error to the global handler, which prints one unthrottled line per batch.
type reportingExporter struct {
	sdktrace.SpanExporter
	failures *exportFailures
}

func (e reportingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.failures.record(err, len(spans))
	}
	return nil
}
