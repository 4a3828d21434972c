package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Meter reads the service's database for measurement only: transaction counters from
// pg_stat_database (through a connection to another database, so reading them adds nothing to
// what is measured) and, after the load, the timestamps, tasks and logs of the runs.
type Meter struct {
	database string
	stats    *pgx.Conn
	data     *pgxpool.Pool
}

// OpenMeter connects to the service's database url; the counters are read through
// statsDatabase (normally "postgres") on the same server.
func OpenMeter(ctx context.Context, url, statsDatabase string) (*Meter, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("-database-url: %w", err)
	}
	if cfg.Database == statsDatabase {
		return nil, fmt.Errorf("the stats database %q must differ from the measured database", statsDatabase)
	}
	m := &Meter{database: cfg.Database}
	statsCfg := cfg.Copy()
	statsCfg.Database = statsDatabase
	if m.stats, err = pgx.ConnectConfig(ctx, statsCfg); err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL database %q for statistics: %w", statsDatabase, err)
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		m.stats.Close(ctx)
		return nil, err
	}
	pcfg.MaxConns = 2
	pcfg.MinConns = 0
	// The pool connects lazily: nothing touches the measured database before Analyze.
	if m.data, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		m.stats.Close(ctx)
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return m, nil
}

// Close releases the connections.
func (m *Meter) Close() {
	m.data.Close()
	_ = m.stats.Close(context.Background())
}

// Database is the measured database's name.
func (m *Meter) Database() string { return m.database }

// Transactions returns xact_commit + xact_rollback of the measured database. PostgreSQL
// publishes a backend's counts when it goes idle, at most once a second, and an idle backend
// publishes what is left after 10 s: read it after a settle time (see Settle).
func (m *Meter) Transactions(ctx context.Context) (int64, error) {
	var n int64
	err := m.stats.QueryRow(ctx, `SELECT coalesce(xact_commit + xact_rollback, 0) FROM pg_stat_database WHERE datname = $1`, m.database).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read pg_stat_database: %w", err)
	}
	return n, nil
}

// Settle waits d, then returns the transaction counter.
func (m *Meter) Settle(ctx context.Context, d time.Duration) (int64, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(d):
	}
	return m.Transactions(ctx)
}

// Analyze reads the runs of a phase and analyses them.
func (m *Meter) Analyze(ctx context.Context, w Workload, runIDs []string) (Analysis, error) {
	runs, tasks, logs, err := m.read(ctx, runIDs)
	if err != nil {
		return Analysis{}, err
	}
	var apis []apiOutcome
	if w.APICall != "" {
		rows, err := m.data.Query(ctx, `
			SELECT run_id::text, coalesce((output->>'success')::boolean, false)
			FROM tasks WHERE run_id = ANY($1::uuid[]) AND node_id = $2 AND status = 'completed'`, runIDs, w.APICall)
		if err != nil {
			return Analysis{}, fmt.Errorf("read apiCall outputs: %w", err)
		}
		if apis, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (apiOutcome, error) {
			var o apiOutcome
			err := r.Scan(&o.RunID, &o.Success)
			return o, err
		}); err != nil {
			return Analysis{}, fmt.Errorf("read apiCall outputs: %w", err)
		}
	}
	return analyze(w, runs, tasks, logs, apis), nil
}

func (m *Meter) read(ctx context.Context, runIDs []string) ([]runRow, []taskRow, []logCount, error) {
	rows, err := m.data.Query(ctx, `SELECT id::text, status, started_at, finished_at FROM runs WHERE id = ANY($1::uuid[])`, runIDs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (runRow, error) {
		var x runRow
		err := r.Scan(&x.ID, &x.Status, &x.StartedAt, &x.FinishedAt)
		return x, err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read runs: %w", err)
	}
	rows, err = m.data.Query(ctx, `
		SELECT run_id::text, node_id, status, attempt, started_at, completed_at
		FROM tasks WHERE run_id = ANY($1::uuid[])`, runIDs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read tasks: %w", err)
	}
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (taskRow, error) {
		var x taskRow
		err := r.Scan(&x.RunID, &x.NodeID, &x.Status, &x.Attempt, &x.StartedAt, &x.CompletedAt)
		return x, err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read tasks: %w", err)
	}
	rows, err = m.data.Query(ctx, `
		SELECT run_id::text, node_id,
		       count(*) FILTER (WHERE type = 'node-output'),
		       count(*) FILTER (WHERE type = 'error' AND message LIKE 'Attempt % failed%')
		FROM run_logs WHERE run_id = ANY($1::uuid[]) AND node_id IS NOT NULL
		GROUP BY run_id, node_id`, runIDs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read run logs: %w", err)
	}
	logs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (logCount, error) {
		var x logCount
		err := r.Scan(&x.RunID, &x.NodeID, &x.Outputs, &x.Retries)
		return x, err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read run logs: %w", err)
	}
	return runs, tasks, logs, nil
}
