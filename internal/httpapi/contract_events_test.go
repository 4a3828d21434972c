package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// approvalDef is in → wait "approval" → "approved" (out) or "expired" (out-timeout).
func approvalDef() workflow.Definition {
	return workflowtest.New().Input("in").
		Node("approval", workflow.TypeWait, map[string]any{"timeoutType": "hours", "timeoutValue": 1}).
		Notify("approved", "approved by {{by}}").Notify("expired", "expired").
		Edge("in", "approval", "out").Edge("approval", "approved", "out").Edge("approval", "expired", workflow.HandleTimeout).Build()
}

// waitingTask polls a run's status until node is waiting and returns its task view.
func waitingTask(t *testing.T, base, runID, nodeID, key string) map[string]any {
	t.Helper()
	var task map[string]any
	testenv.WaitFor(t, 30*time.Second, nodeID+" to wait", func() bool {
		run := call(t, "GET", base+"/workflows/runs/"+runID+"/status", nil, "X-API-Key", key).object(t, http.StatusOK)
		for _, tk := range asObjects(t, arrayField(t, run, "tasks")) {
			if tk["nodeId"] == nodeID && tk["status"] == "waiting" {
				task = tk
				return true
			}
		}
		return false
	})
	return task
}

// Events over HTTP: the keyed events route and the public resume URL (a waiting task's
// output names it), their statuses (200 once, then 409; 404 for unknown runs, nodes and
// tokens; 422 for a node that is not a wait node; 409 after a cancel) and the token kept out
// of the run's logs.
func TestContractWaitEvents(t *testing.T) {
	t.Parallel()
	const key = "events-key-0123456789"
	base := apptest.Start(t, func(c *app.Config) { c.APIKeys = []string{key} }).URL
	created := call(t, "POST", base+"/workflows", map[string]any{"name": "approval", "workflow": approvalDef()}, "X-API-Key", key).object(t, http.StatusCreated)
	id := uuidField(t, created, "id")
	startRun := func() string {
		return uuidField(t, call(t, "POST", base+"/workflows/"+id+"/execute-async", `{"input":{}}`, "X-API-Key", key).object(t, http.StatusCreated), "runId")
	}

	runID := startRun()
	task := waitingTask(t, base, runID, "approval", key)
	out, _ := task["output"].(map[string]any)
	resumeURL, _ := out["resumeUrl"].(string)
	if !strings.HasPrefix(resumeURL, "http://") || !strings.Contains(resumeURL, "/resume/") || out["timeoutAt"] == nil {
		t.Fatalf("waiting task output %v, want resumeUrl and timeoutAt", out)
	}
	path := resumeURL[strings.Index(resumeURL, "/resume/"):]
	events := base + "/workflows/runs/" + runID + "/events/"

	if got := call(t, "POST", events+"approval", `{}`).status; got != http.StatusUnauthorized {
		t.Errorf("events route without a key: %d, want 401", got)
	}
	call(t, "POST", events+"in", `{}`, "X-API-Key", key).object(t, http.StatusUnprocessableEntity)
	call(t, "POST", events+"nope", `{}`, "X-API-Key", key).object(t, http.StatusNotFound)
	call(t, "POST", base+"/workflows/runs/"+missingID+"/events/approval", `{}`, "X-API-Key", key).object(t, http.StatusNotFound)
	call(t, "POST", base+"/workflows/"+missingID+"/runs/"+runID+"/events/approval", `{}`, "X-API-Key", key).object(t, http.StatusNotFound)
	call(t, "POST", events+"approval", `{"by":`, "X-API-Key", key).object(t, http.StatusBadRequest)
	call(t, "POST", base+"/resume/"+strings.Repeat("x", 43), `{}`).object(t, http.StatusNotFound)
	call(t, "POST", base+"/resume/short", `{}`).object(t, http.StatusNotFound)

	// The resume URL needs no key: its token is the credential.
	done := call(t, "POST", base+path, `{"by":"ops"}`).object(t, http.StatusOK)
	if done["status"] != "completed" || done["handle"] != "out" || done["nodeId"] != "approval" || done["runId"] != runID {
		t.Errorf("resume answer %v", done)
	}
	again := call(t, "POST", base+path, `{"by":"again"}`).object(t, http.StatusConflict)
	if msg, _ := again["message"].(string); !strings.Contains(msg, "approval") {
		t.Errorf("second event: %v, want a reason naming the node", again)
	}
	call(t, "POST", events+"approval", `{}`, "X-API-Key", key).object(t, http.StatusConflict)
	run := call(t, "GET", base+"/workflows/runs/"+runID+"/status", nil, "X-API-Key", key).object(t, http.StatusOK)
	testenv.WaitFor(t, 30*time.Second, "the run to finish", func() bool {
		run = call(t, "GET", base+"/workflows/runs/"+runID+"/status", nil, "X-API-Key", key).object(t, http.StatusOK)
		return run["status"] == "succeeded"
	})
	if got := lastNodeLog(run, "approved"); got != "approved by ops" {
		t.Errorf("approved logged %q", got)
	}
	logs := call(t, "GET", base+"/workflows/runs/"+runID+"/logs", nil, "X-API-Key", key)
	if token := path[len("/resume/"):]; strings.Contains(string(logs.raw), token) {
		t.Error("the run's logs hold the resume token")
	}

	// The keyed route resumes too; after a cancel both refuse with 409.
	runID = startRun()
	waitingTask(t, base, runID, "approval", key)
	call(t, "POST", base+"/workflows/"+id+"/runs/"+runID+"/events/approval", nil, "X-API-Key", key).object(t, http.StatusOK)
	runID = startRun()
	task = waitingTask(t, base, runID, "approval", key)
	out, _ = task["output"].(map[string]any)
	resumeURL, _ = out["resumeUrl"].(string)
	call(t, "POST", base+"/workflows/runs/"+runID+"/cancel", nil, "X-API-Key", key).object(t, http.StatusCreated)
	call(t, "POST", base+resumeURL[strings.Index(resumeURL, "/resume/"):], `{}`).object(t, http.StatusConflict)
	call(t, "POST", base+"/workflows/runs/"+runID+"/events/approval", `{}`, "X-API-Key", key).object(t, http.StatusConflict)
}
