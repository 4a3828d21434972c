package telemetry

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// hostLabelHelp documents the host label of the limiter's families.
var hostLabelHelp = fmt.Sprintf("host is one of OUTBOUND_HOST_LIMITS (at most %d hosts); hosts without a limit never get a series", hostlimit.MaxHosts)

// addHostLimits creates the per-host limiter's metrics (every worker asks the limiter, so each
// exports its own; sum them over instances).
func (m *Metrics) addHostLimits() {
	m.Throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sequenceflow_outbound_throttled_total",
		Help: "apiCall calls held back by their host's limits before anything was sent, by host and reason (rate_limited, concurrency_limited, host_paused: an upstream Retry-After, limiter_unavailable: Redis could not be asked); " + hostLabelHelp + ".",
	}, []string{"host", "reason"})
	m.ThrottleWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sequenceflow_outbound_throttle_wait_seconds",
		Help:    "Wait the host limits asked of each held-back apiCall call before it tries again (its task is queued again meanwhile, holding no worker slot), by host; " + hostLabelHelp + ".",
		Buckets: latencyBuckets,
	}, []string{"host"})
	m.Registry.MustRegister(m.Throttled, m.ThrottleWait)
}

// ObserveHostLimits returns cfg with a callback counting every refusal and its wait. The
// series of every configured host exist from the start, so a dashboard reads 0, not "No
// data", before the first throttle.
func (m *Metrics) ObserveHostLimits(cfg hostlimit.Config) hostlimit.Config {
	for _, l := range cfg.Limits {
		for _, reason := range outbound.ThrottleReasons {
			m.Throttled.WithLabelValues(l.Host, reason)
		}
		m.ThrottleWait.WithLabelValues(l.Host)
	}
	cfg.OnThrottle = func(host, reason string, wait time.Duration) {
		m.Throttled.WithLabelValues(host, reason).Inc()
		m.ThrottleWait.WithLabelValues(host).Observe(wait.Seconds())
	}
	return cfg
}

// InFlightSource counts the calls in flight per limited host across every worker
// (hostlimit.Limiter does, from Redis).
type InFlightSource interface {
	InFlight(ctx context.Context) (map[string]int64, error)
}

var inFlightDesc = prometheus.NewDesc("sequenceflow_outbound_in_flight",
	"apiCall calls in flight across every worker, per host with an in-flight maximum in OUTBOUND_HOST_LIMITS (holders of the host's slots whose lease has not ended), read from Redis at scrape time by API processes; "+
		hostLabelHelp+".", []string{"host"}, nil)

var inFlightLimitDesc = prometheus.NewDesc("sequenceflow_outbound_in_flight_limit",
	"The in-flight maximum of each host of sequenceflow_outbound_in_flight (OUTBOUND_HOST_LIMITS); "+hostLabelHelp+".", []string{"host"}, nil)

// InFlightCollector exports the calls in flight per limited host and each host's maximum.
// One Redis round trip per scrape; a scrape that cannot reach Redis exports the maximums only.
type InFlightCollector struct {
	source InFlightSource
	limits []hostlimit.Limit
}

// NewInFlightCollector returns the collector of source's hosts with an in-flight maximum.
func NewInFlightCollector(source InFlightSource, limits []hostlimit.Limit) *InFlightCollector {
	return &InFlightCollector{source: source, limits: limits}
}

// Describe implements prometheus.Collector.
func (c *InFlightCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inFlightDesc
	ch <- inFlightLimitDesc
}

// Collect implements prometheus.Collector.
func (c *InFlightCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.limits {
		if l.MaxInFlight > 0 {
			ch <- prometheus.MustNewConstMetric(inFlightLimitDesc, prometheus.GaugeValue, float64(l.MaxInFlight), l.Host)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.source.InFlight(ctx)
	if err != nil {
		return
	}
	for host, n := range counts {
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(n), host)
	}
}
