package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/retention"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// The delete finds expired runs by a range of runs_finished_idx, not by reading runs whole,
// and the cascades to tasks and run_logs have an index whose leading column is run_id.
func TestPruneUsesIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := testenv.Conn(t)
	// An empty table would be read whole whatever its indexes; without sequential scans the
	// planner shows which index it finds for the query.
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `EXPLAIN `+store.DeleteExpiredRunsQuery, time.Time{}, time.Now(), 500, retention.Terminal, 1)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if plan := strings.Join(lines, "\n"); !strings.Contains(plan, "runs_finished_idx") || strings.Contains(plan, "Seq Scan on runs") {
		t.Errorf("plan of the retention delete does not read runs_finished_idx:\n%s", plan)
	}
	for _, table := range []string{"tasks", "run_logs"} {
		var n int
		if err := conn.QueryRow(ctx, `
			SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
			WHERE i.indrelid = $1::regclass AND a.attname = 'run_id' AND i.indpred IS NULL AND i.indisvalid`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s has no index led by run_id: deleting a run would read the whole table", table)
		}
	}
}
