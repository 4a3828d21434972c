package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A workflow that invokes another runs it as a child: the parent's node output carries the
// child's status and outputs, the child's status names its parent task and run, and the
// parent's reruns list does not show the child. A workflow cannot be saved invoking itself.
func TestContractSubWorkflows(t *testing.T) {
	t.Parallel()
	base := start(t)
	child := createWorkflow(t, base, "child", smallDef())
	parentDef := workflowtest.New().Input("in").
		Node("call", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": child, "input": map[string]any{"city": "{{$run.input.town}}"}}).
		Chain("in", "call").Build()
	parent := createWorkflow(t, base, "parent", parentDef)
	run := waitRun(t, base, startRun(t, base, parent, map[string]any{"town": "Oslo"}))
	if run["status"] != "succeeded" {
		t.Fatalf("parent run %v, want succeeded", run["status"])
	}
	if reruns := arrayField(t, run, "reruns"); len(reruns) != 0 {
		t.Errorf("parent reruns %v, want none", reruns)
	}
	var callTask map[string]any
	for _, task := range asObjects(t, arrayField(t, run, "tasks")) {
		if task["nodeId"] == "call" {
			callTask = task
		}
	}
	out := objectField(t, callTask, "output")
	childRun := uuidField(t, out, "runId")
	if out["status"] != "succeeded" || objectField(t, objectField(t, out, "outputs"), "note")["city"] != "Oslo" {
		t.Errorf("call output %v, want the succeeded child with note's output", out)
	}
	cr := runStatus(t, base, childRun)
	if cr["parentRunId"] != run["id"] || cr["parentTaskId"] != callTask["id"] || cr["rerunKind"] != nil || cr["workflowId"] != child {
		t.Errorf("child status parentRunId %v parentTaskId %v rerunKind %v workflowId %v, want %v, %v, none, %v",
			cr["parentRunId"], cr["parentTaskId"], cr["rerunKind"], cr["workflowId"], run["id"], callTask["id"], child)
	}

	self := workflowtest.New().Input("in").Node("again", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": parent}).Chain("in", "again").Build()
	call(t, "PUT", base+"/workflows/"+parent, map[string]any{"name": "parent", "workflow": self}).wantProblem(t, "again", "workflowId", "cannot invoke itself")
	// timeoutMs bounds the wait for the child, up to 30 days (not an attempt's 10 minutes).
	bounded := func(ms float64) workflow.Definition {
		return workflowtest.New().Input("in").Node("call", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": child, "timeoutMs": ms}).Chain("in", "call").Build()
	}
	call(t, "PUT", base+"/workflows/"+parent, map[string]any{"name": "parent", "workflow": bounded(2592000001)}).wantProblem(t, "call", "timeoutMs", "at most")
	if got := call(t, "GET", base+"/workflows/"+parent, nil).object(t, http.StatusOK); got["version"] != float64(1) {
		t.Errorf("the refused PUTs wrote version %v", got["version"])
	}
	call(t, "PUT", base+"/workflows/"+parent, map[string]any{"name": "parent", "workflow": bounded(86400000)}).object(t, http.StatusOK)
}
