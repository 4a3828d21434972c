package queue

import (
	"context"

	"github.com/hibiken/asynq"
)

// Slots is a worker process's pool of task slots. Queue deliveries hold one each for as long
// as their handler runs, and eager executions (engine.Slots) take the free ones, so the
// process never executes more than its concurrency at once.
type Slots struct {
	sem chan struct{}
}

// NewSlots returns a pool of n slots (at least 1).
func NewSlots(n int) *Slots { return &Slots{sem: make(chan struct{}, max(n, 1))} }

// Total returns the pool's size.
func (s *Slots) Total() int { return cap(s.sem) }

// Busy returns the slots executing something now.
func (s *Slots) Busy() int { return len(s.sem) }

// TryAcquire takes a free slot without waiting.
func (s *Slots) TryAcquire() bool {
	select {
	case s.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot.
func (s *Slots) Release() { <-s.sem }

// middleware holds a slot for as long as a delivery's handler runs. A delivery waits for one
// when eager executions took the free slots after the queue handed it over.
func (s *Slots) middleware() asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			defer s.Release()
			return next.ProcessTask(ctx, t)
		})
	}
}
