package app

import (
	"context"
	"net/http"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

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

func newObservability(ctx context.Context, cfg Config, role Role) (*observability, error) {
	var tracing *telemetry.Tracing
	if cfg.TracerProvider != nil {
		tracing = &telemetry.Tracing{Provider: cfg.TracerProvider, Propagator: telemetry.Propagator(), Exporting: true}
	} else {
		var err error
		if tracing, err = telemetry.SetupTracing(ctx, "sequenceflow-"+string(role), cfg.Getenv); err != nil {
			return nil, err
		}
	}
	m := telemetry.NewMetrics()
	return &observability{tracing: tracing, metrics: m, observer: telemetry.NewObserver(tracing.Provider, tracing.Propagator, m)}, nil
}

// pgxTracer traces every query as a child of the caller's span, when spans leave the process
// (or a test records them): query spans are the most numerous of a run, and making them only
// to drop them costs CPU on the hot path.
func (o *observability) pgxTracer() pgx.QueryTracer {
	if !o.tracing.Exporting {
		return nil
	}
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(o.tracing.Provider), otelpgx.WithDisableConnectionDetailsInAttributes())
}

// outboundTransport makes each apiCall request a client span that injects traceparent.
func (o *observability) outboundTransport(rt http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(o.tracing.Provider), otelhttp.WithPropagators(o.tracing.Propagator))
}

// breakerConfig exports breaker states and outcomes per host.
func (o *observability) breakerConfig(cfg Config) outbound.BreakerConfig {
	states := map[string]float64{"closed": 0, "half-open": 1, "open": 2}
	return outbound.BreakerConfig{
		Failures:    uint32(cfg.BreakerFailures),
		OpenTimeout: cfg.BreakerOpenTimeout,
		OnStateChange: func(host, state string) {
			o.metrics.BreakerState.WithLabelValues(host).Set(states[state])
		},
		OnOutcome: func(host, outcome string) {
			o.metrics.BreakerRequests.WithLabelValues(host, outcome).Inc()
		},
	}
}

// registerCollectors adds the pool collector to every process, and the queue and runs
// collectors to API processes only, so N workers do not multiply their Redis and SQL load.
func (o *observability) registerCollectors(st *store.Store, q *queue.Client, role Role) {
	o.metrics.Registry.MustRegister(telemetry.NewPoolCollector(st.Pool()))
	if role == RoleAPI || role == RoleDev {
		o.metrics.Registry.MustRegister(metrics.NewQueueMetricsCollector(q.Inspector()), telemetry.NewRunsCollector(st))
	}
}

func (o *observability) metricsHandler() http.Handler {
	return promhttp.HandlerFor(o.metrics.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true, Timeout: 10 * time.Second})
}
