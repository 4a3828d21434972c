package engine

import (
	"cmp"
	"context"
	"time"
)

// HeartbeatConfig tunes a worker's heartbeat in PostgreSQL.
type HeartbeatConfig struct {
	// Interval between heartbeats (default 5 s).
	Interval time.Duration
	// Lease is how long one heartbeat keeps the worker alive (default 30 s). Once it expired,
	// the reconcilers of the other workers re-deliver the worker's running tasks. Keep it a few
	// intervals long, so a slow database round trip does not make a live worker look dead.
	Lease time.Duration
}

// WithDefaults fills unset fields.
func (c HeartbeatConfig) WithDefaults() HeartbeatConfig {
	c.Interval = cmp.Or(c.Interval, 5*time.Second)
	c.Lease = cmp.Or(c.Lease, 30*time.Second)
	return c
}

// RunHeartbeat records this worker (Config.WorkerID) as alive, with the tasks it is executing,
// every cfg.Interval until ctx ends; then it deletes the worker's row, so tasks it could not
// hand back are recoverable at once. A failed heartbeat is logged and tried again at the next
// tick.
func (e *Engine) RunHeartbeat(ctx context.Context, cfg HeartbeatConfig) error {
	cfg = cfg.WithDefaults()
	started := e.now()
	beat := func() {
		var tasks []string
		e.inflight.Range(func(id, _ any) bool {
			tasks = append(tasks, id.(string))
			return true
		})
		bctx, cancel := context.WithTimeout(ctx, cfg.Interval)
		defer cancel()
		err := e.store.Heartbeat(bctx, Heartbeat{WorkerID: e.cfg.WorkerID, StartedAt: started, Now: e.now(), Lease: cfg.Lease, Tasks: tasks})
		if err != nil && ctx.Err() == nil {
			e.log.WarnContext(ctx, "worker heartbeat failed", "worker_id", e.cfg.WorkerID, "error", err)
		}
	}
	beat()
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := e.store.RemoveWorker(rctx, e.cfg.WorkerID); err != nil {
				e.log.WarnContext(rctx, "remove worker row", "worker_id", e.cfg.WorkerID, "error", err)
			}
			return nil
		case <-t.C:
			beat()
		}
	}
}

// InFlight counts the deliveries this process is executing now.
func (e *Engine) InFlight() int {
	n := 0
	e.inflight.Range(func(_, _ any) bool {
		n++
		return true
	})
	return n
}
