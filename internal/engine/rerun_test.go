package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// switchTarget is an endpoint for apiCall nodes that counts calls per path and fails the paths
// marked broken (500) until they are fixed.
type switchTarget struct {
	*httptest.Server
	mu     sync.Mutex
	calls  map[string]int
	broken map[string]bool
}

func newSwitchTarget(t *testing.T, broken ...string) *switchTarget {
	st := &switchTarget{calls: map[string]int{}, broken: map[string]bool{}}
	for _, p := range broken {
		st.broken[p] = true
	}
	st.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		st.calls[r.URL.Path]++
		n, bad := st.calls[r.URL.Path], st.broken[r.URL.Path]
		st.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if bad {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":"down"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "call": n, "v": 1})
	}))
	t.Cleanup(st.Close)
	return st
}

func (st *switchTarget) fix(path string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.broken, path)
}

func (st *switchTarget) count(path string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.calls[path]
}

func (h *harness) rerun(req engine.RerunRequest) engine.Started {
	h.t.Helper()
	s, err := h.eng.Rerun(context.Background(), req)
	if err != nil {
		h.t.Fatalf("%s of %s: %v", req.Origin, req.RunID, err)
	}
	return s
}

func (h *harness) retry(runID string) workflow.Run {
	h.t.Helper()
	s := h.rerun(engine.RerunRequest{RunID: runID, Origin: engine.OriginRetry})
	if !s.Created {
		h.t.Fatalf("retry of %s returned an existing run", runID)
	}
	h.checkCounters(s.RunID)
	return h.waitRun(s.RunID)
}

// checkCounters checks a run's counter against its tasks, right after it was created or at any
// time: pending_tasks counts exactly its non-terminal tasks, and no terminal task has
// unresolved parents.
func (h *harness) checkCounters(runID string) {
	h.t.Helper()
	var pending, live, badTerminal int
	err := h.store.Pool().QueryRow(context.Background(), `
		SELECT r.pending_tasks,
		       (SELECT count(*) FROM tasks WHERE run_id = r.id AND status IN ('pending', 'queued', 'running', 'waiting')),
		       (SELECT count(*) FROM tasks WHERE run_id = r.id AND status IN ('completed', 'skipped') AND unresolved_parents > 0)
		FROM runs r WHERE r.id = $1`, runID).Scan(&pending, &live, &badTerminal)
	if err != nil {
		h.t.Fatal(err)
	}
	if r := h.run(runID); workflow.RunTerminal(r.Status) {
		return // the counter is 0 once the run ended
	}
	if pending != live || badTerminal != 0 {
		h.t.Errorf("run %s: pending_tasks %d, non-terminal tasks %d, terminal tasks with unresolved parents %d", runID, pending, live, badTerminal)
	}
}

// failFast makes an apiCall fail its run at the first error.
var failFast = map[string]any{"onError": "fail", "retries": 0}

func wantStatuses(t *testing.T, r workflow.Run, want map[string]string) {
	t.Helper()
	got := statuses(r)
	for node, st := range want {
		if got[node] != st {
			t.Errorf("run %s: %s is %s, want %s (all: %v)", r.ID, node, got[node], st, got)
		}
	}
}

// Chain: a retry reuses the node before the failure (not called again), re-executes the failed
// node and runs the rest; the new run records its parent.
func TestRetryChain(t *testing.T) {
	t.Parallel()
	srv := newSwitchTarget(t, "/b")
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("a", "GET", srv.URL+"/a", failFast).APICall("b", "GET", srv.URL+"/b", failFast).
		Notify("n", "{{data.path}}").Chain("in", "a", "b", "n").Build())
	orig := h.waitRun(h.start(w, map[string]any{"k": 1}))
	if orig.Status != workflow.RunFailed {
		t.Fatalf("original %s, want failed", orig.Status)
	}
	wantStatuses(t, orig, map[string]string{"a": "completed", "b": "failed", "n": "skipped"})
	srv.fix("/b")
	r := h.retry(orig.ID)
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("retry %s (%s), want succeeded", r.Status, r.Error)
	}
	if srv.count("/a") != 1 || srv.count("/b") != 2 {
		t.Errorf("calls /a %d /b %d, want 1 and 2", srv.count("/a"), srv.count("/b"))
	}
	if a := taskOf(t, r, "a"); a.Attempt != 0 || a.Status != workflow.TaskCompleted {
		t.Errorf("reused a: attempt %d status %s, want 0 completed", a.Attempt, a.Status)
	}
	if got := nodeLogs(r, "n"); len(got) != 1 || got[0] != "/b" {
		t.Errorf("n logged %q, want [/b]", got)
	}
	v, err := h.store.RunView(context.Background(), workflow.RunKey{RunID: r.ID}, workflow.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Lineage.ParentRunID != orig.ID || v.Lineage.Origin != engine.OriginRetry {
		t.Errorf("lineage %+v, want parent %s retry", v.Lineage, orig.ID)
	}
	pv, err := h.store.RunView(context.Background(), workflow.RunKey{RunID: orig.ID}, workflow.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Lineage.Reruns) != 1 || pv.Lineage.Reruns[0].ID != r.ID || pv.Lineage.Reruns[0].Status != workflow.RunSucceeded {
		t.Errorf("original's reruns %+v, want the retry", pv.Lineage.Reruns)
	}
	// Nothing is left to retry in a run that succeeded without failed nodes.
	_, err = h.eng.Rerun(context.Background(), engine.RerunRequest{RunID: r.ID, Origin: engine.OriginRetry})
	var refusal *engine.RerunRefusal
	if !errors.As(err, &refusal) {
		t.Errorf("retry of a succeeded run: %v, want a refusal", err)
	}
}

