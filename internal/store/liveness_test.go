package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// livenessStore opens a store on a fresh database with one workflow of one node.
func livenessStore(t testing.TB) (*store.Store, workflow.Workflow) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: testenv.Database(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	w, err := st.CreateWorkflow(context.Background(), "liveness", workflowtest.New().Input("a").Build(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return st, w
}

// runningTask creates a run whose one task is claimed by workerID, and returns the claim.
func runningTask(t testing.TB, st *store.Store, w workflow.Workflow, workerID string, now time.Time) engine.Claim {
	t.Helper()
	ctx := context.Background()
	runID := uuid.NewString()
	if _, _, err := st.CreateRun(ctx, engine.NewRun{ID: runID, WorkflowID: w.ID, VersionID: w.VersionID, Input: json.RawMessage(`{}`), Now: now,
		Tasks: []engine.NewTask{{ID: engine.TaskID(runID, "a"), NodeID: "a", NodeType: workflow.TypeInputText, Status: workflow.TaskQueued}}}); err != nil {
		t.Fatal(err)
	}
	c, err := st.ClaimTask(ctx, engine.TaskID(runID, "a"), workerID, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A running task held by a live worker is not taken over by another delivery; once the
// worker's lease expired (or its heartbeat stops listing the task) it is, as a redelivery of
// the same attempt, and the reconciler lists it as a recovery with its own delivery id.
func TestClaimLeavesTasksOfLiveWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, w := livenessStore(t)
	now := time.Now()
	beat := func(worker string, at time.Time, tasks ...string) {
		t.Helper()
		if err := st.Heartbeat(ctx, engine.Heartbeat{WorkerID: worker, StartedAt: now, Now: at, Lease: 10 * time.Second, Tasks: tasks}); err != nil {
			t.Fatal(err)
		}
	}
	beat("w1", now)
	c := runningTask(t, st, w, "w1", now.Add(time.Millisecond))
	if c.Attempt != 1 || c.Redeliveries != 0 || c.Redelivered {
		t.Fatalf("first claim: attempt %d redeliveries %d redelivered %v, want 1, 0, false", c.Attempt, c.Redeliveries, c.Redelivered)
	}
	due := func(at time.Time) []engine.DueTask {
		t.Helper()
		refs, err := st.DueTasks(ctx, engine.DueQuery{Before: at, StaleBefore: at.Add(-time.Hour), Now: at, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return refs
	}

	// Claimed after w1's last heartbeat, within its lease: held.
	if _, err := st.ClaimTask(ctx, c.TaskID, "w2", now.Add(time.Second)); !errors.Is(err, engine.ErrNotClaimable) {
		t.Fatalf("claim of a task held by a live worker: %v, want ErrNotClaimable", err)
	}
	if refs := due(now.Add(2 * time.Second)); len(refs) != 0 {
		t.Fatalf("a task held by a live worker is due: %+v", refs)
	}
	// w1's next heartbeat lists it: still held.
	beat("w1", now.Add(time.Second), c.TaskID)
	if _, err := st.ClaimTask(ctx, c.TaskID, "w2", now.Add(2*time.Second)); !errors.Is(err, engine.ErrNotClaimable) {
		t.Fatalf("claim of a task its live worker reports: %v, want ErrNotClaimable", err)
	}
	// w1's lease expires: the reconciler lists a recovery, and a claim takes the task over.
	dead := now.Add(12 * time.Second)
	refs := due(dead)
	if len(refs) != 1 || refs[0].TaskID != c.TaskID || refs[0].Recovery != 1 {
		t.Fatalf("due after the lease expired: %+v, want one recovery (1) of %s", refs, c.TaskID)
	}
	if d := refs[0]; d.Status != "running" || d.NodeID != c.NodeID || d.WorkflowID != c.WorkflowID || d.NodeID == "" || d.WorkflowID == "" {
		t.Fatalf("due task %+v, want status running, node %q and workflow %q (its log line names them)", d, c.NodeID, c.WorkflowID)
	}
	r, err := st.ClaimTask(ctx, c.TaskID, "w2", dead)
	if err != nil {
		t.Fatal(err)
	}
	if r.Attempt != 1 || r.Redeliveries != 1 || !r.Redelivered || r.Interruption != "" {
		t.Fatalf("takeover: attempt %d redeliveries %d redelivered %v interruption %q, want 1, 1, true, empty", r.Attempt, r.Redeliveries, r.Redelivered, r.Interruption)
	}
	// The old delivery lost the fence: its completion is dropped.
	err = st.InRun(ctx, c.RunID, func(tx engine.RunTx) error {
		return tx.FinishTask(ctx, engine.TaskFinish{TaskID: c.TaskID, From: workflow.TaskRunning, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
			To: workflow.TaskCompleted, Output: json.RawMessage(`{}`), Now: dead})
	})
	if !errors.Is(err, engine.ErrLostRace) {
		t.Fatalf("completion of the taken-over delivery: %v, want ErrLostRace", err)
	}

	// A live worker that records an interruption releases the task: the next claim, from any
	// worker, takes it over at once and learns why.
	beat("w2", dead)
	if ok, err := st.Interrupted(ctx, r, "panic: boom"); err != nil || !ok {
		t.Fatalf("record interruption: %v, %v", ok, err)
	}
	if ok, err := st.Interrupted(ctx, c, "stale"); err != nil || ok {
		t.Fatalf("interruption recorded by a delivery that was taken over: %v, %v", ok, err)
	}
	r2, err := st.ClaimTask(ctx, c.TaskID, "w3", dead.Add(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if r2.Redeliveries != 2 || r2.Interruption != "panic: boom" {
		t.Fatalf("claim after an interruption: redeliveries %d interruption %q, want 2, %q", r2.Redeliveries, r2.Interruption, "panic: boom")
	}
}

// randomText returns a string of random bytes biased towards what PostgreSQL refuses: NUL,
// invalid UTF-8, lone surrogates' encodings, escapes and quotes.
func randomText(rng *rand.Rand) string {
	pieces := []string{"\x00", "\xff", "\xc3", "\xed\xa0\x80", "\\u0000", `\`, `"`, "é", "😀", "\uFFFD", "a", " ", "\n", "\x01"}
	var b strings.Builder
	for range rng.IntN(12) {
		if rng.IntN(4) == 0 {
			b.WriteByte(byte(rng.IntN(256)))
		} else {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
	}
	return b.String()
}

// transitionWith records a task's completion with an output, error text and log line built
// from the given strings, in one run transaction.
func transitionWith(ctx context.Context, st *store.Store, c engine.Claim, output json.RawMessage, text string, data map[string]any) error {
	now := time.Now()
	return st.InRun(ctx, c.RunID, func(tx engine.RunTx) error {
		if err := tx.FinishTask(ctx, engine.TaskFinish{TaskID: c.TaskID, From: workflow.TaskRunning, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
			To: workflow.TaskCompleted, Output: output, Error: text, Now: now}); err != nil {
			return err
		}
		if err := tx.AddLogs(ctx, []engine.LogEntry{{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogNodeOutput, Message: text, Data: data, At: now}}); err != nil {
			return err
		}
		return tx.EndRun(ctx, c.RunID, workflow.RunFailed, text, data, now, nil)
	})
}

// checkStorable is the property: a transition whose texts are any strings commits, whatever
// bytes they hold (NUL and invalid UTF-8 are made storable), and so does an output that
// encoding/json produced (strict); any other output PostgreSQL refuses is reported as
// ErrUnstorable, never as another error, and the transition then commits without it.
func checkStorable(t *testing.T, st *store.Store, w workflow.Workflow, output []byte, text string, strict bool) {
	t.Helper()
	ctx := context.Background()
	c := runningTask(t, st, w, "", time.Now())
	data := map[string]any{"text": text, text: []any{text, 1}}
	err := transitionWith(ctx, st, c, output, text, data)
	if strict && err != nil {
		t.Fatalf("output %q, text %q: transition failed: %v", output, text, err)
	}
	if err != nil && !errors.Is(err, engine.ErrUnstorable) {
		t.Fatalf("output %q, text %q: %v, want nil or ErrUnstorable", output, text, err)
	}
	if err != nil {
		if err := transitionWith(ctx, st, c, nil, err.Error(), nil); err != nil {
			t.Fatalf("output %q: the transition without it failed too: %v", output, err)
		}
	}
	r, err := st.GetRun(ctx, c.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if task := r.Tasks[0]; task.Status != workflow.TaskCompleted || task.Error != nil && (!utf8.ValidString(*task.Error) || strings.ContainsRune(*task.Error, 0)) {
		t.Fatalf("task after the transition: status %s error %q", task.Status, derefString(task.Error))
	}
}

func derefString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// No stored field can make a transition fail forever: random strings (NUL, invalid UTF-8,
// escapes) in the output, the error text, a log message and log data keys and values, through
// the real store.
func TestTransitionStoresAnyValue(t *testing.T) {
	t.Parallel()
	st, w := livenessStore(t)
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for range 150 {
		text := randomText(rng)
		output, err := json.Marshal(map[string]any{"body": text, text: []any{randomText(rng), 1.5, nil}})
		if err != nil {
			t.Fatal(err)
		}
		checkStorable(t, st, w, output, text, true)
	}
	// Outputs PostgreSQL refuses even when their strings are clean: a number out of numeric's
	// range and a document that is not JSON.
	checkStorable(t, st, w, []byte(`{"n": 1e1000000}`), "overflow", false)
	checkStorable(t, st, w, []byte(`{"a": `), "truncated", false)
	checkStorable(t, st, w, []byte("{\"raw\": \"\x00\"}"), "raw NUL", false)
}

// FuzzTransitionStoresAnyValue is the same property under the fuzzer
// (go test -fuzz FuzzTransitionStoresAnyValue ./internal/store/).
func FuzzTransitionStoresAnyValue(f *testing.F) {
	f.Add([]byte(`{"a":"\u0000"}`), "x\x00y")
	f.Add([]byte(`{"\u0000":1}`), "\xff\xfe")
	f.Add([]byte(`{"n":1e1000000}`), `\u0000`)
	f.Add([]byte("\"\xed\xa0\x80\""), "\xc3")
	st, w := livenessStore(f)
	f.Fuzz(func(t *testing.T, output []byte, text string) {
		checkStorable(t, st, w, output, text, false)
	})
}
