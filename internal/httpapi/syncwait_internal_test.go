package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// An API built without a RunWaiter reads the run every SyncPoll until it finishes.
func TestPollingWaiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: testenv.Database(t), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wf, version, run := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO workflows (id, name, current_version, created_at, updated_at) VALUES ($1, 'w', 1, now(), now())`, []any{wf}},
		{`INSERT INTO workflow_versions (id, workflow_id, version, definition, created_at) VALUES ($1, $2, 1, '{}', now())`, []any{version, wf}},
		{`INSERT INTO runs (id, workflow_id, version_id, status, input, pending_tasks, started_at) VALUES ($1, $2, $3, 'running', '{}', 1, now())`, []any{run, wf, version}},
	} {
		if _, err := st.Pool().Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	waiter := pollingWaiter{runs: st, every: 10 * time.Millisecond}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := waiter.WaitFinished(short, run); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("running run: %v, want the deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- waiter.WaitFinished(ctx, run) }()
	if _, err := st.Pool().Exec(ctx, `UPDATE runs SET status = 'failed', pending_tasks = 0, finished_at = now() WHERE id = $1`, run); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("finished run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("still waiting a minute after the run finished")
	}
	if err := waiter.WaitFinished(ctx, uuid.NewString()); !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("unknown run: %v, want ErrNotFound", err)
	}
}