// Fan-out and join: the branch that completed is reused, the failed one re-executed, and the
// join runs once with both.
func TestRetryFanOutJoin(t *testing.T) {
	t.Parallel()
	srv := newSwitchTarget(t, "/y")
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("x", "GET", srv.URL+"/x", failFast).APICall("y", "GET", srv.URL+"/y", failFast).
		APICall("j", "GET", srv.URL+"/j", failFast).Chain("in", "x", "j").Chain("in", "y", "j").Build())
	orig := h.waitRun(h.start(w, nil))
	if orig.Status != workflow.RunFailed {
		t.Fatalf("original %s, want failed", orig.Status)
	}
	// y's failure may have cancelled or skipped x before it completed: then the retry calls it.
	xDone := taskOf(t, orig, "x").Status == workflow.TaskCompleted
	xBefore := srv.count("/x")
	srv.fix("/y")
	r := h.retry(orig.ID)
	wantStatuses(t, r, map[string]string{"x": "completed", "y": "completed", "j": "completed"})
	wantX := 1
	if xDone {
		wantX = 0
	}
	if got := srv.count("/x") - xBefore; got != wantX || srv.count("/y") != 2 || srv.count("/j") != 1 {
		t.Errorf("retry's calls /x %d, calls /y %d /j %d, want %d 2 1 (x completed in the original: %v)", got, srv.count("/y"), srv.count("/j"), wantX, xDone)
	}
}

// If/else and decision: a reused deciding node keeps the untaken branch skipped (never called)
// and the taken branch that failed is re-executed.
func TestRetryBranchesKeepUntakenSkipped(t *testing.T) {
	t.Parallel()
	srv := newSwitchTarget(t, "/yes", "/hi")
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").
		IfElse("i", "v", gt(0)).
		APICall("yes", "GET", srv.URL+"/yes", failFast).APICall("no", "GET", srv.URL+"/no", failFast).
		Decision("d", "data.v", workflowtest.Outcome{ID: "hi", Rule: gt(0)},
			workflowtest.Outcome{ID: "lo", Rule: map[string]any{"<": []any{map[string]any{"var": "value"}, 0}}}).
		APICall("hi", "GET", srv.URL+"/hi", failFast).APICall("lo", "GET", srv.URL+"/lo", failFast).
		Edge("in", "i", "out").Edge("i", "yes", "out-true").Edge("i", "no", "out-false").
		Edge("yes", "d", "out").Edge("d", "hi", "out-hi").Edge("d", "lo", "out-lo").Build())
	orig := h.waitRun(h.start(w, map[string]any{"v": 1}))
	wantStatuses(t, orig, map[string]string{"i": "completed", "yes": "failed", "no": "skipped", "d": "skipped"})
	srv.fix("/yes")
	r1 := h.retry(orig.ID)
	wantStatuses(t, r1, map[string]string{"i": "completed", "yes": "completed", "no": "skipped", "d": "completed", "hi": "failed", "lo": "skipped"})
	srv.fix("/hi")
	r2 := h.retry(r1.ID)
	if r2.Status != workflow.RunSucceeded {
		t.Fatalf("second retry %s (%s)", r2.Status, r2.Error)
	}
	wantStatuses(t, r2, map[string]string{"i": "completed", "yes": "completed", "no": "skipped", "d": "completed", "hi": "completed", "lo": "skipped"})
	if srv.count("/no") != 0 || srv.count("/lo") != 0 || srv.count("/yes") != 2 || srv.count("/hi") != 2 {
		t.Errorf("calls /no %d /lo %d /yes %d /hi %d, want 0 0 2 2", srv.count("/no"), srv.count("/lo"), srv.count("/yes"), srv.count("/hi"))
	}
}

