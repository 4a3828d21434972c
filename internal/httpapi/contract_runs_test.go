package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestContractExecuteAsync(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "small", smallDef())
	for _, route := range []string{"execute-async", "trigger"} {
		t.Run(route, func(t *testing.T) {
			url := base + "/workflows/" + id + "/" + route
			for _, tc := range []struct {
				name string
				body any
				want string // the run's rendered notification
				in   map[string]any
			}{
				{"with input", map[string]any{"input": map[string]any{"city": "Oslo"}}, "Hello Oslo", map[string]any{"city": "Oslo"}},
				{"no body", nil, "Hello ", map[string]any{}},
				{"empty object", map[string]any{}, "Hello ", map[string]any{}},
				{"null input", map[string]any{"input": nil}, "Hello ", map[string]any{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got := call(t, "POST", url, tc.body).object(t, http.StatusCreated)
					if len(got) != 1 {
						t.Errorf("body %v, want only runId", got)
					}
					run := waitRun(t, base, uuidField(t, got, "runId"))
					if diff := cmp.Diff(any(tc.in), run["input"]); diff != "" {
						t.Errorf("run input (-want +got):\n%s", diff)
					}
					if run["status"] != "succeeded" || lastNodeLog(run, "note") != tc.want {
						t.Errorf("run %v with note log %q, want succeeded with %q", run["status"], lastNodeLog(run, "note"), tc.want)
					}
				})
			}
			for _, bad := range []string{`{"input": [1]}`, `{"input": "Oslo"}`, `{"input": 3}`} {
				call(t, "POST", url, bad).wantProblem(t, "input")
			}
			call(t, "POST", base+"/workflows/"+missingID+"/"+route, "{}").wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
			call(t, "POST", base+"/workflows/abc/"+route, "{}").wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")

			// The same Idempotency-Key with the same request returns the same run (however the
			// JSON is spelled); with another request it is refused with 422 naming the key;
			// another key starts another run.
			key := "key-" + route
			first := uuidField(t, call(t, "POST", url, `{"input":{"city":"X","n":1}}`, "Idempotency-Key", key).object(t, http.StatusCreated), "runId")
			again := uuidField(t, call(t, "POST", url, `{ "input": {"n":1, "city":"X"} }`, "Idempotency-Key", key).object(t, http.StatusCreated), "runId")
			for _, changed := range []string{`{"input":{"city":"Y","n":1}}`, `{}`, `{"input":{"city":"X","n":1},"timeoutMs":5000}`} {
				got := call(t, "POST", url, changed, "Idempotency-Key", key).object(t, http.StatusUnprocessableEntity)
				if msg, _ := got["message"].(string); !strings.Contains(msg, `"`+key+`"`) {
					t.Errorf("reused key with body %s: %v, want a message naming the key", changed, got)
				}
			}
			inBody := uuidField(t, call(t, "POST", url, `{"input":{"city":"X","n":1},"idempotencyKey":"`+key+`"}`).object(t, http.StatusCreated), "runId")
			other := uuidField(t, call(t, "POST", url, "{}", "Idempotency-Key", key+"-2").object(t, http.StatusCreated), "runId")
			if first != again || first != inBody || first == other {
				t.Errorf("runs %s, %s, %s (same key) and %s (other key): want the first three equal, the fourth different", first, again, inBody, other)
			}
		})
	}
	// Only the idempotent retries were not counted: 4 runs per route plus 2 keyed runs.
	if runs := call(t, "GET", base+"/workflows/"+id+"/runs", nil).array(t, http.StatusOK); len(runs) != 12 {
		t.Errorf("%d runs listed, want 12", len(runs))
	}
}

// lastNodeLog returns the last log message of a node, or "".
func lastNodeLog(run map[string]any, nodeID string) string {
	msg := ""
	logs, _ := run["logs"].([]any)
	for _, l := range logs {
		if m, ok := l.(map[string]any); ok && m["nodeId"] == nodeID {
			msg, _ = m["message"].(string)
		}
	}
	return msg
}

