package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// countingAPI is a loopback endpoint for apiCall nodes that counts calls per path; paths
// under /broken/ answer 500.
type countingAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string]int
}

func newCountingAPI(t *testing.T) *countingAPI {
	c := &countingAPI{calls: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.calls[r.URL.Path]++
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/broken/") {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":"down"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path})
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *countingAPI) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[path]
}

// payDef is in -> a -> pay -> note, pay calling payPath (a broken one fails the run).
func payDef(api *countingAPI, payPath string) workflow.Definition {
	fail := map[string]any{"onError": "fail", "retries": 0}
	return workflowtest.New().Input("in").APICall("a", "GET", api.URL+"/a", fail).APICall("pay", "GET", api.URL+payPath, fail).
		Notify("note", "paid {{data.path}}").Chain("in", "a", "pay", "note").Build()
}

// Retry and re-run over HTTP: status codes, the answer's shape, idempotency, lineage both ways,
// a re-run on the current version after the failing URL was fixed with a PUT, and the
// refusals (404, 409, 422 naming the field). Reused nodes are never called again.
func TestContractRetryAndRerun(t *testing.T) {
	t.Parallel()
	base := start(t)
	api := newCountingAPI(t)
	id := createWorkflow(t, base, "pay", payDef(api, "/broken/pay"))
	orig := startRun(t, base, id, map[string]any{"order": 7})
	if st := waitRun(t, base, orig)["status"]; st != "failed" {
		t.Fatalf("original run %v, want failed", st)
	}

	// Retry on the pinned version fails again at pay, without calling a again; the same key
	// returns the same run with 200.
	retryURL := base + "/workflows/runs/" + orig + "/retry"
	first := call(t, "POST", retryURL, nil, "Idempotency-Key", "retry-1").object(t, http.StatusCreated)
	retried := uuidField(t, first, "runId")
	if first["parentRunId"] != orig || first["rerunKind"] != "retry" {
		t.Errorf("retry answer %v, want parentRunId %s and rerunKind retry", first, orig)
	}
	again := call(t, "POST", base+"/workflows/"+id+"/runs/"+orig+"/retry", `{}`, "Idempotency-Key", "retry-1").object(t, http.StatusOK)
	if again["runId"] != retried {
		t.Errorf("repeated retry answered run %v, want %s", again["runId"], retried)
	}
	run := waitRun(t, base, retried)
	if run["status"] != "failed" || api.count("/a") != 1 || api.count("/broken/pay") != 2 {
		t.Errorf("retry %v with calls a=%d pay=%d, want failed, 1 and 2", run["status"], api.count("/a"), api.count("/broken/pay"))
	}
	if run["parentRunId"] != orig || run["rerunKind"] != "retry" || run["rerunFromNodeId"] != nil {
		t.Errorf("retry lineage %v/%v/%v, want %s/retry/none", run["parentRunId"], run["rerunKind"], run["rerunFromNodeId"], orig)
	}
	if got := arrayField(t, run, "reruns"); len(got) != 0 {
		t.Errorf("retry lists reruns %v, want none", got)
	}
	parent := runStatus(t, base, orig)
	if _, ok := parent["parentRunId"]; ok {
		t.Errorf("an ordinary run has parentRunId %v", parent["parentRunId"])
	}
	reruns := asObjects(t, arrayField(t, parent, "reruns"))
	if len(reruns) != 1 || reruns[0]["id"] != retried || reruns[0]["kind"] != "retry" || reruns[0]["status"] != "failed" || reruns[0]["fromNodeId"] != nil {
		t.Errorf("original's reruns %v, want the retry", reruns)
	}
	iso(t, reruns[0], "startedAt")

	// The fix goes into a new version; a pinned re-run still calls the broken URL, a re-run
	// on the current version calls the fixed one. Neither calls a again.
	call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "pay", "nodes": payDef(api, "/pay").Nodes, "edges": payDef(api, "/pay").Edges}).object(t, http.StatusOK)
	rerunURL := base + "/workflows/runs/" + orig + "/rerun"
	pinned := uuidField(t, call(t, "POST", rerunURL, map[string]any{"fromNodeId": "pay"}).object(t, http.StatusCreated), "runId")
	if st := waitRun(t, base, pinned)["status"]; st != "failed" || api.count("/broken/pay") != 3 {
		t.Errorf("pinned re-run %v with %d broken calls, want failed and 3", st, api.count("/broken/pay"))
	}
	cur := call(t, "POST", rerunURL, map[string]any{"fromNodeId": "pay", "version": "current"}).object(t, http.StatusCreated)
	if cur["rerunFromNodeId"] != "pay" || cur["rerunKind"] != "rerun" {
		t.Errorf("re-run answer %v", cur)
	}
	fixed := waitRun(t, base, uuidField(t, cur, "runId"))
	if fixed["status"] != "succeeded" || api.count("/pay") != 1 || api.count("/a") != 1 {
		t.Errorf("current re-run %v with calls pay=%d a=%d, want succeeded, 1, 1", fixed["status"], api.count("/pay"), api.count("/a"))
	}
	if fixed["version"] != float64(2) || fixed["rerunFromNodeId"] != "pay" || fixed["parentRunId"] != orig {
		t.Errorf("current re-run version %v from %v parent %v, want 2, pay, %s", fixed["version"], fixed["rerunFromNodeId"], fixed["parentRunId"], orig)
	}
	if got := lastNodeLog(fixed, "note"); got != "paid /pay" {
		t.Errorf("note %q, want paid /pay", got)
	}
	if n := len(arrayField(t, runStatus(t, base, orig), "reruns")); n != 3 {
		t.Errorf("original lists %d reruns, want 3", n)
	}

	// Refusals.
	fixedID := uuidField(t, fixed, "id")
	call(t, "POST", base+"/workflows/runs/"+fixedID+"/retry", nil).object(t, http.StatusConflict) // nothing failed
	wantConflict(t, call(t, "POST", rerunURL, map[string]any{"fromNodeId": "note"}), "pay")       // pay failed in orig
	for _, tc := range []struct {
		body  any
		field string
	}{
		{nil, "fromNodeId"},
		{map[string]any{}, "fromNodeId"},
		{map[string]any{"fromNodeId": "nope"}, "fromNodeId"},
		{map[string]any{"fromNodeId": "nope", "version": "current"}, "fromNodeId"},
		{map[string]any{"fromNodeId": "pay", "version": "latest"}, "version"},
		{map[string]any{"fromNodeId": "pay", "input": []int{1}}, "input"},
		{`{"fromNodeId": 3}`, "fromNodeId"},
	} {
		wantUnprocessable(t, call(t, "POST", rerunURL, tc.body), tc.field)
	}
	wantUnprocessable(t, call(t, "POST", retryURL, `{"nope": 1}`), "nope")
	// A node added to the current version upstream of the start node has no output to reuse.
	three := workflowtest.New().Input("in").APICall("a", "GET", api.URL+"/a", nil).APICall("pay", "GET", api.URL+"/pay", nil).
		Notify("extra", "x").Notify("note", "n").Chain("in", "a", "pay", "extra", "note").Build()
	call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "pay", "nodes": three.Nodes, "edges": three.Edges}).object(t, http.StatusOK)
	wantConflict(t, call(t, "POST", base+"/workflows/runs/"+fixedID+"/rerun", map[string]any{"fromNodeId": "note", "version": "current"}), "extra")
	for _, path := range []string{"/workflows/runs/" + missingID, "/workflows/runs/abc", "/workflows/" + missingID + "/runs/" + orig} {
		call(t, "POST", base+path+"/retry", nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
		call(t, "POST", base+path+"/rerun", map[string]any{"fromNodeId": "pay"}).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
	}
	parked := createWorkflow(t, base, "parked", parkedDef())
	inFlight := startRun(t, base, parked, nil)
	waitParked(t, base, inFlight)
	wantConflict(t, call(t, "POST", base+"/workflows/runs/"+inFlight+"/retry", nil), "running")
	call(t, "POST", base+"/workflows/runs/"+inFlight+"/cancel", nil).object(t, http.StatusCreated)
	// A cancelled run can be retried; a cancelled retry reads failed with cancelled: true in
	// its parent's list, as on the status route itself.
	again2 := uuidField(t, call(t, "POST", base+"/workflows/runs/"+inFlight+"/retry", nil).object(t, http.StatusCreated), "runId")
	waitParked(t, base, again2)
	call(t, "POST", base+"/workflows/runs/"+again2+"/cancel", nil).object(t, http.StatusCreated)
	if rr := asObjects(t, arrayField(t, runStatus(t, base, inFlight), "reruns")); len(rr) != 1 || rr[0]["id"] != again2 || rr[0]["status"] != "failed" || rr[0]["cancelled"] != true {
		t.Errorf("reruns of the cancelled run %v, want its cancelled retry as failed with cancelled: true", rr)
	}
	if api.count("/a") != 1 {
		t.Errorf("a was called %d times, want once: reused outputs are not executed again", api.count("/a"))
	}
}

func wantConflict(t *testing.T, r resp, mentions string) {
	t.Helper()
	got := r.object(t, http.StatusConflict)
	if msg, _ := got["message"].(string); !strings.Contains(msg, mentions) {
		t.Errorf("409 message %q, want it to mention %q", msg, mentions)
	}
}

func wantUnprocessable(t *testing.T, r resp, field string) {
	t.Helper()
	got := r.object(t, http.StatusUnprocessableEntity)
	list, _ := got["message"].([]any)
	for _, m := range list {
		if s, _ := m.(string); strings.Contains(s, field) {
			return
		}
	}
	t.Errorf("422 body %v does not name %q", got, field)
}
