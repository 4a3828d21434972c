package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// approval is in → wait "approval" → "approved" on out, "expired" on out-timeout.
func approval(timeoutMs float64) workflow.Definition {
	return workflowtest.New().Input("in").
		Node("approval", workflow.TypeWait, map[string]any{"timeoutMs": timeoutMs}).
		Notify("approved", "approved by {{by}}").Notify("expired", "expired for {{k}}").
		Edge("in", "approval", "out").Edge("approval", "approved", "").Edge("approval", "expired", workflow.HandleTimeout).Build()
}

// resumeToken reads the token of a waiting task's resumeUrl from its stored output.
func resumeToken(t *testing.T, h *harness, task workflow.Task) string {
	t.Helper()
	raw := h.storedOutput(task.ID)
	var out struct {
		ResumeURL string `json:"resumeUrl"`
		TimeoutAt string `json:"timeoutAt"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.TimeoutAt == "" {
		t.Fatalf("waiting output %s: want {resumeUrl, timeoutAt} (%v)", raw, err)
	}
	_, token, ok := strings.Cut(out.ResumeURL, engine.ResumePath)
	if !ok || len(token) != 43 {
		t.Fatalf("resumeUrl %q has no token", out.ResumeURL)
	}
	return token
}

// storedOutput reads a task's stored output.
func (h *harness) storedOutput(taskID string) json.RawMessage {
	h.t.Helper()
	var out json.RawMessage
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT output FROM tasks WHERE id = $1`, taskID).Scan(&out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func refusalKind(err error) string {
	var r *engine.ResumeRefusal
	if errors.As(err, &r) && errors.Is(err, workflow.ErrConflict) {
		return r.Kind
	}
	return ""
}

// An event delivered to a waiting wait node completes it once with the event as output: its
// "out" children run with it, its "out-timeout" children are skipped, and a second event is
// refused.
func TestWaitResumeDeliversPayload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	stop := h.startWorker(1) // a waiting task holds no slot: the one slot stays free
	w := h.createWorkflow(approval(3600_000))
	runID := h.start(w, map[string]any{"k": "v"})
	h.waitTask(runID, "approval", workflow.TaskWaiting)
	if r := h.waitRun(h.start(h.createWorkflow(workflowtest.New().Input("x").Build()), nil)); r.Status != workflow.RunSucceeded {
		t.Fatalf("another run while one waits: %s", r.Status)
	}
	stop() // the worker goes away while the task waits; a new one runs what the event releases
	h.startWorker(1)
	ctx := context.Background()
	done, err := h.eng.Resume(ctx, engine.ResumeRequest{RunID: runID, NodeID: "approval", Payload: json.RawMessage(`{"by":"ops"}`)})
	if err != nil || done.Status != workflow.TaskCompleted || done.NodeID != "approval" {
		t.Fatalf("resume: %+v %v", done, err)
	}
	r := h.waitRun(runID)
	want := map[string]string{"in": "completed", "approval": "completed", "approved": "completed", "expired": "skipped"}
	if got := statuses(r); r.Status != workflow.RunSucceeded || !mapsEqual(got, want) {
		t.Fatalf("status %s tasks %v, want succeeded %v", r.Status, got, want)
	}
	if got := nodeLogs(r, "approved"); len(got) != 1 || got[0] != "approved by ops" {
		t.Fatalf("approved logged %q, want the event's payload", got)
	}
	if out := h.storedOutput(taskOf(t, r, "approval").ID); !jsonEqual(t, out, `{"by":"ops"}`) {
		t.Fatalf("wait output %s, want the event", out)
	}
	_, err = h.eng.Resume(ctx, engine.ResumeRequest{RunID: runID, NodeID: "approval", Payload: json.RawMessage(`{"by":"again"}`)})
	if refusalKind(err) != engine.RefusedRunFinished && refusalKind(err) != engine.RefusedResumed {
		t.Fatalf("second event: %v, want a refusal", err)
	}
	if got := nodeLogs(h.run(runID), "approved"); len(got) != 1 {
		t.Fatalf("after a second event approved logged %q", got)
	}
}

// A second event while the run still runs is refused as already resumed.
func TestWaitDoubleResumeRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(1)
	def := workflowtest.New().Input("in").Node("approval", workflow.TypeWait, map[string]any{}).
		Node("later", workflow.TypeWait, map[string]any{}).Chain("in", "approval", "later").Build()
	runID := h.start(h.createWorkflow(def), nil)
	h.waitTask(runID, "approval", workflow.TaskWaiting)
	ctx := context.Background()
	if _, err := h.eng.Resume(ctx, engine.ResumeRequest{RunID: runID, NodeID: "approval"}); err != nil {
		t.Fatal(err)
	}
	_, err := h.eng.Resume(ctx, engine.ResumeRequest{RunID: runID, NodeID: "approval"})
	if refusalKind(err) != engine.RefusedResumed || !strings.Contains(err.Error(), "already resumed") {
		t.Fatalf("second event: %v, want already resumed", err)
	}
	// The next wait is not waiting until its parent's release was executed; a node that is
	// not a wait node refuses events; unknown nodes and runs are not found.
	if _, err := h.eng.Resume(ctx, engine.ResumeRequest{RunID: runID, NodeID: "in"}); refusalKind(err) != engine.RefusedNotWaitNode || !strings.Contains(err.Error(), "Node in") {
		t.Fatalf("event for an inputText node: %v", err)
	}
	for _, req := range []engine.ResumeRequest{{RunID: runID, NodeID: "nope"}, {RunID: "7e0c1f2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", NodeID: "approval"}} {
		if _, err := h.eng.Resume(ctx, req); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("event %+v: %v, want not found", req, err)
		}
	}
	h.waitTask(runID, "later", workflow.TaskWaiting)
	if err := h.eng.Cancel(ctx, runID); err != nil {
		t.Fatal(err)
	}
}