// Delay: a completed delay is reused (it does not wait again) and passes its input on.
func TestRetryAfterDelay(t *testing.T) {
	t.Parallel()
	srv := newSwitchTarget(t, "/b")
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").Delay("d", 0.05).APICall("b", "POST", srv.URL+"/b", map[string]any{"body": `{"k":"{{data.k}}"}`, "onError": "fail", "retries": 0}).
		Chain("in", "d", "b").Build())
	orig := h.waitRun(h.start(w, map[string]any{"k": "v"}))
	wantStatuses(t, orig, map[string]string{"d": "completed", "b": "failed"})
	srv.fix("/b")
	r := h.retry(orig.ID)
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("retry %s (%s)", r.Status, r.Error)
	}
	if d := taskOf(t, r, "d"); d.Attempt != 0 || d.StartedAt != nil {
		t.Errorf("reused delay: attempt %d started %v, want not executed", d.Attempt, d.StartedAt)
	}
	var origIn, newIn json.RawMessage
	for _, q := range []struct {
		run string
		out *json.RawMessage
	}{{orig.ID, &origIn}, {r.ID, &newIn}} {
		if err := h.store.Pool().QueryRow(context.Background(), `SELECT input FROM tasks WHERE run_id = $1 AND node_id = 'b'`, q.run).Scan(q.out); err != nil {
			t.Fatal(err)
		}
	}
	if !jsonEqual(t, newIn, string(origIn)) {
		t.Errorf("b's input %s after the reused delay, want the original's %s", newIn, origIn)
	}
}

// onError: continue: a run that succeeded with a failed node is retried; the failed node and
// what came after it execute again, the node before it does not.
func TestRetryFailedContinued(t *testing.T) {
	t.Parallel()
	srv := newSwitchTarget(t, "/c")
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("a", "GET", srv.URL+"/a", failFast).
		APICall("c", "GET", srv.URL+"/c", map[string]any{"onError": "continue", "retries": 0}).APICall("after", "GET", srv.URL+"/after", failFast).
		Chain("in", "a", "c", "after").Build())
	orig := h.waitRun(h.start(w, nil))
	if orig.Status != workflow.RunSucceeded || taskOf(t, orig, "c").Outcome != engine.TaskOutcomeFailedContinued {
		t.Fatalf("original %s, c outcome %q", orig.Status, taskOf(t, orig, "c").Outcome)
	}
	srv.fix("/c")
	r := h.retry(orig.ID)
	if r.Status != workflow.RunSucceeded || taskOf(t, r, "c").Outcome != "" {
		t.Fatalf("retry %s, c outcome %q", r.Status, taskOf(t, r, "c").Outcome)
	}
	if srv.count("/a") != 1 || srv.count("/c") != 2 || srv.count("/after") != 2 {
		t.Errorf("calls /a %d /c %d /after %d, want 1 2 2", srv.count("/a"), srv.count("/c"), srv.count("/after"))
	}
}

