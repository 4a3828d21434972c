package engine_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// Telemetry learns from the prepared version what it names: every claim carries the workflow's
// name and version and the node's name, and what it waited for (a release, a retry's or a
// delay's wake-up, read from the claim itself); a run's start and end carry its workflow, a
// cancel by an engine that never prepared the version included.
func TestObserverIsToldWorkflowNodeAndWait(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").
		APICall("api", "GET", srv.URL+"/down", map[string]any{"retries": 1}).Delay("wait", 0.05).Chain("in", "api", "wait").Build())
	ref := engine.WorkflowRef{ID: w.ID, Name: w.Name, Version: w.Version}
	if r := h.waitRun(h.start(w, nil)); r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s, want succeeded", r.Status)
	}
	testenv.WaitFor(t, 5*time.Second, "the run's end to be reported", func() bool { return h.obs.count(workflow.RunSucceeded) == 1 })

	h.obs.mu.Lock()
	claims, started, ended := slices.Clone(h.obs.claims), slices.Clone(h.obs.started), slices.Clone(h.obs.ended)
	h.obs.mu.Unlock()
	var got []string
	for _, c := range claims {
		if c.WorkflowName != w.Name || c.WorkflowVersion != w.Version || c.NodeName != c.NodeID {
			t.Errorf("claim of %s names workflow %q version %d node %q; want %q, %d, %q", c.NodeID, c.WorkflowName, c.WorkflowVersion, c.NodeName, w.Name, w.Version, c.NodeID)
		}
		got = append(got, fmt.Sprintf("%s#%d %s", c.NodeID, c.Attempt, c.Wait))
	}
	want := []string{"in#1 queue", "api#1 queue", "api#2 retry", "wait#1 queue", "wait#1 delay"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims and their waits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]engine.WorkflowRef{ref}, started); diff != "" {
		t.Errorf("runs started (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]engine.WorkflowRef{ref}, ended); diff != "" {
		t.Errorf("runs ended (-want +got):\n%s", diff)
	}

	// A cancel on a process that never prepared the version still names the workflow.
	long := h.createWorkflow(workflowtest.New().Input("in").Delay("wait", 3600).Chain("in", "wait").Build())
	runID := h.start(long, nil)
	h.waitTask(runID, "wait", workflow.TaskWaiting)
	if err := h.engineAt(nil).Cancel(context.Background(), runID); err != nil {
		t.Fatal(err)
	}
	h.obs.mu.Lock()
	ended = slices.Clone(h.obs.ended)
	h.obs.mu.Unlock()
	if want := (engine.WorkflowRef{ID: long.ID, Name: long.Name, Version: long.Version}); len(ended) != 2 || ended[1] != want {
		t.Errorf("runs ended %v, want the cancelled run's workflow %v last", ended, want)
	}
}
