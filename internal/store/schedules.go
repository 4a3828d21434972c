package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/schedule"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// scheduleColumns are a schedule's columns in the order scanSchedule reads them.
const scheduleColumns = `s.id::text, s.workflow_id::text, coalesce(s.name, ''), coalesce(s.cron, ''), s.timezone, coalesce(s.interval_ms, 0),
	s.input, coalesce(s.version, 0), s.overlap, s.catch_up, s.catch_up_limit, s.paused, s.next_fire_at, s.last_fire_at,
	coalesce(s.last_run_id::text, ''), s.created_at, s.updated_at`

func scanSchedule(row pgx.Row, extra ...any) (schedule.Schedule, error) {
	var sc schedule.Schedule
	var intervalMs int64
	var overlap, catchUp string
	var lastFire *time.Time
	dest := append([]any{&sc.ID, &sc.WorkflowID, &sc.Name, &sc.Cron, &sc.Timezone, &intervalMs, &sc.Input, &sc.Version,
		&overlap, &catchUp, &sc.CatchUpLimit, &sc.Paused, &sc.NextFireAt, &lastFire, &sc.LastRunID, &sc.CreatedAt, &sc.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return sc, err
	}
	sc.Interval = time.Duration(intervalMs) * time.Millisecond
	sc.Overlap, sc.CatchUp = schedule.Overlap(overlap), schedule.CatchUp(catchUp)
	if lastFire != nil {
		sc.LastFireAt = *lastFire
	}
	for _, t := range []*time.Time{&sc.NextFireAt, &sc.LastFireAt, &sc.CreatedAt, &sc.UpdatedAt} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	return sc, nil
}

// CreateSchedule stores a new schedule of an existing workflow (ErrNotFound otherwise), at
// most schedule.MaxPerWorkflow per workflow (schedule.ErrTooMany beyond).
func (s *Store) CreateSchedule(ctx context.Context, sc schedule.Schedule) (schedule.Schedule, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The workflow's row serialises concurrent creates, so the count below holds.
		var n int
		if err := tx.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM schedules WHERE workflow_id = w.id) FROM workflows w WHERE w.id = $1 FOR NO KEY UPDATE`,
			sc.WorkflowID).Scan(&n); err != nil {
			return err
		}
		if n >= schedule.MaxPerWorkflow {
			return schedule.ErrTooMany
		}
		var intervalMs *int64
		if sc.Interval > 0 {
			ms := sc.Interval.Milliseconds()
			intervalMs = &ms
		}
		var version *int
		if sc.Version > 0 {
			version = &sc.Version
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO schedules (id, workflow_id, name, cron, timezone, interval_ms, input, version, overlap, catch_up, catch_up_limit,
			                       paused, next_fire_at, created_at, updated_at)
			VALUES ($1, $2, nullif($3, ''), nullif($4, ''), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
			sc.ID, sc.WorkflowID, sc.Name, sc.Cron, sc.Timezone, intervalMs, sc.Input, version, string(sc.Overlap), string(sc.CatchUp),
			sc.CatchUpLimit, sc.Paused, sc.NextFireAt, sc.CreatedAt)
		return err
	})
	if err != nil {
		if errors.Is(err, schedule.ErrTooMany) {
			return schedule.Schedule{}, err
		}
		return schedule.Schedule{}, fmt.Errorf("create schedule of workflow %s: %w", sc.WorkflowID, translate(err))
	}
	return s.GetSchedule(ctx, sc.ID)
}

// GetSchedule reads one schedule.
func (s *Store) GetSchedule(ctx context.Context, id string) (schedule.Schedule, error) {
	sc, err := scanSchedule(s.pool.QueryRow(ctx, `SELECT `+scheduleColumns+` FROM schedules s WHERE s.id = $1`, id))
	if err != nil {
		return sc, fmt.Errorf("read schedule %s: %w", id, translate(err))
	}
	return sc, nil
}

// ListSchedules lists a workflow's schedules, oldest first (at most schedule.MaxPerWorkflow);
// ErrNotFound when the workflow does not exist.
func (s *Store) ListSchedules(ctx context.Context, workflowID string) ([]schedule.Schedule, error) {
	ok, err := s.WorkflowExists(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("list schedules of workflow %s: %w", workflowID, workflow.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+scheduleColumns+` FROM schedules s WHERE s.workflow_id = $1 ORDER BY s.created_at, s.id LIMIT $2`,
		workflowID, schedule.MaxPerWorkflow)
	if err != nil {
		return nil, fmt.Errorf("list schedules of workflow %s: %w", workflowID, translate(err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schedule.Schedule, error) { return scanSchedule(r) })
	if err != nil {
		return nil, fmt.Errorf("list schedules of workflow %s: %w", workflowID, translate(err))
	}
	return list, nil
}

// DeleteSchedule deletes a schedule; a tick it is firing finishes first.
func (s *Store) DeleteSchedule(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM schedules WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete schedule %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete schedule %s: %w", id, workflow.ErrNotFound)
	}
	return nil
}

// PauseSchedule pauses a schedule: it fires nothing until resumed. Pausing a paused schedule
// changes nothing.
func (s *Store) PauseSchedule(ctx context.Context, id string, now time.Time) (schedule.Schedule, error) {
	now = now.UTC().Truncate(time.Millisecond)
	sc, err := scanSchedule(s.pool.QueryRow(ctx, `
		UPDATE schedules s SET paused = true, updated_at = CASE WHEN paused THEN updated_at ELSE $2 END
		WHERE s.id = $1 RETURNING `+scheduleColumns, id, now))
	if err != nil {
		return sc, fmt.Errorf("pause schedule %s: %w", id, translate(err))
	}
	return sc, nil
}

// ResumeSchedule resumes a paused schedule, its next fire time recomputed from now
// (schedule.Spec.ResumeAt: the ticks of the pause are not fired in a storm). Resuming a
// schedule that is not paused changes nothing.
func (s *Store) ResumeSchedule(ctx context.Context, id string, now time.Time) (schedule.Schedule, error) {
	now = now.UTC().Truncate(time.Millisecond)
	var out schedule.Schedule
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sc, err := scanSchedule(tx.QueryRow(ctx, `SELECT `+scheduleColumns+` FROM schedules s WHERE s.id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if !sc.Paused {
			out = sc
			return nil
		}
		spec, err := sc.Spec()
		if err != nil {
			return err
		}
		next := spec.ResumeAt(sc.NextFireAt, now, sc.CatchUp)
		out, err = scanSchedule(tx.QueryRow(ctx, `
			UPDATE schedules s SET paused = false, next_fire_at = $2, updated_at = $3 WHERE s.id = $1 RETURNING `+scheduleColumns,
			id, next, now))
		return err
	})
	if err != nil {
		return out, fmt.Errorf("resume schedule %s: %w", id, translate(err))
	}
	return out, nil
}

