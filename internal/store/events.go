package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// ResumeTarget reads a task an event is addressed to, in any state, with its run's status and
// the handles it chose.
func (s *Store) ResumeTarget(ctx context.Context, taskID string) (engine.ResumeTarget, error) {
	var t engine.ResumeTarget
	id, err := lookupID("task", taskID)
	if err != nil {
		return t, err
	}
	t.Claim, err = scanClaim(s.pool.QueryRow(ctx, `
		SELECT `+claimColumns+`, t.status, r.status, coalesce(t.handles, '{}') FROM tasks t JOIN runs r ON r.id = t.run_id WHERE t.id = $1`, id),
		&t.Status, &t.RunStatus, &t.Handles)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, workflow.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("read task %s: %w", id, translate(err))
	}
	return t, nil
}

// ResumeTokenTask returns the task whose resume token has the digest hash.
func (s *Store) ResumeTokenTask(ctx context.Context, hash []byte) (string, error) {
	var taskID string
	err := s.pool.QueryRow(ctx, `SELECT task_id::text FROM resume_tokens WHERE token_hash = $1`, hash).Scan(&taskID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", workflow.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("look up resume token: %w", translate(err))
	}
	return taskID, nil
}
