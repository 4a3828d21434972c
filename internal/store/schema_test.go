package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/store"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// Every transition updates a task's status and times. Those updates stay HOT (in place, no
// index writes) only while no index of tasks covers a column that changes, in its keys or in
// its predicate.
func TestTaskIndexesCoverOnlyImmutableColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := testenv.Conn(t)
	rows, err := conn.Query(ctx, `
		SELECT i.indexrelid::regclass::text, a.attname
		FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
		WHERE i.indrelid = 'tasks'::regclass
		  AND (a.attnum = ANY (i.indkey) OR pg_get_expr(i.indpred, i.indrelid) LIKE '%' || a.attname || '%')
		  AND a.attnum > 0`)
	if err != nil {
		t.Fatal(err)
	}
	covered, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var c [2]string
		return c, r.Scan(&c[0], &c[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	immutable := map[string]bool{"id": true, "run_id": true, "node_id": true, "position": true}
	if len(covered) == 0 {
		t.Fatal("tasks has no indexes: the query is wrong")
	}
	for _, c := range covered {
		if !immutable[c[1]] {
			t.Errorf("index %s covers tasks.%s, which transitions change: task updates can no longer be HOT", c[0], c[1])
		}
	}
	var fillfactor string
	if err := conn.QueryRow(ctx, `SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = 'tasks'::regclass`).Scan(&fillfactor); err != nil {
		t.Fatal(err)
	}
	if fillfactor != "fillfactor=70" {
		t.Errorf("tasks reloptions %q, want fillfactor=70 so updated rows fit on their page", fillfactor)
	}
}

// A negative pool size is refused rather than silently replaced by pgxpool's default.
func TestOpenRefusesNegativePoolSize(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), store.Config{URL: testenv.Database(t), MaxConns: -1})
	if err == nil {
		st.Close()
		t.Fatal("a negative pool size was accepted")
	}
}
