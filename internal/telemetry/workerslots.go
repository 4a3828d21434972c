package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
)

// SlotPool is a worker process's pool of task slots (queue.Slots).
type SlotPool interface {
	Total() int
	Busy() int
}

// RegisterWorkerSlots registers sequenceflow_worker_slots_busy and
// sequenceflow_worker_slots_total for a worker's slot pool on the metrics' registry.
func (m *Metrics) RegisterWorkerSlots(p SlotPool) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sequenceflow_worker_slots_busy", Help: "Task slots of this worker process executing a delivery or an eager execution now (inline executions included).",
		}, func() float64 { return float64(p.Busy()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sequenceflow_worker_slots_total", Help: "Task slots of this worker process (WORKER_CONCURRENCY).",
		}, func() float64 { return float64(p.Total()) }),
	)
}
