package telemetry

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// addWaits creates the counter of how waits for an event end.
func (m *Metrics) addWaits() {
	m.WaitEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sequenceflow_wait_events_total",
		Help: "Waits for an event (wait nodes) that ended, by node type and outcome (resumed: an event was delivered; timed_out: the timeout passed first), and events refused because their task was not waiting (refused); node_type is one of the built-in types, outcome one of those three.",
	}, []string{"node_type", "outcome"})
	for _, outcome := range []string{engine.WaitResumed, engine.WaitTimedOut, engine.WaitRefused} {
		m.WaitEvents.WithLabelValues(workflow.TypeWait, outcome)
	}
	m.Registry.MustRegister(m.WaitEvents)
}

var _ engine.WaitObserver = (*Observer)(nil)

// WaitEnded counts one wait's end or refused event.
func (o *Observer) WaitEnded(_ context.Context, nodeType, outcome string) {
	o.metrics.WaitEvents.WithLabelValues(nodeType, outcome).Inc()
}
