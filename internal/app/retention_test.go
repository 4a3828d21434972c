package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A dev process (API and worker) prunes history past RUN_RETENTION on its own: runs that
// finished long ago disappear with their tasks and logs, a run it just executed stays, and
// /metrics counts the pruned runs and passes and reports the age of the oldest run kept.
func TestProcessPrunesExpiredRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := apptest.Start(t, func(c *app.Config) {
		keep := 24 * time.Hour
		c.RunRetention, c.RetentionInterval, c.RetentionBatch = &keep, 50*time.Millisecond, 10
	})
	wfID := createWorkflow(t, srv.URL, workflowtest.New().Input("in").Notify("done", "ok").Chain("in", "done").JSON())
	fresh := execute(t, srv.URL, wfID)
	waitTerminal(t, nil, srv.URL, fresh)

	db, err := pgx.Connect(ctx, srv.Cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	// 25 runs of the same workflow that finished 3 days ago, each with a task and a log line,
	// and one that started as long ago but is still running.
	if _, err := db.Exec(ctx, `
		WITH r AS (
			INSERT INTO runs (id, workflow_id, version_id, status, input, pending_tasks, started_at, finished_at)
			SELECT gen_random_uuid(), workflow_id, version_id, CASE WHEN i = 0 THEN 'running' ELSE 'succeeded' END, '{}', 0,
				now() - interval '3 days', CASE WHEN i = 0 THEN NULL ELSE now() - interval '3 days' END
			FROM runs, generate_series(0, 25) i WHERE id = $1
			RETURNING id
		), t AS (
			INSERT INTO tasks (id, run_id, node_id, node_type, position, status, unresolved_parents, created_at)
			SELECT gen_random_uuid(), id, 'in', 'inputText', 0, 'completed', 0, now() FROM r
		)
		INSERT INTO run_logs (id, run_id, type, message, created_at) SELECT gen_random_uuid(), id, 'info', 'old', now() FROM r`, fresh); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		var n int
		if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testenv.WaitFor(t, 30*time.Second, "the old runs to be pruned", func() bool {
		return count(`SELECT count(*) FROM runs WHERE finished_at < now() - interval '1 day'`) == 0
	})
	if n := count(`SELECT count(*) FROM runs`); n != 2 {
		t.Errorf("%d runs left, want the fresh one and the old running one", n)
	}
	if n := count(`SELECT count(*) FROM run_logs WHERE message = 'old'`); n != 1 {
		t.Errorf("%d old log lines left, want only the running run's", n)
	}
	resp, err := http.Get(srv.URL + "/workflows/runs/" + fresh + "/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the fresh run's status answers %d", resp.StatusCode)
	}
	s := scrapeSamples(t, srv.URL+"/metrics")
	if got := s.sum("sequenceflow_retention_pruned_runs_total", nil); got != 25 {
		t.Errorf("sequenceflow_retention_pruned_runs_total = %v, want 25", got)
	}
	if got := s.sum("sequenceflow_retention_passes_total", map[string]string{"result": "ok"}); got < 1 {
		t.Errorf("sequenceflow_retention_passes_total{result=ok} = %v", got)
	}
	f := scrapeFamilies(t, srv.URL+"/metrics")["sequenceflow_retention_oldest_run_age_seconds"]
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("/metrics lacks sequenceflow_retention_oldest_run_age_seconds: %v", f)
	}
	if age := f.GetMetric()[0].GetGauge().GetValue(); age <= 0 || age > 3600 {
		t.Errorf("oldest run kept is %v s old, want the fresh run's few seconds", age)
	}
}
