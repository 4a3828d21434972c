package telemetry

import (
	"context"
	"sync/atomic"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// WorkerSlots measures a worker process's task slots: how many it has (its concurrency) and how
// many are executing a delivery now, inline executions included (they run inside the delivery
// that holds the slot).
type WorkerSlots struct {
	busy  atomic.Int64
	total int
}

// NewWorkerSlots registers sequenceflow_worker_slots_busy and sequenceflow_worker_slots_total
// for a worker of total slots on the metrics' registry.
func (m *Metrics) NewWorkerSlots(total int) *WorkerSlots {
	s := &WorkerSlots{total: total}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sequenceflow_worker_slots_busy", Help: "Task slots of this worker process executing a delivery now (inline executions included).",
		}, func() float64 { return float64(s.busy.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sequenceflow_worker_slots_total", Help: "Task slots of this worker process (WORKER_CONCURRENCY).",
		}, func() float64 { return float64(s.total) }),
	)
	return s
}

// Busy returns the slots executing a delivery now.
func (s *WorkerSlots) Busy() int { return int(s.busy.Load()) }

// Middleware is asynq middleware that holds a busy slot for as long as a delivery's handler
// runs; it goes outermost, so the whole delivery counts.
func (s *WorkerSlots) Middleware() asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			s.busy.Add(1)
			defer s.busy.Add(-1)
			return next.ProcessTask(ctx, t)
		})
	}
}