// A re-run from a node reuses its ancestors and executes it and what follows; a node beside it
// executes again too. A re-run from a node whose upstream failed, from a node that does not
// exist, and of a run in flight are refused.
func TestRerunFromNode(t *testing.T) {
	t.Parallel()
	srv := newSwitchTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("a", "GET", srv.URL+"/a", failFast).APICall("b", "GET", srv.URL+"/b", failFast).
		APICall("c", "GET", srv.URL+"/c", failFast).APICall("side", "GET", srv.URL+"/side", failFast).Chain("in", "a", "b", "c").Chain("in", "side").Build())
	orig := h.waitRun(h.start(w, map[string]any{"k": 1}))
	if orig.Status != workflow.RunSucceeded {
		t.Fatalf("original %s", orig.Status)
	}
	s := h.rerun(engine.RerunRequest{RunID: orig.ID, Origin: engine.OriginRerun, FromNodeID: "b"})
	h.checkCounters(s.RunID)
	r := h.waitRun(s.RunID)
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("rerun %s", r.Status)
	}
	if srv.count("/a") != 1 || srv.count("/b") != 2 || srv.count("/c") != 2 || srv.count("/side") != 2 {
		t.Errorf("calls /a %d /b %d /c %d /side %d, want 1 2 2 2", srv.count("/a"), srv.count("/b"), srv.count("/c"), srv.count("/side"))
	}
	v, err := h.store.RunView(context.Background(), workflow.RunKey{RunID: r.ID}, workflow.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Lineage.ParentRunID != orig.ID || v.Lineage.Origin != engine.OriginRerun || v.Lineage.RerunFromNodeID != "b" {
		t.Errorf("lineage %+v", v.Lineage)
	}

	var ve *workflow.ValidationError
	if _, err := h.eng.Rerun(context.Background(), engine.RerunRequest{RunID: orig.ID, Origin: engine.OriginRerun, FromNodeID: "nope"}); !errors.As(err, &ve) || ve.Problems[0].Field != "fromNodeId" {
		t.Errorf("rerun from a missing node: %v, want invalid fromNodeId", err)
	}
	srv2 := newSwitchTarget(t, "/b")
	w2 := h.createWorkflow(workflowtest.New().Input("in").APICall("b", "GET", srv2.URL+"/b", failFast).APICall("c", "GET", srv2.URL+"/c", failFast).Chain("in", "b", "c").Build())
	failed := h.waitRun(h.start(w2, nil))
	var refusal *engine.RerunRefusal
	if _, err := h.eng.Rerun(context.Background(), engine.RerunRequest{RunID: failed.ID, Origin: engine.OriginRerun, FromNodeID: "c"}); !errors.As(err, &refusal) {
		t.Errorf("rerun below a failed node: %v, want a refusal", err)
	}
	if _, err := h.eng.Rerun(context.Background(), engine.RerunRequest{RunID: "5b0f8a9e-0c4d-4e7a-9a51-d2b1a6c0e3f7", Origin: engine.OriginRetry}); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("retry of an unknown run: %v, want not found", err)
	}
	w3 := h.createWorkflow(workflowtest.New().Input("in").Delay("d", 60).Chain("in", "d").Build())
	parked := h.start(w3, nil)
	h.waitTask(parked, "d", workflow.TaskWaiting)
	if _, err := h.eng.Rerun(context.Background(), engine.RerunRequest{RunID: parked, Origin: engine.OriginRetry}); !errors.As(err, &refusal) || !errors.Is(err, workflow.ErrConflict) {
		t.Errorf("retry of a run in flight: %v, want a conflict", err)
	}
	// Once cancelled, the cancelled delay is what a retry executes again.
	if err := h.eng.Cancel(context.Background(), parked); err != nil {
		t.Fatal(err)
	}
	s = h.rerun(engine.RerunRequest{RunID: parked, Origin: engine.OriginRetry})
	h.checkCounters(s.RunID)
	if st := statuses(h.run(s.RunID)); st["in"] != "completed" || (st["d"] != "queued" && st["d"] != "running" && st["d"] != "waiting") {
		t.Errorf("retry of a cancelled run: %v, want in reused and d executing", st)
	}
	if err := h.eng.Cancel(context.Background(), s.RunID); err != nil {
		t.Fatal(err)
	}
}

// A retry with an idempotency key made twice returns the same run; the key with another
// request is refused.
func TestRetryIdempotent(t *testing.T) {
	t.Parallel()
	srv := newSwitchTarget(t, "/b")
	h := newHarness(t)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("b", "GET", srv.URL+"/b", failFast).Chain("in", "b").Build())
	h.startWorker(1)
	orig := h.waitRun(h.start(w, nil))
	other := h.waitRun(h.start(w, nil))
	first := h.rerun(engine.RerunRequest{RunID: orig.ID, Origin: engine.OriginRetry, IdempotencyKey: "k1"})
	again := h.rerun(engine.RerunRequest{RunID: orig.ID, Origin: engine.OriginRetry, IdempotencyKey: "k1"})
	if !first.Created || again.Created || again.RunID != first.RunID {
		t.Errorf("first %+v, again %+v: want the same run, created once", first, again)
	}
	if _, err := h.eng.Rerun(context.Background(), engine.RerunRequest{RunID: other.ID, Origin: engine.OriginRetry, IdempotencyKey: "k1"}); !errors.Is(err, workflow.ErrIdempotencyMismatch) {
		t.Errorf("key reused for another run's retry: %v, want a mismatch", err)
	}
	h.waitRun(first.RunID)
	if srv.count("/b") != 3 {
		t.Errorf("calls /b %d, want 3 (two originals and one retry)", srv.count("/b"))
	}
}

// A re-run with a new input: the reused root keeps its copied output, so the start node's data
// is the original's, while $run.input is the new input.
func TestRerunWithNewInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(1)
	w := h.createWorkflow(workflowtest.New().Input("in").Notify("n", "{{k}}/{{$run.input.k}}").Chain("in", "n").Build())
	orig := h.waitRun(h.start(w, map[string]any{"k": "old"}))
	if got := nodeLogs(orig, "n"); len(got) != 1 || got[0] != "old/old" {
		t.Fatalf("original logged %q", got)
	}
	s := h.rerun(engine.RerunRequest{RunID: orig.ID, Origin: engine.OriginRerun, FromNodeID: "n", Input: json.RawMessage(`{"k":"new"}`)})
	r := h.waitRun(s.RunID)
	if got := nodeLogs(r, "n"); len(got) != 1 || got[0] != "old/new" {
		t.Errorf("re-run logged %q, want [old/new]", got)
	}
	if !jsonEqual(t, r.Input, `{"k":"new"}`) {
		t.Errorf("re-run input %s", r.Input)
	}
}
