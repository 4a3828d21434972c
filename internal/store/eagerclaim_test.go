package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// twoPending stores a run with two pending tasks, a and b, and returns its id.
func twoPending(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	w, err := st.CreateWorkflow(ctx, "eager", workflowtest.New().Input("in").Build(), now)
	if err != nil {
		t.Fatal(err)
	}
	runID := uuid.NewString()
	_, _, err = st.CreateRun(ctx, engine.NewRun{ID: runID, WorkflowID: w.ID, VersionID: w.VersionID, Input: json.RawMessage(`{}`), Now: now,
		Tasks: []engine.NewTask{
			{ID: engine.TaskID(runID, "a"), NodeID: "a", NodeType: workflow.TypeNotification, Status: workflow.TaskPending, Unresolved: 1},
			{ID: engine.TaskID(runID, "b"), NodeID: "b", NodeType: workflow.TypeNotification, Status: workflow.TaskPending, Unresolved: 1},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return runID
}

// Rule 11: releasing with a claim makes the claimed task running as its first attempt, held by
// the claiming worker, in the same statement; the others are queued as before. The claim is
// filled in from the statement's result.
func TestReleaseClaimsForTheReleasingWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: testenv.Database(t), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runID := twoPending(t, st)
	claim := &engine.ReleaseClaim{WorkerID: "w-eager"}
	now := time.Now()
	err = st.InRun(ctx, runID, func(tx engine.RunTx) error {
		return tx.ReleaseTasks(ctx, runID, []engine.Release{
			{NodeID: "a", Input: json.RawMessage(`{"x":1}`), Edges: 1, Taken: 1, Claim: claim},
			{NodeID: "b", Input: json.RawMessage(`{"x":2}`), Edges: 1, Taken: 1},
		}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	if claim.Attempt != 1 || claim.Redeliveries != 0 || claim.WorkerID != "w-eager" {
		t.Errorf("claim %+v, want attempt 1 for w-eager", *claim)
	}
	for node, want := range map[string]struct{ status, worker string }{"a": {"running", "w-eager"}, "b": {"queued", ""}} {
		var status, worker string
		var attempt int
		if err := st.Pool().QueryRow(ctx, `SELECT status, coalesce(worker_id, ''), attempt FROM tasks WHERE run_id = $1 AND node_id = $2`, runID, node).
			Scan(&status, &worker, &attempt); err != nil {
			t.Fatal(err)
		}
		if status != want.status || worker != want.worker || attempt != map[string]int{"a": 1, "b": 0}[node] {
			t.Errorf("%s: %s by %q attempt %d, want %s by %q", node, status, worker, attempt, want.status, want.worker)
		}
	}
	// The claimed task is what a delivery's claim would be: the classic path can finish it.
	err = st.InRun(ctx, runID, func(tx engine.RunTx) error {
		return tx.FinishTask(ctx, engine.TaskFinish{TaskID: engine.TaskID(runID, "a"), From: workflow.TaskRunning, Attempt: claim.Attempt,
			Redeliveries: claim.Redeliveries, To: workflow.TaskCompleted, Output: json.RawMessage(`{}`), Now: time.Now()})
	})
	if err != nil {
		t.Errorf("finish the claimed task: %v", err)
	}
}

// A transition whose context ends once its work is queued still commits: COMMIT is sent and
// its answer awaited, so a committed transition is never reported failed.
func TestTransitionCommitsWhenItsContextEndsAtCommit(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), store.Config{URL: testenv.Database(t), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runID := twoPending(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	err = st.InRun(ctx, runID, func(tx engine.RunTx) error {
		if err := tx.SkipTasks(ctx, runID, []string{"a"}, time.Now()); err != nil {
			return err
		}
		cancel() // e.g. the worker is shutting down while the transition is being sent
		return nil
	})
	if err != nil {
		t.Fatalf("InRun: %v, want the transition committed", err)
	}
	var status string
	if err := st.Pool().QueryRow(context.Background(), `SELECT status FROM tasks WHERE run_id = $1 AND node_id = 'a'`, runID).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != workflow.TaskSkipped {
		t.Errorf("a is %s, want skipped (committed)", status)
	}
}
