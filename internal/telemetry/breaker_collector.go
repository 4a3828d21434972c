package telemetry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// BreakerSource reads the current state of each host's circuit breaker and the durations of
// the requests kept with it (outbound.Client does).
type BreakerSource interface {
	BreakerStates() []outbound.BreakerState
	RequestDurations() []outbound.RequestDurations
}

// breakerStateValues are the values of sequenceflow_breaker_state.
var breakerStateValues = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

var breakerStateDesc = prometheus.NewDesc("sequenceflow_breaker_state",
	fmt.Sprintf("Circuit breaker state per outbound host, read at scrape time: 0 closed, 1 half-open, 2 open; "+
		"at most %d hosts (the least recently used idle ones are dropped, and hosts with no request for %s).",
		outbound.DefaultMaxHosts, outbound.DefaultIdleExpiry), []string{"host"}, nil)

var outboundDurationDesc = prometheus.NewDesc("sequenceflow_outbound_request_duration_seconds",
	fmt.Sprintf("Duration of outbound requests of apiCall nodes, redirects and body read included, by host and outcome "+
		"(success, http_4xx, http_5xx, timeout, network, refused, rejected); the hosts of sequenceflow_breaker_state, "+
		"requests beyond them under host=%q.", outbound.OtherHost), []string{"host", "outcome"}, nil)

// BreakerCollector exports the breaker families: each kept host breaker's state as it is at
// scrape time, so an open breaker reads half-open once its open timeout has passed, with or
// without traffic, the request outcomes per host, and the request duration histograms kept
// with each breaker. Breakers idle past their expiry are dropped first, so an expired host has
// no series of any family in the same scrape.
type BreakerCollector struct {
	source   BreakerSource
	requests *prometheus.CounterVec
}

// NewBreakerCollector returns the collector of source's breaker states and of m's breaker
// request outcomes (counted by the callbacks of ObserveBreakers).
func (m *Metrics) NewBreakerCollector(source BreakerSource) *BreakerCollector {
	return &BreakerCollector{source: source, requests: m.BreakerRequests}
}

// Describe implements prometheus.Collector.
func (c *BreakerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerStateDesc
	ch <- outboundDurationDesc
	c.requests.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *BreakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.source.BreakerStates() {
		ch <- prometheus.MustNewConstMetric(breakerStateDesc, prometheus.GaugeValue, breakerStateValues[s.State], s.Host)
	}
	for _, d := range c.source.RequestDurations() {
		ch <- prometheus.MustNewConstHistogram(outboundDurationDesc, d.Count, d.Sum, d.Buckets, d.Host, d.Outcome)
	}
	c.requests.Collect(ch)
}

// ObserveBreakers returns cfg with callbacks that count each host's request outcomes and
// delete a host's series when its breaker is dropped (to make room or idle): the host label
// takes at most cfg.MaxHosts values plus outbound.OtherHost. The state and the request
// durations, in the buckets of the other latency histograms, are read by BreakerCollector.
func (m *Metrics) ObserveBreakers(cfg outbound.BreakerConfig) outbound.BreakerConfig {
	cfg.DurationBuckets = latencyBuckets
	cfg.OnOutcome = func(host, outcome string) { m.BreakerRequests.WithLabelValues(host, outcome).Inc() }
	cfg.OnEvict = func(host string) { m.BreakerRequests.DeletePartialMatch(prometheus.Labels{"host": host}) }
	return cfg
}
