package store_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver goose migrates through
	"github.com/pressly/goose/v3"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/migrations"
)

// Migration 00011 records the failed nodes of the runs that finished before it (tasks that
// failed, or failed and continued), and leaves runs without failed nodes and runs in flight
// alone; it can be rolled back and applied again.
func TestRunSearchMigrationRecordsEarlierRunsFailedNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("pgx", testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if _, err := p.DownTo(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `
			TRUNCATE workflows CASCADE;
			INSERT INTO workflows (id, name, current_version, created_at, updated_at)
			VALUES ('00000000-0000-4000-8000-000000000001', 'w', 1, now(), now());
			INSERT INTO workflow_versions (id, workflow_id, version, definition, created_at)
			VALUES ('00000000-0000-4000-9000-000000000001', '00000000-0000-4000-8000-000000000001', 1, '{}', now());
			INSERT INTO runs (id, workflow_id, version_id, status, input, pending_tasks, started_at, finished_at)
			SELECT ('00000000-0000-4000-a000-00000000000' || n)::uuid, '00000000-0000-4000-8000-000000000001',
			       '00000000-0000-4000-9000-000000000001', s, '{}', 0, now(), CASE WHEN s <> 'running' THEN now() END
			FROM (VALUES (1, 'failed'), (2, 'succeeded'), (3, 'running')) AS r(n, s);
			INSERT INTO tasks (id, run_id, node_id, node_type, position, status, outcome, error, unresolved_parents, created_at)
			SELECT gen_random_uuid(), ('00000000-0000-4000-a000-00000000000' || r)::uuid, node, 'apiCall', pos, st, oc, er, 0, now()
			FROM (VALUES (1, 'a', 0, 'completed', 'failed_continued', 'HTTP 503'), (1, 'b', 1, 'completed', NULL, NULL),
			             (1, 'c', 2, 'failed', NULL, 'HTTP 500'), (2, 'a', 0, 'completed', NULL, NULL),
			             (3, 'a', 0, 'completed', 'failed_continued', 'HTTP 502')) AS t(r, node, pos, st, oc, er)`); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		rows, err := db.QueryContext(ctx, `SELECT failed_tasks, coalesce(array_to_string(failed_nodes, ','), ''), coalesce(failed_errors, '') FROM runs ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var got [][3]any
		for rows.Next() {
			var n int
			var nodes, errs string
			if err := rows.Scan(&n, &nodes, &errs); err != nil {
				t.Fatal(err)
			}
			got = append(got, [3]any{n, nodes, errs})
		}
		rows.Close()
		want := [][3]any{{2, "a,c", "HTTP 503\nHTTP 500"}, {0, "", ""}, {0, "", ""}}
		if len(got) != len(want) {
			t.Fatalf("round %d: runs %v, want %v", round, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("round %d: run %d has failed tasks, nodes, errors %v; want %v", round, i+1, got[i], want[i])
			}
		}
	}
}
