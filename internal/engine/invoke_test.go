package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// childResult decodes an invokeWorkflow task's output.
type childResult struct {
	RunID      string                     `json:"runId"`
	WorkflowID string                     `json:"workflowId"`
	Status     string                     `json:"status"`
	Error      string                     `json:"error"`
	Result     map[string]any             `json:"result"`
	Outputs    map[string]json.RawMessage `json:"outputs"`
}

func decodeChild(t *testing.T, raw json.RawMessage) childResult {
	t.Helper()
	var out childResult
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("invoke output %s: %v", raw, err)
	}
	return out
}

// greeter is a child workflow: input → notification "greet", which passes its input on.
func (h *harness) greeter() workflow.Workflow {
	return h.createWorkflow(workflowtest.New().Input("in").Notify("greet", "hello {{name}}").Chain("in", "greet").Build())
}

// invoking is a workflow: input → invokeWorkflow "call" with config → notification "after".
func invoking(config map[string]any) workflow.Definition {
	return workflowtest.New().Input("in").Node("call", workflow.TypeInvokeWorkflow, config).
		Notify("after", "child {{status}}").Chain("in", "call", "after").Build()
}

// childrenOf lists the child runs a task started, oldest first.
func (h *harness) childrenOf(taskID string) []string {
	h.t.Helper()
	rows, err := h.store.Pool().Query(h.t.Context(), `SELECT id::text FROM runs WHERE parent_task_id = $1 ORDER BY started_at`, taskID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// logReasons returns the reasons of a run's error log lines of a node.
func logReasons(r workflow.Run, nodeID string) []string {
	var out []string
	for _, l := range r.Logs {
		if l.Type != workflow.LogError || l.NodeID == nil || *l.NodeID != nodeID {
			continue
		}
		var d struct{ Reason string }
		if json.Unmarshal(l.Data, &d) == nil {
			out = append(out, d.Reason)
		}
	}
	return out
}

// A child run receives the rendered input, and the invoking node completes with the child's
// status, result and the outputs of its nodes; the child names its parent task and run, and is
// not listed among the parent's re-runs.
func TestInvokePassesChildResultToParent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	child := h.greeter()
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": child.ID, "input": map[string]any{"name": "{{$run.input.user}}", "n": 3, "tags": []any{"{{$run.input.user}}!"}}}))
	r := h.waitRun(h.start(parent, map[string]any{"user": "Ada"}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("parent run %s (%s), want succeeded", r.Status, r.Error)
	}
	callID := engine.TaskID(r.ID, "call")
	out := decodeChild(t, h.output(r.ID, "call"))
	if out.Status != workflow.RunSucceeded || out.WorkflowID != child.ID || out.Result["completedTasks"] != float64(2) {
		t.Fatalf("invoke output %+v, want a succeeded run of %s with 2 completed tasks", out, child.ID)
	}
	var greet map[string]any
	if err := json.Unmarshal(out.Outputs["greet"], &greet); err != nil || greet["name"] != "Ada" || greet["n"] != float64(3) {
		t.Fatalf("outputs.greet = %s, want the rendered input {name: Ada, n: 3, ...}", out.Outputs["greet"])
	}
	if tags, _ := greet["tags"].([]any); len(tags) != 1 || tags[0] != "Ada!" {
		t.Errorf("outputs.greet.tags = %v, want [Ada!]", greet["tags"])
	}
	if got := nodeLogs(r, "after"); len(got) != 1 || got[0] != "child succeeded" {
		t.Errorf("node after logged %q, want the child's status", got)
	}
	if ids := h.childrenOf(callID); len(ids) != 1 || ids[0] != out.RunID {
		t.Fatalf("child runs of the call task %v, want [%s]", ids, out.RunID)
	}
	cr := h.run(out.RunID)
	if cr.Status != workflow.RunSucceeded || cr.WorkflowID != child.ID {
		t.Fatalf("child run %s of %s, want succeeded of %s", cr.Status, cr.WorkflowID, child.ID)
	}
	view, err := h.store.RunView(t.Context(), workflow.RunKey{RunID: out.RunID}, workflow.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if l := view.Lineage; l.ParentTaskID != callID || l.ParentRunID != r.ID || l.Origin != workflow.OriginInvoke {
		t.Errorf("child lineage %+v, want parent task %s of run %s, origin invoke", l, callID, r.ID)
	}
	pview, err := h.store.RunView(t.Context(), workflow.RunKey{RunID: r.ID}, workflow.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(pview.Lineage.Reruns) != 0 {
		t.Errorf("parent lists %d re-runs, want none: a child run is not a re-run", len(pview.Lineage.Reruns))
	}
}

// A child that fails fails the invoking node with reason child_failed: with onError fail the
// parent run fails; with onError continue it goes on with the child's status in the payload.
func TestInvokeChildFailureIsANodeError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	// The forEach finds nothing to map over: the child fails.
	failing := h.createWorkflow(workflowtest.New().Input("in").
		Node("each", workflow.TypeForEach, map[string]any{"items": "{{$run.input.missing}}", "body": map[string]any{"type": "notification", "config": map[string]any{}}}).
		Chain("in", "each").Build())
	for _, tc := range []struct {
		onError    string
		wantStatus string
	}{{"fail", workflow.RunFailed}, {"continue", workflow.RunSucceeded}} {
		t.Run(tc.onError, func(t *testing.T) {
			parent := h.createWorkflow(invoking(map[string]any{"workflowId": failing.ID, "onError": tc.onError}))
			r := h.waitRun(h.start(parent, map[string]any{}))
			if r.Status != tc.wantStatus {
				t.Fatalf("parent run %s (%s), want %s", r.Status, r.Error, tc.wantStatus)
			}
			if reasons := logReasons(r, "call"); len(reasons) == 0 || reasons[0] != "child_failed" {
				t.Errorf("error reasons of call %v, want child_failed", reasons)
			}
			call := taskOf(t, r, "call")
			if call.Error == nil || !strings.Contains(*call.Error, "failed") {
				t.Errorf("call error %v, want the child's failure", call.Error)
			}
			children := h.childrenOf(call.ID)
			if len(children) != 1 {
				t.Fatalf("%d child runs, want 1 (invokeWorkflow nodes retry only when asked)", len(children))
			}
			if tc.onError == "continue" {
				out := decodeChild(t, h.output(r.ID, "call"))
				if call.Outcome != engine.TaskOutcomeFailedContinued || out.Status != workflow.RunFailed || out.RunID != children[0] || out.Error == "" {
					t.Errorf("continued call: outcome %q output %+v, want failed_continued with the failed child", call.Outcome, out)
				}
				if got := nodeLogs(r, "after"); len(got) != 1 || got[0] != "child failed" {
					t.Errorf("node after logged %q", got)
				}
			} else if got := statuses(r)["after"]; got != workflow.TaskSkipped {
				t.Errorf("after is %s, want skipped", got)
			}
		})
	}
}

// A retry of an invokeWorkflow node (retries set) starts a new child: its attempt is part of the
// child's idempotency key.
func TestInvokeRetryStartsANewChild(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	failing := h.createWorkflow(workflowtest.New().
		Node("each", workflow.TypeForEach, map[string]any{"items": "{{$run.input.missing}}", "body": map[string]any{"type": "notification", "config": map[string]any{}}}).Build())
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": failing.ID, "retries": 1}))
	r := h.waitRun(h.start(parent, map[string]any{}))
	if r.Status != workflow.RunFailed {
		t.Fatalf("parent run %s, want failed", r.Status)
	}
	call := taskOf(t, r, "call")
	if children := h.childrenOf(call.ID); len(children) != 2 || call.Attempt != 2 {
		t.Fatalf("%d child runs after %d attempts, want 2 after 2", len(children), call.Attempt)
	}
}

// An invokeWorkflow node's timeoutMs bounds each attempt's wait for its child: a child still in
// flight then fails the node with reason child_timeout and is cancelled, a retry starts a new
// child under the same bound, and a child that finishes in time completes the node as usual.
func TestInvokeTimeoutFailsTheNodeAndCancelsTheChild(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	slow := h.createWorkflow(workflowtest.New().Delay("wait", 3600).Build())
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": slow.ID, "timeoutMs": 300, "retries": 1, "onError": "continue"}))
	r := h.waitRun(h.start(parent, map[string]any{}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("parent run %s, want succeeded (onError continue)", r.Status)
	}
	call := taskOf(t, r, "call")
	out := decodeChild(t, h.output(r.ID, "call"))
	if call.Attempt != 2 || !strings.Contains(out.Error, "did not finish within 300ms (timeoutMs)") || out.Status != workflow.RunRunning {
		t.Errorf("call: attempt %d, output %+v; want attempt 2 and the timeout's error for a running child", call.Attempt, out)
	}
	if reasons := logReasons(r, "call"); len(reasons) != 2 || reasons[0] != "child_timeout" || reasons[1] != "child_timeout" {
		t.Errorf("call's error reasons %v, want child_timeout for each attempt", reasons)
	}
	children := h.childrenOf(call.ID)
	if len(children) != 2 {
		t.Fatalf("%d child runs, want one per attempt", len(children))
	}
	for _, id := range children {
		child := h.waitRun(id)
		if child.Status != workflow.RunCancelled || !strings.Contains(strings.Join(logsOfType(child, workflow.LogSystem), "\n"), "the node that invoked it timed out") {
			t.Errorf("child %s is %s with logs %q, want cancelled because its node timed out", id, child.Status, logsOfType(child, workflow.LogSystem))
		}
	}

	// Within the timeout the child's result is the node's, as without one.
	quick := h.createWorkflow(invoking(map[string]any{"workflowId": h.greeter().ID, "timeoutMs": 60000}))
	r = h.waitRun(h.start(quick, map[string]any{"name": "Ada"}))
	if out := decodeChild(t, h.output(r.ID, "call")); r.Status != workflow.RunSucceeded || out.Status != workflow.RunSucceeded || out.Error != "" {
		t.Errorf("quick child: run %s, call output %+v; want succeeded with the child's result", r.Status, out)
	}
}

// Cancelling a run cancels its children in flight, and theirs.
func TestInvokeCancelPropagatesToChildren(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	leaf := h.createWorkflow(workflowtest.New().Delay("wait", 3600).Build())
	mid := h.createWorkflow(workflowtest.New().Node("call", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": leaf.ID}).Build())
	top := h.createWorkflow(invoking(map[string]any{"workflowId": mid.ID}))
	runID := h.start(top, map[string]any{})
	var midRun, leafRun string
	testenv.WaitFor(t, 30*time.Second, "the grandchild to wait", func() bool {
		mids := h.childrenOf(engine.TaskID(runID, "call"))
		if len(mids) != 1 {
			return false
		}
		leaves := h.childrenOf(engine.TaskID(mids[0], "call"))
		if len(leaves) != 1 {
			return false
		}
		midRun, leafRun = mids[0], leaves[0]
		return taskOf(t, h.run(leafRun), "wait").Status == workflow.TaskWaiting
	})
	if err := h.eng.Cancel(t.Context(), runID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{runID, midRun, leafRun} {
		if r := h.waitRun(id); r.Status != workflow.RunCancelled {
			t.Errorf("run %s is %s, want cancelled", id, r.Status)
		}
	}
	if r := h.run(leafRun); !strings.Contains(strings.Join(logsOfType(r, workflow.LogSystem), "\n"), "the run that invoked it ended") {
		t.Errorf("grandchild logs %q, want the reason of its cancel", logsOfType(r, workflow.LogSystem))
	}
}

// Nesting is bounded: with a cycle A → B → A, the run that would go deeper than MaxInvokeDepth
// fails its node with reason invoke_depth, and the failure travels up the chain.
func TestInvokeDepthIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{config: engine.Config{MaxInvokeDepth: 3}})
	h.startWorker(4)
	a := h.createWorkflow(workflowtest.New().Input("in").Build())
	b := h.createWorkflow(workflowtest.New().Node("call", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": a.ID}).Build())
	a, err := h.store.UpdateWorkflow(t.Context(), a.ID, "a", workflowtest.New().Node("call", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": b.ID}).Build(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	top := h.waitRun(h.start(a, map[string]any{}))
	if top.Status != workflow.RunFailed {
		t.Fatalf("top run %s, want failed", top.Status)
	}
	chain := []string{top.ID}
	for len(chain) < 10 {
		children := h.childrenOf(engine.TaskID(chain[len(chain)-1], "call"))
		if len(children) == 0 {
			break
		}
		chain = append(chain, children[0])
	}
	if len(chain) != 4 {
		t.Fatalf("the chain has %d runs, want 4 (depths 0 to 3)", len(chain))
	}
	deepest := h.run(chain[3])
	if reasons := logReasons(deepest, "call"); len(reasons) == 0 || reasons[0] != "invoke_depth" {
		t.Errorf("deepest run's reasons %v, want invoke_depth", reasons)
	}
	for _, id := range chain {
		if r := h.run(id); r.Status != workflow.RunFailed {
			t.Errorf("run %s is %s, want failed", id, r.Status)
		}
	}
}

// An unknown child workflow is a permanent node error.
func TestInvokeUnknownWorkflowFailsTheNode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": "00000000-0000-4000-8000-000000000001"}))
	r := h.waitRun(h.start(parent, map[string]any{}))
	if r.Status != workflow.RunFailed {
		t.Fatalf("run %s, want failed", r.Status)
	}
	if reasons := logReasons(r, "call"); len(reasons) == 0 || reasons[0] != "child_not_found" {
		t.Errorf("reasons %v, want child_not_found", reasons)
	}
}

// parkFailingStore fails the first transition of a parent run after one of its tasks started a
// child: the delivery that started the child ends without an outcome before parking.
type parkFailingStore struct {
	engine.Store
	armed  atomic.Bool
	failed atomic.Int32
}

func (s *parkFailingStore) CreateRun(ctx context.Context, r engine.NewRun) (string, bool, error) {
	id, created, err := s.Store.CreateRun(ctx, r)
	if err == nil && created && r.ParentTaskID != "" {
		s.armed.Store(true)
	}
	return id, created, err
}

func (s *parkFailingStore) InRun(ctx context.Context, runID string, fn func(engine.RunTx) error) error {
	if s.armed.CompareAndSwap(true, false) {
		s.failed.Add(1)
		return errors.New("injected: connection lost before the park")
	}
	return s.Store.InRun(ctx, runID, fn)
}

// parkFailingHarness is a harness with a running worker whose store fails the park of the first
// task that starts a child run.
func parkFailingHarness(t *testing.T) (*harness, *parkFailingStore) {
	var wrapped *parkFailingStore
	h := newHarnessWith(t, harnessOptions{wrapStore: func(s engine.Store) engine.Store {
		wrapped = &parkFailingStore{Store: s}
		return wrapped
	}})
	h.startWorker(4)
	return h, wrapped
}

// A redelivery of the invoking task finds the child its first delivery started and waits for
// it, instead of starting a second one.
func TestInvokeRedeliveryDoesNotStartASecondChild(t *testing.T) {
	t.Parallel()
	h, wrapped := parkFailingHarness(t)
	child := h.greeter()
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": child.ID, "input": map[string]any{"name": "x"}}))
	r := h.waitRun(h.start(parent, map[string]any{}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s (%s), want succeeded", r.Status, r.Error)
	}
	if wrapped.failed.Load() != 1 {
		t.Fatalf("%d parks failed, want 1: the test did not interrupt the delivery", wrapped.failed.Load())
	}
	call := taskOf(t, r, "call")
	if children := h.childrenOf(call.ID); len(children) != 1 {
		t.Fatalf("%d child runs, want 1", len(children))
	}
	if call.Redeliveries < 1 {
		t.Errorf("call redeliveries %d, want at least 1", call.Redeliveries)
	}
	if logs := strings.Join(nodeLogs(r, "call"), "\n"); !strings.Contains(logs, "started by an earlier delivery") {
		t.Errorf("call logs %q, want the redelivery to find the child", logs)
	}
}

// A redelivery of the invoking task keeps the timeout of the child its first delivery started:
// timeoutAt counts from the child's start, not from the redelivery.
func TestInvokeRedeliveryKeepsTheChildTimeout(t *testing.T) {
	t.Parallel()
	h, wrapped := parkFailingHarness(t)
	slow := h.createWorkflow(workflowtest.New().Delay("wait", 3600).Build())
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": slow.ID, "timeoutMs": 60000}))
	runID := h.start(parent, map[string]any{})
	testenv.WaitFor(t, 30*time.Second, "the invoking task to wait", func() bool {
		return taskOf(t, h.run(runID), "call").Status == workflow.TaskWaiting
	})
	if wrapped.failed.Load() != 1 {
		t.Fatalf("%d parks failed, want 1: the test did not interrupt the delivery", wrapped.failed.Load())
	}
	var view struct {
		RunID     string    `json:"runId"`
		TimeoutAt time.Time `json:"timeoutAt"`
	}
	if err := json.Unmarshal(h.output(runID, "call"), &view); err != nil {
		t.Fatal(err)
	}
	var childStart time.Time
	if err := h.store.Pool().QueryRow(t.Context(), `SELECT started_at FROM runs WHERE id = $1`, view.RunID).Scan(&childStart); err != nil {
		t.Fatal(err)
	}
	if want := childStart.Add(time.Minute); !view.TimeoutAt.Equal(want) {
		t.Errorf("timeoutAt %s, want the child's start %s plus the minute of timeoutMs", view.TimeoutAt, childStart)
	}
	if err := h.eng.Cancel(t.Context(), runID); err != nil {
		t.Fatal(err)
	}
	if r := h.waitRun(view.RunID); r.Status != workflow.RunCancelled {
		t.Errorf("child %s after its parent's cancel, want cancelled", r.Status)
	}
}

// A forEach whose body invokes a workflow runs one child per element and collects their
// results in order.
func TestForEachInvokesAChildPerElement(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	child := h.greeter()
	w := h.createWorkflow(forEachOver(map[string]any{"type": workflow.TypeInvokeWorkflow, "config": map[string]any{"workflowId": child.ID, "input": map[string]any{"name": "{{item}}"}}},
		map[string]any{"concurrency": 2}))
	names := []any{"a", "b", "c"}
	r := h.waitRun(h.start(w, map[string]any{"items": names}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s (%s), want succeeded", r.Status, r.Error)
	}
	res := h.resultOf(t, r)
	if res.Count != len(names) || len(res.Results) != len(names) {
		t.Fatalf("results %+v, want %d", res, len(names))
	}
	for i, raw := range res.Results {
		out := decodeChild(t, raw)
		var greet map[string]any
		if err := json.Unmarshal(out.Outputs["greet"], &greet); err != nil || greet["name"] != names[i] || out.Status != workflow.RunSucceeded {
			t.Errorf("results[%d] = %s, want the child run for %v", i, raw, names[i])
		}
	}
}

// droppingQueue loses every notification that a child run finished.
type droppingQueue struct {
	engine.Queue
	dropped atomic.Int32
}

func (q *droppingQueue) Enqueue(ctx context.Context, ref engine.TaskRef, at time.Time) (bool, error) {
	if ref.Notify {
		q.dropped.Add(1)
		return false, nil
	}
	return q.Queue.Enqueue(ctx, ref, at)
}

// With every notification of a child's end lost, the waiting task's periodic check still
// finds the finished child and completes.
func TestInvokeCompletesWhenTheNotificationIsLost(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{queued: true})
	q := &droppingQueue{Queue: h.queue}
	eng, err := engine.New(engine.Config{InvokePollInterval: time.Second, RetryBaseDelay: 10 * time.Millisecond},
		engine.Deps{Store: h.store, Queue: q, Registry: nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{}),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	h.startWorkerOn(eng, 4)
	child := h.greeter()
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": child.ID}))
	r := h.waitRun(h.start(parent, map[string]any{"name": "x"}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s (%s), want succeeded", r.Status, r.Error)
	}
	if q.dropped.Load() == 0 {
		t.Fatal("no notification was sent, so none was lost: the test proves nothing")
	}
	if out := decodeChild(t, h.output(r.ID, "call")); out.Status != workflow.RunSucceeded {
		t.Errorf("call output %+v", out)
	}
}

// outputs hold the child's nodes, not its forEach elements; outputs over MaxOutputBytes fail
// the invoking node with reason output_too_large.
func TestInvokeOutputsAreTheChildNodesBounded(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{config: engine.Config{MaxOutputBytes: 4096}})
	h.startWorker(4)
	child := h.createWorkflow(workflowtest.New().Input("in").
		Node("each", workflow.TypeForEach, map[string]any{"items": "{{$run.input.items}}", "body": map[string]any{"type": "notification", "config": map[string]any{}}}).
		Chain("in", "each").Build())
	parent := h.createWorkflow(invoking(map[string]any{"workflowId": child.ID, "input": map[string]any{"items": "{{$run.input.items}}"}}))
	r := h.waitRun(h.start(parent, map[string]any{"items": []any{"a", "b"}}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s (%s), want succeeded", r.Status, r.Error)
	}
	out := decodeChild(t, h.output(r.ID, "call"))
	if len(out.Outputs) != 2 || out.Outputs["in"] == nil || out.Outputs["each"] == nil {
		t.Errorf("outputs of %v, want in and each only", keys(out.Outputs))
	}
	large := make([]any, 30) // each value is below the limit; the child's in and each together are not
	for i := range large {
		large[i] = strings.Repeat("x", 100)
	}
	r = h.waitRun(h.start(parent, map[string]any{"items": large}))
	if r.Status != workflow.RunFailed {
		t.Fatalf("run with large child outputs %s, want failed", r.Status)
	}
	if reasons := logReasons(r, "call"); len(reasons) == 0 || reasons[0] != "output_too_large" {
		t.Errorf("reasons %v, want output_too_large (run error %q)", reasons, r.Error)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Cancelling a run cancels the children its forEach elements invoked.
func TestInvokeCancelReachesForEachChildren(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	leaf := h.createWorkflow(workflowtest.New().Delay("wait", 3600).Build())
	w := h.createWorkflow(forEachOver(map[string]any{"type": workflow.TypeInvokeWorkflow, "config": map[string]any{"workflowId": leaf.ID}},
		map[string]any{"concurrency": 2}))
	runID := h.start(w, map[string]any{"items": []any{1, 2, 3}})
	var children []string
	testenv.WaitFor(t, 30*time.Second, "two elements' children to wait", func() bool {
		children = nil
		for i := range 3 {
			children = append(children, h.childrenOf(engine.TaskID(runID, workflow.ElementNodeID("each", i)))...)
		}
		if len(children) != 2 {
			return false
		}
		for _, c := range children {
			if taskOf(t, h.run(c), "wait").Status != workflow.TaskWaiting {
				return false
			}
		}
		return true
	})
	if err := h.eng.Cancel(t.Context(), runID); err != nil {
		t.Fatal(err)
	}
	for _, id := range children {
		if r := h.waitRun(id); r.Status != workflow.RunCancelled {
			t.Errorf("child %s is %s, want cancelled", id, r.Status)
		}
	}
}
