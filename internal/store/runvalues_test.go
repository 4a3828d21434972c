package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// RunValues extracts each addressed value with jsonb paths: present values (JSON null
// included) come back as JSON, missing ones and outputs of tasks not completed as nil; the
// whole outputs only when asked. PeekTask reads a claimable task without claiming it, and an
// inline claim made from what it read loses to a claim made meanwhile.
func TestRunValuesAndPeekTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: testenv.Database(t), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	w, err := st.CreateWorkflow(ctx, "values", workflowtest.New().Input("a").Input("b").Input("c").Build(), now)
	if err != nil {
		t.Fatal(err)
	}
	runID := uuid.NewString()
	task := func(node string) string { return engine.TaskID(runID, node) }
	input := json.RawMessage(`{"city":"Paris","a":{"b":1.5},"n":null,"list":[1,2],"blob":"xxxxxxxx"}`)
	_, _, err = st.CreateRun(ctx, engine.NewRun{ID: runID, WorkflowID: w.ID, VersionID: w.VersionID, Input: input, Now: now, Tasks: []engine.NewTask{
		{ID: task("a"), NodeID: "a", NodeType: workflow.TypeInputText, Status: workflow.TaskQueued, Input: input},
		{ID: task("b"), NodeID: "b", NodeType: workflow.TypeInputText, Status: workflow.TaskQueued, Input: input},
		{ID: task("c"), NodeID: "c", NodeType: workflow.TypeInputText, Status: workflow.TaskQueued, Input: input},
	}})
	if err != nil {
		t.Fatal(err)
	}

	c, err := st.PeekTask(ctx, task("a"))
	if err != nil || c.Status != workflow.TaskQueued || c.Attempt != 1 || c.NodeID != "a" {
		t.Fatalf("PeekTask = %+v, %v; want queued a with attempt 1 to claim", c, err)
	}
	err = st.InRun(ctx, runID, func(tx engine.RunTx) error {
		return tx.FinishTask(ctx, engine.TaskFinish{TaskID: c.TaskID, From: c.Status, Attempt: c.Attempt, Claim: true, StartedAt: now,
			To: workflow.TaskCompleted, Output: json.RawMessage(`{"x":{"y":"out"},"z":[1]}`), Now: now})
	})
	if err != nil {
		t.Fatalf("inline claim and completion: %v", err)
	}
	if _, err := st.PeekTask(ctx, task("a")); !errors.Is(err, engine.ErrNotClaimable) {
		t.Fatalf("PeekTask of a completed task: %v, want ErrNotClaimable", err)
	}

	// A claim made from a stale read loses the race.
	stale, err := st.PeekTask(ctx, task("c"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimTask(ctx, task("c"), "", now); err != nil {
		t.Fatal(err)
	}
	err = st.InRun(ctx, runID, func(tx engine.RunTx) error {
		return tx.FinishTask(ctx, engine.TaskFinish{TaskID: stale.TaskID, From: stale.Status, Attempt: stale.Attempt, Claim: true, StartedAt: now,
			To: workflow.TaskCompleted, Now: now})
	})
	if !errors.Is(err, engine.ErrLostRace) {
		t.Fatalf("inline claim after another claim: %v, want ErrLostRace", err)
	}

	reads := []engine.ValueRead{
		{Path: []string{"city"}}, {Path: []string{"a", "b"}}, {Path: []string{"n"}}, {Path: []string{"nope"}},
		{Path: []string{"city", "x"}}, {}, {TaskID: task("a"), Path: []string{"x"}}, {TaskID: task("b"), Path: []string{"x"}},
		{TaskID: task("a")}, {TaskID: uuid.NewString()},
	}
	values, outputs, err := st.RunValues(ctx, runID, reads, false)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(values))
	for i, v := range values {
		got[i] = "<nil>"
		if v != nil {
			var compact any
			if err := json.Unmarshal(v, &compact); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(compact)
			got[i] = string(b)
		}
	}
	var whole any
	_ = json.Unmarshal(input, &whole)
	wholeJSON, _ := json.Marshal(whole)
	want := []string{`"Paris"`, `1.5`, `null`, "<nil>", "<nil>", string(wholeJSON), `{"y":"out"}`, "<nil>", `{"x":{"y":"out"},"z":[1]}`, "<nil>"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RunValues (-want +got):\n%s", diff)
	}
	if outputs != nil {
		t.Errorf("outputs %v without asking for them", outputs)
	}
	_, outputs, err = st.RunValues(ctx, runID, nil, true)
	if err != nil || len(outputs) != 1 || outputs["a"] == nil {
		t.Fatalf("all outputs = %v, %v; want only completed a", outputs, err)
	}
}