func TestContractExecuteSync(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "small", smallDef())
	got := call(t, "POST", base+"/workflows/"+id+"/execute", map[string]any{"input": map[string]any{"city": "Dubai"}}).object(t, http.StatusCreated)
	runID := uuidField(t, got, "runId")
	want := []any{
		map[string]any{"kind": "input", "nodeId": "in", "name": "in", "content": `Input: {"city":"Dubai"}`},
		map[string]any{"kind": "notification", "nodeId": "note", "name": "note", "content": "Hello Dubai"},
	}
	if diff := cmp.Diff(want, got["logs"]); diff != "" {
		t.Errorf("legacy logs (-want +got):\n%s", diff)
	}
	if run := runStatus(t, base, runID); run["status"] != "succeeded" {
		t.Errorf("the legacy run is %v, want succeeded", run["status"])
	}
	call(t, "POST", base+"/workflows/"+missingID+"/execute", "{}").wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
	call(t, "POST", base+"/workflows/abc/execute", "{}").wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
}

func TestContractRunList(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "parks", parkedDef())
	var started []string
	for range 3 {
		started = append(started, startRun(t, base, id, nil))
	}
	waitParked(t, base, started[2])
	done := createWorkflow(t, base, "finishes", smallDef())
	doneRun := startRun(t, base, done, nil)
	waitRun(t, base, doneRun)

	runs := asObjects(t, call(t, "GET", base+"/workflows/"+id+"/runs", nil).array(t, http.StatusOK))
	var ids []string
	for i, r := range runs {
		ids = append(ids, uuidField(t, r, "id"))
		if r["status"] != "running" {
			t.Errorf("run %v status %v, want running", r["id"], r["status"])
		}
		if ms := num(t, r, "startedAt"); time.Since(time.UnixMilli(int64(ms))) > time.Minute {
			t.Errorf("startedAt %v is not epoch ms of now", ms)
		}
		if v, ok := r["finishedAt"]; ok {
			t.Errorf("unfinished run has finishedAt %#v, want it left out", v)
		}
		if i > 0 && r["startedAt"].(float64) > runs[i-1]["startedAt"].(float64) {
			t.Errorf("run %d started after run %d: want newest first", i, i-1)
		}
	}
	if diff := cmp.Diff([]string{started[2], started[1], started[0]}, ids); diff != "" {
		t.Errorf("run order (-want newest first +got):\n%s", diff)
	}

	finished := asObjects(t, call(t, "GET", base+"/workflows/"+done+"/runs", nil).array(t, http.StatusOK))
	if len(finished) != 1 || finished[0]["id"] != doneRun || finished[0]["status"] != "succeeded" {
		t.Fatalf("runs of the finished workflow = %v", finished)
	}
	if num(t, finished[0], "finishedAt") < num(t, finished[0], "startedAt") {
		t.Errorf("finishedAt %v before startedAt %v", finished[0]["finishedAt"], finished[0]["startedAt"])
	}
	if len(finished[0]) != 4 {
		t.Errorf("run summary keys %v, want id, status, startedAt, finishedAt", keys(finished[0]))
	}
	empty := createWorkflow(t, base, "never run", smallDef())
	if got := call(t, "GET", base+"/workflows/"+empty+"/runs", nil).array(t, http.StatusOK); len(got) != 0 {
		t.Errorf("runs of a new workflow = %v, want []", got)
	}
	call(t, "GET", base+"/workflows/"+missingID+"/runs", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
	call(t, "GET", base+"/workflows/abc/runs", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
}

// checkRunView checks the status object's fields and types (section 4.4 plus the superset).
func checkRunView(t *testing.T, run map[string]any, runID string, finished bool) {
	t.Helper()
	str(t, run, "status")
	if run["id"] != runID {
		t.Errorf("id = %v, want %s", run["id"], runID)
	}
	objectField(t, run, "input")
	if _, ok := run["result"]; !ok {
		t.Error("result is missing")
	}
	started := iso(t, run, "startedAt")
	end, ok := isoOrNull(t, run, "finishedAt")
	if ok != finished || (ok && end.Before(started)) {
		t.Errorf("finishedAt = %v, want set: %v and not before startedAt %v", run["finishedAt"], finished, run["startedAt"])
	}
	tasks := asObjects(t, arrayField(t, run, "tasks"))
	for _, task := range tasks {
		uuidField(t, task, "id")
		str(t, task, "nodeId")
		str(t, task, "nodeType")
		str(t, task, "status")
		isoOrNull(t, task, "startedAt")
		isoOrNull(t, task, "completedAt")
		if e, ok := task["error"]; !ok {
			t.Error("task error is missing, want null or a string")
		} else if _, isString := e.(string); e != nil && !isString {
			t.Errorf("task error = %#v, want null or a string", e)
		}
	}
	logs := asObjects(t, arrayField(t, run, "logs"))
	if len(logs) == 0 {
		t.Fatal("no logs")
	}
	for i, l := range logs {
		uuidField(t, l, "id")
		typ := str(t, l, "type")
		str(t, l, "message")
		ts := iso(t, l, "timestamp")
		if i > 0 && ts.Before(iso(t, logs[i-1], "timestamp")) {
			t.Errorf("log %d is older than log %d: want oldest first", i, i-1)
		}
		nodeID, present := l["nodeId"]
		if !present {
			t.Errorf("log %d has no nodeId key", i)
		}
		if typ == "system" && nodeID != nil {
			t.Errorf("system log %q has nodeId %v, want null", l["message"], nodeID)
		}
		if typ == "node-output" {
			str(t, l, "nodeId")
			if d := objectField(t, l, "data"); d["kind"] == nil || d["name"] == nil {
				t.Errorf("node-output data = %v, want {kind, name}", d)
			}
		}
		if p, ok := l["nodePersistedId"]; !ok || p != nodeID {
			t.Errorf("log %d nodePersistedId = %#v, want %#v", i, p, nodeID)
		}
		if _, ok := l["data"]; !ok {
			t.Errorf("log %d has no data key", i)
		}
	}
	if logs[0]["message"] != "Async workflow run started" || logs[0]["type"] != "system" {
		t.Errorf("first log = %v, want system \"Async workflow run started\"", logs[0])
	}
}

func TestContractRunStatus(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "small", smallDef())
	runID := startRun(t, base, id, map[string]any{"city": "Rome"})
	run := waitRun(t, base, runID)
	checkRunView(t, run, runID, true)
	if run["status"] != "succeeded" {
		t.Fatalf("status = %v, want succeeded", run["status"])
	}
	tasks := asObjects(t, arrayField(t, run, "tasks"))
	if len(tasks) != 2 || tasks[0]["nodeId"] != "in" || tasks[0]["nodeType"] != "inputText" || tasks[1]["nodeId"] != "note" ||
		tasks[1]["nodeType"] != "notification" || tasks[0]["status"] != "completed" || tasks[1]["status"] != "completed" ||
		tasks[0]["error"] != nil {
		t.Errorf("tasks = %v, want in (inputText) and note (notification), completed, in creation order", tasks)
	}
	for _, task := range tasks {
		if _, ok := isoOrNull(t, task, "startedAt"); !ok {
			t.Errorf("completed task %v has no startedAt", task["nodeId"])
		}
	}
	if diff := cmp.Diff(any(map[string]any{"city": "Rome"}), run["input"]); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	result := objectField(t, run, "result")
	if result["completedTasks"] != float64(2) || result["totalTasks"] != float64(2) {
		t.Errorf("result = %v, want 2 of 2 completed", result)
	}
	var messages []string
	for _, l := range asObjects(t, arrayField(t, run, "logs")) {
		messages = append(messages, l["type"].(string)+": "+l["message"].(string))
	}
	want := []string{"system: Async workflow run started", `node-output: Input: {"city":"Rome"}`, "node-output: Hello Rome", "system: Workflow run succeeded"}
	if diff := cmp.Diff(want, messages); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}

	// Routes 11, 12 and 13 return the same object.
	for _, path := range []string{
		"/workflows/runs/" + runID + "/status",
		"/workflows/" + id + "/runs/" + runID + "/status",
		"/workflows/" + id + "/runs/" + runID,
		"/workflows/" + strings.ToUpper(id) + "/runs/" + strings.ToUpper(runID),
	} {
		if diff := cmp.Diff(run, call(t, "GET", base+path, nil).object(t, http.StatusOK)); diff != "" {
			t.Errorf("GET %s differs from route 11 (-11 +got):\n%s", path, diff)
		}
	}

	// A run parked in a delay: running, finishedAt explicitly null, tasks with null times.
	parkedWF := createWorkflow(t, base, "parks", parkedDef())
	parked := startRun(t, base, parkedWF, nil)
	pr := waitParked(t, base, parked)
	checkRunView(t, pr, parked, false)
	if pr["status"] != "running" || pr["result"] != nil {
		t.Errorf("parked run status %v result %v, want running and null", pr["status"], pr["result"])
	}
	last := asObjects(t, arrayField(t, pr, "tasks"))[2]
	if last["status"] != "pending" || last["startedAt"] != nil || last["completedAt"] != nil {
		t.Errorf("task behind the delay = %v, want pending with null times", last)
	}

	// A run addressed through another workflow, missing or not, is not found; so are ids in
	// any but the canonical form.
	for _, path := range []string{
		"/workflows/runs/" + missingID + "/status",
		"/workflows/runs/abc/status",
		"/workflows/" + id + "/runs/" + missingID + "/status",
		"/workflows/" + id + "/runs/abc/status",
		"/workflows/" + id + "/runs/" + missingID,
		"/workflows/" + id + "/runs/abc",
		"/workflows/" + missingID + "/runs/" + runID + "/status",
		"/workflows/" + parkedWF + "/runs/" + runID + "/status",
		"/workflows/" + parkedWF + "/runs/" + runID,
		"/workflows/anything/runs/" + runID,
		"/workflows/runs/urn:uuid:" + runID + "/status",
		"/workflows/runs/{" + runID + "}/status",
		"/workflows/runs/" + strings.ReplaceAll(runID, "-", "") + "/status",
		"/workflows/urn:uuid:" + id + "/runs/" + runID,
	} {
		call(t, "GET", base+path, nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
	}
}

