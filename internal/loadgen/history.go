package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// HistoryConfig describes run history written straight into a service's database, for the
// retention benchmark: Runs finished runs of one workflow of their own, each with Tasks tasks
// and Logs log lines, that finished Age ago (spread over an hour), in chunks of Chunk runs.
type HistoryConfig struct {
	Runs, Tasks, Logs int
	Age               time.Duration
	Chunk             int
}

// FillHistory inserts the history of cfg with generate_series (one statement per chunk),
// then VACUUM ANALYZEs the tables so the planner and the visibility map see them as a
// long-running service would. It writes progress lines to progress. The database must be
// migrated.
func FillHistory(ctx context.Context, databaseURL string, cfg HistoryConfig, progress io.Writer) error {
	if cfg.Runs <= 0 || cfg.Tasks < 0 || cfg.Logs < 0 || cfg.Age <= time.Hour {
		return errors.New("history: runs must be positive, tasks and logs not negative, age over 1h")
	}
	if cfg.Chunk <= 0 {
		cfg.Chunk = 50_000
	}
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	wfID, versionID := uuid.NewString(), uuid.NewString()
	def := `{"nodes":[{"id":"in","type":"inputText","position":{"x":0,"y":0},"data":{"label":"in","config":{}}}],"edges":[]}`
	if _, err := conn.Exec(ctx, `
		WITH w AS (INSERT INTO workflows (id, name, current_version, created_at, updated_at) VALUES ($1, 'retention-history', 1, now(), now()))
		INSERT INTO workflow_versions (id, workflow_id, version, definition, created_at) VALUES ($2, $1, 1, $3, now())`,
		wfID, versionID, def); err != nil {
		return fmt.Errorf("history: create its workflow: %w", err)
	}
	started := time.Now()
	for done := 0; done < cfg.Runs; done += cfg.Chunk {
		n := min(cfg.Chunk, cfg.Runs-done)
		// finished_at spreads the runs over an hour that ended Age ago, oldest first.
		if _, err := conn.Exec(ctx, `
			WITH r AS (
				INSERT INTO runs (id, workflow_id, version_id, status, input, result, pending_tasks, started_at, finished_at)
				SELECT gen_random_uuid(), $1, $2, (ARRAY['succeeded', 'succeeded', 'succeeded', 'failed', 'cancelled'])[1 + i % 5],
					'{"city":"Oslo"}', '{"completedTasks":2}', 0,
					now() - $3::interval - interval '1 hour' + (($4 + i) * interval '1 hour' / $5) - interval '2 seconds',
					now() - $3::interval - interval '1 hour' + (($4 + i) * interval '1 hour' / $5)
				FROM generate_series(1, $6) i
				RETURNING id, started_at
			), t AS (
				INSERT INTO tasks (id, run_id, node_id, node_type, position, status, output, attempt, unresolved_parents, started_at, completed_at, created_at)
				SELECT gen_random_uuid(), r.id, 'n' || k, 'notification', k, 'completed', '{"message":"done"}', 1, 0, r.started_at, r.started_at, r.started_at
				FROM r, generate_series(1, $7) k
			)
			INSERT INTO run_logs (id, run_id, node_id, type, message, created_at)
			SELECT gen_random_uuid(), r.id, 'n' || k, 'node-output', 'node finished', r.started_at
			FROM r, generate_series(1, $8) k`,
			wfID, versionID, fmt.Sprintf("%d seconds", int64(cfg.Age.Seconds())), done, cfg.Runs, n, cfg.Tasks, cfg.Logs); err != nil {
			return fmt.Errorf("history: insert runs %d to %d: %w", done, done+n, err)
		}
		fmt.Fprintf(progress, "history: %d of %d runs (%.0f runs/s)\n", done+n, cfg.Runs, float64(done+n)/time.Since(started).Seconds())
	}
	for _, table := range []string{"runs", "tasks", "run_logs"} {
		if _, err := conn.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
			return fmt.Errorf("history: vacuum %s: %w", table, err)
		}
	}
	fmt.Fprintf(progress, "history: %d runs with %d tasks and %d logs each in %s\n", cfg.Runs, cfg.Tasks, cfg.Logs, time.Since(started).Round(time.Second))
	return nil
}
