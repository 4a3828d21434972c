package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// A run list filtered by status reads runs_workflow_status_started_idx (migration 00009), one
// range per status, rather than every run of the workflow.
func TestListRunsByStatusUsesTheStatusIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// An empty table would be read whole whatever its indexes; without sequential scans the
	// planner shows which index it finds for the query.
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `EXPLAIN `+store.ListRunsByStatusQuery,
		"5b0f8a9e-0c4d-4e7a-9a51-d2b1a6c0e3f7", nil, nil, 101, []string{"running", "failed"})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if !strings.Contains(plan, "runs_workflow_status_started_idx") || strings.Contains(plan, "Seq Scan on runs") {
		t.Errorf("plan of the filtered run list does not read runs_workflow_status_started_idx:\n%s", plan)
	}
}