func TestContractRunLogs(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "small", smallDef())
	runID := startRun(t, base, id, map[string]any{"city": "Lima"})
	run := waitRun(t, base, runID)
	for _, path := range []string{"/workflows/runs/" + runID + "/logs", "/workflows/" + id + "/runs/" + runID + "/logs"} {
		got := call(t, "GET", base+path, nil).object(t, http.StatusOK)
		if len(got) != 2 || got["nextCursor"] != nil {
			t.Errorf("GET %s = %v, want logs and a null nextCursor", path, got)
		}
		if diff := cmp.Diff(run["logs"], got["logs"]); diff != "" {
			t.Errorf("GET %s logs differ from the status route's (-status +got):\n%s", path, diff)
		}
	}
	other := createWorkflow(t, base, "other", smallDef())
	for _, path := range []string{
		"/workflows/runs/" + missingID + "/logs", "/workflows/runs/abc/logs",
		"/workflows/" + id + "/runs/" + missingID + "/logs", "/workflows/" + id + "/runs/abc/logs",
		"/workflows/" + missingID + "/runs/" + runID + "/logs", "/workflows/" + other + "/runs/" + runID + "/logs",
	} {
		call(t, "GET", base+path, nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
	}
}

func TestContractCancel(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "parks", parkedDef())
	other := createWorkflow(t, base, "other", parkedDef())
	for _, tc := range []struct{ name, path, again string }{
		{"route 16", "/workflows/runs/%s/cancel", "/workflows/" + id + "/runs/%s/cancel"},
		{"route 17", "/workflows/" + id + "/runs/%s/cancel", "/workflows/runs/%s/cancel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runID := startRun(t, base, id, nil)
			waitParked(t, base, runID)
			// Through another workflow, missing or not, the run is not found and not cancelled.
			for _, wrong := range []string{other, missingID} {
				call(t, "POST", base+"/workflows/"+wrong+"/runs/"+runID+"/cancel", nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
			}
			if run := runStatus(t, base, runID); run["status"] != "running" {
				t.Fatalf("status after cancels through other workflows = %v, want running", run["status"])
			}
			got := call(t, "POST", base+fmt.Sprintf(tc.path, runID), nil).object(t, http.StatusCreated)
			if diff := cmp.Diff(map[string]any{"cancelled": true}, got); diff != "" {
				t.Errorf("cancel body (-want +got):\n%s", diff)
			}
			run := runStatus(t, base, runID)
			checkRunView(t, run, runID, true)
			// The original front end stops polling only on succeeded or failed: on the
			// seed-compatible routes a cancelled run reads failed, flagged cancelled, with
			// cancelled: true in its result (API-CONTRACT §8.2), on both status routes.
			for _, view := range []map[string]any{run, call(t, "GET", base+"/workflows/"+id+"/runs/"+runID, nil).object(t, http.StatusOK)} {
				if view["status"] != "failed" || view["cancelled"] != true {
					t.Errorf("status after cancel = %v (cancelled %v), want failed with cancelled true", view["status"], view["cancelled"])
				}
				if result, _ := view["result"].(map[string]any); result == nil || result["cancelled"] != true {
					t.Errorf("result after cancel = %v, want cancelled: true", view["result"])
				}
			}
			for _, task := range asObjects(t, arrayField(t, run, "tasks")) {
				switch task["status"] {
				case "pending", "queued", "running", "waiting":
					t.Errorf("task %v is still %v after cancel", task["nodeId"], task["status"])
				}
			}
			logs := asObjects(t, arrayField(t, run, "logs"))
			if l := logs[len(logs)-1]; l["type"] != "system" || l["message"] != "Workflow run cancelled" {
				t.Errorf("last log = %v, want system \"Workflow run cancelled\"", l)
			}
			// Cancelling again conflicts, on either route.
			again := call(t, "POST", base+fmt.Sprintf(tc.again, runID), nil).object(t, http.StatusConflict)
			if again["statusCode"] != float64(409) || again["error"] != "Conflict" {
				t.Errorf("second cancel = %v, want a 409 error body", again)
			}
			if after := runStatus(t, base, runID); after["status"] != "failed" || after["cancelled"] != true || after["finishedAt"] != run["finishedAt"] {
				t.Errorf("second cancel changed the run: %v %v", after["status"], after["finishedAt"])
			}
		})
	}
	t.Run("finished run", func(t *testing.T) {
		small := createWorkflow(t, base, "small", smallDef())
		runID := startRun(t, base, small, nil)
		waitRun(t, base, runID)
		call(t, "POST", base+"/workflows/runs/"+runID+"/cancel", nil).object(t, http.StatusConflict)
		if run := runStatus(t, base, runID); run["status"] != "succeeded" {
			t.Errorf("cancelling a finished run changed its status to %v", run["status"])
		}
	})
	for _, path := range []string{
		"/workflows/runs/" + missingID + "/cancel", "/workflows/runs/abc/cancel",
		"/workflows/" + id + "/runs/" + missingID + "/cancel", "/workflows/" + id + "/runs/abc/cancel",
	} {
		call(t, "POST", base+path, nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
	}
}
