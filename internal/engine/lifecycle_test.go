package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// Rule 8: a delay parks its task as waiting without holding a worker slot, survives a worker
// restart, and completes after its wait.
func TestDelayHoldsNoSlotAndSurvivesRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	stop := h.startWorker(1) // one slot: a parked delay must not hold it
	slow := h.createWorkflow(workflowtest.New().Input("in").Delay("wait", 1.5).Notify("after", "woke {{k}}").Chain("in", "wait", "after").Build())
	fast := h.createWorkflow(workflowtest.New().Input("in").Notify("n", "fast").Chain("in", "n").Build())

	slowRun := h.start(slow, map[string]any{"k": "v"})
	h.waitTask(slowRun, "wait", workflow.TaskWaiting)
	if r := h.waitRun(h.start(fast, nil)); r.Status != workflow.RunSucceeded {
		t.Fatalf("fast run %s while the delay waits, want succeeded", r.Status)
	}
	if r := h.run(slowRun); r.Status != workflow.RunRunning {
		t.Fatalf("slow run is %s before its delay ended, want running", r.Status)
	}
	stop() // the worker goes away while the delay waits; a new one takes over
	h.startWorker(1)
	r := h.waitRun(slowRun)
	if got := nodeLogs(r, "after"); r.Status != workflow.RunSucceeded || len(got) != 1 || got[0] != "woke v" {
		t.Fatalf("status %s after logged %q; want succeeded with the payload passed through", r.Status, got)
	}
	w := taskOf(t, r, "wait")
	if elapsed := w.CompletedAt.Sub(*w.StartedAt); elapsed < 1500*time.Millisecond {
		t.Fatalf("delay completed after %s, want at least 1.5s", elapsed)
	}
	var out map[string]any
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT output FROM tasks WHERE id = $1`, w.ID).Scan(&out); err != nil {
		t.Fatal(err)
	}
	if _, leaked := out["delayMs"]; leaked || out["k"] != "v" {
		t.Fatalf("delay output %v, want the input unchanged (no delayMs)", out)
	}
}

// Rule 9: cancelling during a delay cancels the run and every unfinished task, drops the
// wake-up, and a second cancel is a conflict.
func TestCancelDuringDelay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").Delay("wait", 3600).Notify("after", "never").Chain("in", "wait", "after").Build())
	runID := h.start(w, nil)
	wait := h.waitTask(runID, "wait", workflow.TaskWaiting)
	// An early wake-up delivery does not end the delay; the queue is told to come back later.
	err := h.eng.Wake(context.Background(), engine.TaskRef{TaskID: wait.ID, RunID: runID, Kind: engine.KindWake})
	var later *engine.RetryLater
	if !errors.As(err, &later) || later.Delay < 59*time.Minute {
		t.Fatalf("early wake-up: %v, want a RetryLater of about an hour", err)
	}
	if got := taskOf(t, h.run(runID), "wait").Status; got != workflow.TaskWaiting {
		t.Fatalf("after an early wake-up the delay is %s, want waiting", got)
	}
	if err := h.eng.Cancel(context.Background(), runID); err != nil {
		t.Fatal(err)
	}
	r := h.run(runID)
	want := map[string]string{"in": "completed", "wait": "cancelled", "after": "cancelled"}
	if got := statuses(r); r.Status != workflow.RunCancelled || !mapsEqual(got, want) {
		t.Fatalf("status %s tasks %v; want cancelled %v", r.Status, got, want)
	}
	if !jsonEqual(t, mustField(t, r.Result, "cancelled"), "true") {
		t.Errorf("result %s lacks cancelled: true", r.Result)
	}
	if h.queueHas(wait.ID + ":wake") {
		t.Error("the wake-up is still scheduled after cancel")
	}
	// A late wake-up delivery is dropped.
	if err := h.eng.Wake(context.Background(), engine.TaskRef{TaskID: wait.ID, RunID: runID, Kind: engine.KindWake}); err != nil {
		t.Fatal(err)
	}
	if got := statuses(h.run(runID)); !mapsEqual(got, want) {
		t.Fatalf("after a late wake-up: %v, want %v", got, want)
	}
	if err := h.eng.Cancel(context.Background(), runID); !errors.Is(err, workflow.ErrConflict) {
		t.Fatalf("second cancel: %v, want ErrConflict", err)
	}
}

// Rule 9: cancelling stops an in-flight execution, and its late completion is discarded.
func TestCancelStopsInFlightCall(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().APICall("api", "GET", srv.URL+"/hang", map[string]any{"timeoutMs": 60000}).Notify("n", "never").Chain("api", "n").Build())
	runID := h.start(w, nil)
	testenv.WaitFor(h.t, 10*time.Second, "the call to be in flight", func() bool { return srv.count("/hang") == 1 })
	if err := h.eng.Cancel(context.Background(), runID); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(h.t, 10*time.Second, "the in-flight request to be cancelled", func() bool { return srv.cancelled.Load() == 1 })
	r := h.run(runID)
	if got := statuses(r); r.Status != workflow.RunCancelled || got["api"] != "cancelled" || got["n"] != "cancelled" {
		t.Fatalf("status %s tasks %v; want everything cancelled", r.Status, got)
	}
	if len(nodeLogs(r, "api")) != 0 {
		t.Fatalf("the cancelled call still wrote logs: %q", nodeLogs(r, "api"))
	}
}

// A workflow edited while a run is in flight does not change that run: runs pin their version.
func TestEditDoesNotChangeRunInFlight(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").Delay("wait", 0.5).Notify("n", "version one").Chain("in", "wait", "n").Build())
	runID := h.start(w, nil)
	h.waitTask(runID, "wait", workflow.TaskWaiting)
	edited := workflowtest.New().Input("in").Notify("n", "version two").Notify("extra", "extra").Chain("in", "n", "extra").Build()
	if _, err := h.store.UpdateWorkflow(context.Background(), w.ID, "edited", edited, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := h.waitRun(runID)
	if got := nodeLogs(r, "n"); r.Status != workflow.RunSucceeded || len(got) != 1 || got[0] != "version one" || len(r.Tasks) != 3 {
		t.Fatalf("status %s, n logged %q, %d tasks; want the original version's behaviour", r.Status, got, len(r.Tasks))
	}
}

// Rule 10: a run past its deadline is failed by the reconciler. The run's deadline is far
// enough away that no worker, however slow the machine, reaches it; the reconciler runs on a
// clock past it.
func TestRunDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").Delay("wait", 3600).Chain("in", "wait").Build())
	const timeout = 10 * time.Minute
	runID, _, err := h.eng.StartRun(context.Background(), engine.StartRequest{WorkflowID: w.ID, VersionID: w.VersionID, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	h.waitTask(runID, "wait", workflow.TaskWaiting)
	late := h.engineAt(func() time.Time { return time.Now().Add(timeout + time.Minute) })
	if _, err := late.Reconcile(context.Background(), engine.ReconcilerConfig{}); err != nil {
		t.Fatal(err)
	}
	r := h.run(runID)
	if r.Status != workflow.RunFailed || r.Error != "run deadline exceeded" || taskOf(t, r, "wait").Status != workflow.TaskSkipped {
		t.Fatalf("status %s error %q wait %s; want the run failed with the deadline error and the waiting task ended", r.Status, r.Error, taskOf(t, r, "wait").Status)
	}
}

// An idempotency key starts one run however often it is sent.
func TestIdempotentStart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.createWorkflow(workflowtest.New().Input("in").Build())
	req := engine.StartRequest{WorkflowID: w.ID, VersionID: w.VersionID, IdempotencyKey: "order-42"}
	first, created, err := h.eng.StartRun(context.Background(), req)
	if err != nil || !created {
		t.Fatalf("first start: %v created=%v", err, created)
	}
	again, created, err := h.eng.StartRun(context.Background(), req)
	if err != nil || created || again != first {
		t.Fatalf("second start: id %s (first %s) created=%v err=%v; want the same run", again, first, created, err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustField(t *testing.T, raw json.RawMessage, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return m[key]
}