// An event for a wait node whose task has not started waiting is refused with its state.
func TestWaitNotWaitingYet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(1)
	def := workflowtest.New().Input("in").Delay("d", 3600).Node("approval", workflow.TypeWait, map[string]any{}).Chain("in", "d", "approval").Build()
	runID := h.start(h.createWorkflow(def), nil)
	h.waitTask(runID, "d", workflow.TaskWaiting)
	_, err := h.eng.Resume(context.Background(), engine.ResumeRequest{RunID: runID, NodeID: "approval"})
	if refusalKind(err) != engine.RefusedNotWaiting || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("event before the wait: %v, want not waiting (pending)", err)
	}
}

// Without an event the wait times out: its input passes on through "out-timeout" only, and a
// late event is refused.
func TestWaitTimeoutTakesTimeoutBranch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(1)
	runID := h.start(h.createWorkflow(approval(200)), map[string]any{"k": "v"})
	r := h.waitRun(runID)
	want := map[string]string{"in": "completed", "approval": "completed", "approved": "skipped", "expired": "completed"}
	if got := statuses(r); r.Status != workflow.RunSucceeded || !mapsEqual(got, want) {
		t.Fatalf("status %s tasks %v, want succeeded %v", r.Status, got, want)
	}
	if got := nodeLogs(r, "expired"); len(got) != 1 || got[0] != "expired for v" {
		t.Fatalf("expired logged %q, want the wait's input", got)
	}
	_, err := h.eng.Resume(context.Background(), engine.ResumeRequest{RunID: runID, NodeID: "approval"})
	if refusalKind(err) == "" {
		t.Fatalf("event after the timeout: %v, want a refusal", err)
	}
}

