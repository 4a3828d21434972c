package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A child run started by an invokeWorkflow node is part of its parent's trace: its run.start
// span is a child of the invoking task's span, and its tasks follow under it.
func TestInvokedRunIsInTheParentTrace(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	child := createWorkflow(t, srv.URL, workflowtest.New().Input("in").Notify("greet", "hello").Chain("in", "greet").JSON())
	parent := createWorkflow(t, srv.URL, workflowtest.New().Input("start").
		Node("call", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": child}).Chain("start", "call").JSON())
	runID := execute(t, srv.URL, parent)
	if st := waitTerminal(t, nil, srv.URL, runID); st != workflow.RunSucceeded {
		t.Fatalf("run %s", st)
	}
	var status struct {
		Tasks []struct {
			NodeID string          `json:"nodeId"`
			Output json.RawMessage `json:"output"`
		} `json:"tasks"`
	}
	resp, err := http.Get(srv.URL + "/workflows/runs/" + runID + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	var out struct{ RunID string }
	if len(status.Tasks) != 2 || json.Unmarshal(status.Tasks[1].Output, &out) != nil || out.RunID == "" {
		t.Fatalf("parent tasks %+v, want the call task with its child's run id", status.Tasks)
	}
	waitSpan(t, rec, "greet")
	var childStart sdktrace.ReadOnlySpan
	testenv.WaitFor(t, 20*time.Second, fmt.Sprintf("run.start of child run %s", out.RunID), func() bool {
		for _, sp := range rec.Ended() {
			if v, _ := attr(sp, "run.id"); sp.Name() == "run.start" && v.AsString() == out.RunID {
				childStart = sp
			}
		}
		return childStart != nil
	})
	s := collect(t, rec)
	calls := s.tasks("call")
	if len(calls) == 0 {
		t.Fatal("no span of the call task")
	}
	wantParent(t, s, childStart, calls[0])
	wantParent(t, s, s.one("in"), childStart)
	wantParent(t, s, s.one("greet"), s.one("in"))
}
