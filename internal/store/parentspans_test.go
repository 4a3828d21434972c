package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// Resolving a join's edges records the span context of each source whose edge was taken, in
// the same statement, up to engine.MaxParentLinks; parents beyond the cap are counted, and
// sources that were skipped or not traced add nothing. Both claim paths read them back.
func TestJoinRecordsParentSpansUpToTheCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: testenv.Database(t), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	w, err := st.CreateWorkflow(ctx, "join", workflowtest.New().Input("in").Build(), now)
	if err != nil {
		t.Fatal(err)
	}
	const traced = engine.MaxParentLinks + 2
	parents := traced + 2 // one skipped source, one untraced
	runID := uuid.NewString()
	join := engine.TaskID(runID, "join")
	_, _, err = st.CreateRun(ctx, engine.NewRun{ID: runID, WorkflowID: w.ID, VersionID: w.VersionID, Input: json.RawMessage(`{}`), Now: now,
		Tasks: []engine.NewTask{{ID: join, NodeID: "join", NodeType: workflow.TypeNotification, Status: workflow.TaskPending, Unresolved: parents}}})
	if err != nil {
		t.Fatal(err)
	}
	span := func(i int) string { return fmt.Sprintf("00-%032x-%016x-01", i+1, i+1) }
	var want []string
	err = st.InRun(ctx, runID, func(tx engine.RunTx) error {
		for i := range traced {
			if _, err := tx.ResolveEdges(ctx, runID, []engine.EdgeResolution{{NodeID: "join", Edges: 1, Taken: 1, ParentSpan: span(i)}}); err != nil {
				return err
			}
			if i < engine.MaxParentLinks {
				want = append(want, span(i))
			}
		}
		if _, err := tx.ResolveEdges(ctx, runID, []engine.EdgeResolution{{NodeID: "join", Edges: 1, ParentSpan: span(-2)}}); err != nil {
			return err
		}
		states, err := tx.ResolveEdges(ctx, runID, []engine.EdgeResolution{{NodeID: "join", Edges: 1, Taken: 1}})
		if err != nil {
			return err
		}
		if len(states) != 1 || states[0].Unresolved != 0 || states[0].Activated != traced+1 {
			t.Errorf("join counters %+v, want 0 unresolved and %d activated", states, traced+1)
		}
		return tx.ReleaseTasks(ctx, runID, []engine.Release{{NodeID: "join", Input: json.RawMessage(`{}`)}}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	peeked, err := st.PeekTask(ctx, join)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimTask(ctx, join, "", now)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]engine.Claim{"PeekTask": peeked, "ClaimTask": claimed} {
		if !slices.Equal(c.ParentSpans, want) || c.ParentSpansDropped != traced-engine.MaxParentLinks {
			t.Errorf("%s: %d parent spans (first %q), %d dropped; want the first %d in order and %d dropped",
				name, len(c.ParentSpans), c.ParentSpans[:min(1, len(c.ParentSpans))], c.ParentSpansDropped, engine.MaxParentLinks, traced-engine.MaxParentLinks)
		}
	}
}
