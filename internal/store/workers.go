package store

import (
	"context"
	"fmt"

	"github.com/sequenceflow/sequenceflow/internal/engine"
)

// heldSQL is the condition that a running task t is held by a live worker other than claimer:
// the worker's lease has not expired at now, and its last heartbeat listed the task or came
// before the task was claimed (so it could not list it yet). now and claimer are SQL
// expressions (parameters). Such a task is executing; another delivery must not take it over.
func heldSQL(now, claimer string) string {
	return `EXISTS (SELECT 1 FROM workers w WHERE w.id = t.worker_id AND w.id <> ` + claimer + ` AND w.lease_until > ` + now + `
		AND (t.id = ANY (w.tasks) OR t.started_at >= w.heartbeat_at))`
}

// Heartbeat records a worker as alive until b.Now+b.Lease with the tasks it is executing, and
// deletes the rows of workers whose lease expired an hour ago (their tasks are recoverable
// with or without the row).
func (s *Store) Heartbeat(ctx context.Context, b engine.Heartbeat) error {
	tasks := b.Tasks
	if tasks == nil {
		tasks = []string{}
	}
	_, err := s.pool.Exec(ctx, `
		WITH beat AS (
			INSERT INTO workers (id, started_at, heartbeat_at, lease_until, tasks) VALUES ($1, $2, $3, $4, $5::text[]::uuid[])
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until, tasks = excluded.tasks)
		DELETE FROM workers WHERE lease_until < $3::timestamptz - interval '1 hour' AND id <> $1`,
		b.WorkerID, b.StartedAt, b.Now, b.Now.Add(b.Lease), tasks)
	if err != nil {
		return fmt.Errorf("heartbeat of worker %s: %w", b.WorkerID, translate(err))
	}
	return nil
}

// RemoveWorker deletes a stopped worker's row.
func (s *Store) RemoveWorker(ctx context.Context, workerID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM workers WHERE id = $1`, workerID); err != nil {
		return fmt.Errorf("remove worker %s: %w", workerID, translate(err))
	}
	return nil
}

// Interrupted records why a claimed delivery ended without an outcome and releases the task
// from its worker, if the task is still in the state that delivery claimed.
func (s *Store) Interrupted(ctx context.Context, c engine.Claim, cause string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE tasks SET interruption = $4, worker_id = NULL
		WHERE id = $1 AND status = 'running' AND attempt = $2 AND redeliveries = $3`,
		c.TaskID, c.Attempt, c.Redeliveries, storableText(cause))
	if err != nil {
		return false, fmt.Errorf("record interruption of task %s: %w", c.TaskID, translate(err))
	}
	return tag.RowsAffected() == 1, nil
}
