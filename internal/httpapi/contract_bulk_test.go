package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// Bulk retry and cancel act on one page of a search at a time, continue with its cursor, and
// are idempotent: the same call again makes no second retry of a run and cancels nothing twice.
func TestContractBulkRetryAndCancel(t *testing.T) {
	t.Parallel()
	base := start(t)
	api := newCountingAPI(t)
	pay := createWorkflow(t, base, "pay", payDef(api, "/broken/pay"))
	parked := createWorkflow(t, base, "parks", parkedDef())
	var failed []string
	for range 3 {
		runID := startRun(t, base, pay, nil)
		if st := waitRun(t, base, runID)["status"]; st != "failed" {
			t.Fatalf("run %s %v, want failed", runID, st)
		}
		failed = append(failed, runID)
	}
	slices.Reverse(failed) // newest first, the search's order
	inFlight := []string{startRun(t, base, parked, nil), startRun(t, base, parked, nil)}
	for _, runID := range inFlight {
		waitParked(t, base, runID)
	}

	bulk := func(action string, q url.Values, status int) map[string]any {
		t.Helper()
		return call(t, "POST", base+"/runs/"+action+"?"+q.Encode(), nil).object(t, status)
	}
	results := func(view map[string]any) []map[string]any { return asObjects(t, arrayField(t, view, "results")) }

	call(t, "POST", base+"/runs/retry", nil).wantProblem(t, "filter")
	call(t, "POST", base+"/runs/cancel?limit=5", nil).wantProblem(t, "filter")
	call(t, "POST", base+"/runs/retry?workflowId="+pay+"&limit=501", nil).wantProblem(t, "limit")
	call(t, "POST", base+"/runs/retry?status=later", nil).wantProblem(t, "status")
	// A filter given empty or misspelt is refused: neither may widen the action to every run.
	call(t, "POST", base+"/runs/cancel?status=", nil).wantProblem(t, "filter")
	call(t, "POST", base+"/runs/cancel?since=2026-01-01T00:00:00Z", nil).wantProblem(t, "since")
	call(t, "POST", base+"/runs/cancel?workflowId="+parked+"&workflowid="+pay, nil).wantProblem(t, "workflowid")
	call(t, "GET", base+"/runs?workflowId="+pay+"&versoin=1", nil).wantProblem(t, "versoin")
	for _, runID := range inFlight {
		if run := runStatus(t, base, runID); run["status"] != "running" {
			t.Fatalf("run %s is %v after refused bulk cancels, want running", runID, run["status"])
		}
	}

	// Two pages of the workflow's failed runs: each run retried once, in the search's order.
	first := bulk("retry", url.Values{"workflowId": {pay}, "limit": {"2"}}, http.StatusOK)
	next, _ := first["nextCursor"].(string)
	if first["matched"] != float64(2) || next == "" {
		t.Fatalf("first page %v, want 2 matched and a cursor", first)
	}
	second := bulk("retry", url.Values{"workflowId": {pay}, "limit": {"2"}, "cursor": {next}}, http.StatusOK)
	if second["matched"] != float64(1) || second["nextCursor"] != nil {
		t.Fatalf("second page %v, want 1 matched and a null cursor", second)
	}
	retryOf := map[string]string{}
	for i, res := range append(results(first), results(second)...) {
		if res["runId"] != failed[i] || res["outcome"] != "retried" || res["created"] != true {
			t.Errorf("result %d = %v, want run %s retried and created", i, res, failed[i])
		}
		retryOf[failed[i]] = uuidField(t, res, "newRunId")
	}
	for orig, retry := range retryOf {
		run := waitRun(t, base, retry)
		if run["parentRunId"] != orig || run["rerunKind"] != "retry" || run["status"] != "failed" {
			t.Errorf("retry %s: parent %v kind %v status %v, want %s, retry, failed", retry, run["parentRunId"], run["rerunKind"], run["status"], orig)
		}
	}
	// The retries reused node a's output and called the broken endpoint again.
	if a, broken := api.count("/a"), api.count("/broken/pay"); a != 3 || broken != 6 {
		t.Errorf("calls: /a %d, /broken/pay %d; want 3 and 6", a, broken)
	}

	// Again over every failed run: the originals answer the retries already made, and the
	// failed retries are retried once each.
	again := bulk("retry", url.Values{"workflowId": {pay}}, http.StatusOK)
	if again["matched"] != float64(6) {
		t.Fatalf("second bulk retry matched %v, want the 3 originals and their 3 retries", again["matched"])
	}
	made := 0
	for _, res := range results(again) {
		id, _ := res["runId"].(string)
		if want, isOrig := retryOf[id]; isOrig {
			if res["newRunId"] != want || res["created"] != false {
				t.Errorf("original %s: %v, want its retry %s, not created", id, res, want)
			}
			continue
		}
		if res["outcome"] != "retried" || res["created"] != true {
			t.Errorf("failed retry %s: %v, want retried and created", id, res)
		}
		made++
		waitRun(t, base, uuidField(t, res, "newRunId"))
	}
	if made != 3 || api.count("/a") != 3 {
		t.Errorf("made %d retries of retries (want 3); /a called %d times (want 3)", made, api.count("/a"))
	}

	// A run in flight is not retried: skipped with the reason.
	for _, res := range results(bulk("retry", url.Values{"workflowId": {parked}, "status": {"running"}}, http.StatusOK)) {
		if res["outcome"] != "skipped" || res["reason"] == "" {
			t.Errorf("retry of a run in flight: %v, want skipped with a reason", res)
		}
	}

	// Cancel takes the runs in flight; again, it finds none; naming cancelled, it skips them.
	cancelled := bulk("cancel", url.Values{"workflowId": {parked}}, http.StatusOK)
	if cancelled["matched"] != float64(2) {
		t.Fatalf("bulk cancel matched %v, want 2", cancelled["matched"])
	}
	for _, res := range results(cancelled) {
		if res["outcome"] != "cancelled" || !slices.Contains(inFlight, res["runId"].(string)) {
			t.Errorf("bulk cancel result %v, want one of %v cancelled", res, inFlight)
		}
	}
	for _, runID := range inFlight {
		if run := runStatus(t, base, runID); run["cancelled"] != true {
			t.Errorf("run %s after bulk cancel: %v, want cancelled", runID, run["status"])
		}
	}
	if again := bulk("cancel", url.Values{"workflowId": {parked}}, http.StatusOK); again["matched"] != float64(0) {
		t.Errorf("second bulk cancel matched %v, want 0", again["matched"])
	}
	for _, res := range results(bulk("cancel", url.Values{"workflowId": {parked}, "status": {"cancelled"}}, http.StatusOK)) {
		if res["outcome"] != "skipped" || res["reason"] != "the run already finished" {
			t.Errorf("cancel of a cancelled run: %v, want skipped: the run already finished", res)
		}
	}
}
