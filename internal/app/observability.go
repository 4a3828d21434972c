package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// observability holds a process's tracing, metrics and the engine observer built on them.
type observability struct {
	tracing  *telemetry.Tracing
	metrics  *telemetry.Metrics
	observer *telemetry.Observer
}

func newObservability(ctx context.Context, cfg Config, role Role, instanceID string, log *slog.Logger) (*observability, error) {
	m := telemetry.NewMetrics(telemetry.WithWorkflowLabels(*cfg.MetricsWorkflowLabels))
	var tracing *telemetry.Tracing
	if cfg.TracerProvider != nil {
		tracing = &telemetry.Tracing{Provider: cfg.TracerProvider, Propagator: telemetry.Propagator(), Exporting: true}
	} else {
		var err error
		tracing, err = telemetry.SetupTracing(ctx, telemetry.TracingConfig{
			ServiceName: "sequenceflow-" + string(role), ServiceVersion: cfg.Version, Role: string(role), InstanceID: instanceID,
			Getenv: cfg.Getenv, Log: log, Registerer: m.Registry,
		})
		if err != nil {
			return nil, err
		}
	}
	return &observability{tracing: tracing, metrics: m, observer: telemetry.NewObserver(tracing.Provider, tracing.Propagator, m, log)}, nil
}

// pgxTracer traces queries as children of the caller's span, when spans leave the process
// (or a test records them) and TRACE_DB_SPANS is not off: query spans are the most numerous
// of a run, and making them only to drop them costs CPU on the hot path. With slow (the
// default) only statements that failed or took at least TRACE_DB_SLOW are kept.
func (o *observability) pgxTracer(cfg Config) pgx.QueryTracer {
	if !o.tracing.Exporting || cfg.TraceDBSpans == telemetry.DBSpansOff {
		return nil
	}
	tp := o.tracing.Provider
	if cfg.TraceDBSpans == telemetry.DBSpansSlow {
		tp = telemetry.SlowSpans(tp, cfg.TraceDBSlow)
	}
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(tp), otelpgx.WithDisableConnectionDetailsInAttributes())
}

// queryTracers combines the tracers that are set into one.
func queryTracers(tracers ...pgx.QueryTracer) pgx.QueryTracer {
	var set []pgx.QueryTracer
	for _, t := range tracers {
		if t != nil {
			set = append(set, t)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return multitracer.New(set...)
}

// breakerConfig exports breaker states, outcomes and request durations per host, and logs
// breaker transitions to log.
func (o *observability) breakerConfig(cfg Config, log *slog.Logger) outbound.BreakerConfig {
	return o.metrics.ObserveBreakers(outbound.BreakerConfig{Failures: uint32(cfg.BreakerFailures), OpenTimeout: cfg.BreakerOpenTimeout, Log: log})
}

// hostLimitConfig is the shared limiter of OUTBOUND_HOST_LIMITS, observed by the metrics.
func (o *observability) hostLimitConfig(cfg Config, log *slog.Logger) hostlimit.Config {
	return o.metrics.ObserveHostLimits(hostlimit.Config{Limits: cfg.OutboundHostLimits, Log: log})
}

// registerCollectors adds the pool collector to every process, and the queue, runs and run
// history collectors to API processes only, so N workers do not multiply their Redis and SQL
// load.
func (o *observability) registerCollectors(st *store.Store, q *queue.Client, role Role) {
	o.metrics.Registry.MustRegister(telemetry.NewPoolCollector(st.Pool()))
	if role == RoleAPI || role == RoleDev {
		o.metrics.Registry.MustRegister(metrics.NewQueueMetricsCollector(q.Inspector()), telemetry.NewRunsCollector(st), telemetry.NewHistoryCollector(st))
	}
}

func (o *observability) metricsHandler() http.Handler {
	return promhttp.HandlerFor(o.metrics.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true, Timeout: 10 * time.Second})
}