// The resume URL's token resumes its task (once); an unknown token is not found, and after a
// cancel the token resumes nothing.
func TestWaitResumeByToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(1)
	w := h.createWorkflow(approval(3600_000))
	ctx := context.Background()

	runID := h.start(w, nil)
	token := resumeToken(t, h, h.waitTask(runID, "approval", workflow.TaskWaiting))
	if _, err := h.eng.Resume(ctx, engine.ResumeRequest{Token: strings.Repeat("A", 43)}); !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("unknown token: %v, want not found", err)
	}
	if _, err := h.eng.Resume(ctx, engine.ResumeRequest{Token: token, Payload: json.RawMessage(`{"by":"link"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := nodeLogs(h.waitRun(runID), "approved"); len(got) != 1 || got[0] != "approved by link" {
		t.Fatalf("approved logged %q", got)
	}
	if _, err := h.eng.Resume(ctx, engine.ResumeRequest{Token: token}); refusalKind(err) == "" {
		t.Fatalf("token used twice: %v, want a refusal", err)
	}
	var stored int
	if err := h.store.Pool().QueryRow(ctx, `SELECT count(*) FROM resume_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, token).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("tokens stored by digest: %d (%v), want 1", stored, err)
	}

	// Cancelled while waiting: the run and the wait are cancelled, events are refused.
	runID = h.start(w, nil)
	token = resumeToken(t, h, h.waitTask(runID, "approval", workflow.TaskWaiting))
	if err := h.eng.Cancel(ctx, runID); err != nil {
		t.Fatal(err)
	}
	if got := statuses(h.run(runID)); got["approval"] != workflow.TaskCancelled {
		t.Fatalf("after cancel: %v", got)
	}
	for _, req := range []engine.ResumeRequest{{Token: token}, {RunID: runID, NodeID: "approval"}} {
		if _, err := h.eng.Resume(ctx, req); refusalKind(err) != engine.RefusedRunFinished {
			t.Fatalf("event after cancel: %v, want run finished", err)
		}
	}
}

// An event racing the timeout: exactly one of them completes the task, and exactly one branch
// runs.
func TestWaitResumeRacesTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(approval(60_000))
	late := h.engineAt(func() time.Time { return time.Now().Add(time.Hour) }) // its wake-ups are due
	ctx := context.Background()
	for range 8 {
		runID := h.start(w, map[string]any{"k": "v"})
		task := h.waitTask(runID, "approval", workflow.TaskWaiting)
		var wg sync.WaitGroup
		var resumeErr, wakeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, resumeErr = h.eng.Resume(ctx, engine.ResumeRequest{RunID: runID, NodeID: "approval", Payload: json.RawMessage(`{"by":"racer"}`)})
		}()
		go func() {
			defer wg.Done()
			wakeErr = late.Wake(ctx, engine.TaskRef{TaskID: task.ID, RunID: runID, Kind: engine.KindWake})
		}()
		wg.Wait()
		if wakeErr != nil {
			t.Fatal(wakeErr)
		}
		r := h.waitRun(runID)
		got := statuses(r)
		resumed := got["approved"] == workflow.TaskCompleted
		if resumed == (got["expired"] == workflow.TaskCompleted) {
			t.Fatalf("tasks %v: want exactly one branch", got)
		}
		if resumed != (resumeErr == nil) {
			t.Fatalf("resume answered %v but the resumed branch ran: %v", resumeErr, resumed)
		}
		if !resumed && refusalKind(resumeErr) == "" {
			t.Fatalf("losing event: %v, want a refusal", resumeErr)
		}
	}
}

// A wait's timeout wake-up lost with the queue (Redis flushed or replaced) is delivered by the
// reconciler once overdue, and an event is delivered without the queue at all.
func TestWaitSurvivesLostWakeUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(1)
	w := h.createWorkflow(approval(300))
	ctx := context.Background()
	runID := h.start(w, map[string]any{"k": "v"})
	task := h.waitTask(runID, "approval", workflow.TaskWaiting)
	wake := engine.TaskRef{TaskID: task.ID, RunID: runID, Kind: engine.KindWake}
	if err := h.queue.Stop(ctx, wake, workflow.TaskWaiting); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the timeout to be overdue", func() bool {
		n, err := h.eng.Reconcile(ctx, engine.ReconcilerConfig{After: time.Millisecond})
		return err == nil && n > 0
	})
	r := h.waitRun(runID)
	if got := statuses(r); got["expired"] != workflow.TaskCompleted || got["approved"] != workflow.TaskSkipped {
		t.Fatalf("after the reconciler: %v, want the timeout branch", got)
	}
	if h.obs.recoveries()[engine.RecoveryWaiting] == 0 {
		t.Fatalf("recoveries %v, want a waiting one", h.obs.recoveries())
	}
}