// FireDue implements schedule.Store: one transaction locks the due schedules it can (others
// are being fired by another scheduler), fire handles each while they stay locked, and their
// advances commit together. A scheduler that dies before the commit leaves the schedules as
// they were, for the next claim to fire the same ticks (with the same idempotency keys).
func (s *Store) FireDue(ctx context.Context, now time.Time, limit int, fire schedule.FireFunc) (int, error) {
	claimed := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT `+scheduleColumns+`, coalesce(v.id::text, '')
			FROM schedules s
			JOIN workflows w ON w.id = s.workflow_id
			LEFT JOIN workflow_versions v ON v.workflow_id = s.workflow_id AND v.version = coalesce(s.version, w.current_version)
			WHERE NOT s.paused AND s.next_fire_at <= $1
			ORDER BY s.next_fire_at
			LIMIT $2
			FOR UPDATE OF s SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schedule.Due, error) {
			var d schedule.Due
			sc, err := scanSchedule(r, &d.VersionID)
			d.Schedule = sc
			return d, err
		})
		if err != nil {
			return err
		}
		claimed = len(due)
		for _, d := range due {
			adv, ok, err := fire(ctx, d)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if _, err := tx.Exec(ctx, `
				UPDATE schedules SET next_fire_at = $2,
				       last_fire_at = coalesce($3, last_fire_at), last_run_id = coalesce(nullif($4, '')::uuid, last_run_id), updated_at = $5
				WHERE id = $1`, d.ID, adv.NextFireAt, nullTime(adv.LastFireAt), adv.LastRunID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return claimed, fmt.Errorf("fire due schedules: %w", translate(err))
	}
	return claimed, nil
}

// TickRuns implements schedule.Store: the runs of a workflow started with some of keys.
func (s *Store) TickRuns(ctx context.Context, workflowID string, keys []string) (map[string]string, error) {
	out := make(map[string]string)
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT idempotency_key, id::text FROM runs WHERE workflow_id = $1 AND idempotency_key = ANY($2)`, workflowID, keys)
	if err != nil {
		return nil, fmt.Errorf("read tick runs of workflow %s: %w", workflowID, translate(err))
	}
	var key, id string
	_, err = pgx.ForEachRow(rows, []any{&key, &id}, func() error {
		out[key] = id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read tick runs of workflow %s: %w", workflowID, translate(err))
	}
	return out, nil
}

// RunActive implements schedule.Store: whether a run is queued or running.
func (s *Store) RunActive(ctx context.Context, runID string) (bool, error) {
	var active bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1 AND status IN ('queued', 'running'))`, runID).Scan(&active)
	if err != nil {
		return false, fmt.Errorf("read status of run %s: %w", runID, translate(err))
	}
	return active, nil
}
