package httpapi_test

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// failingServer answers every request with a 500.
func failingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// searchPages follows GET /runs from query through its nextCursor and returns the runs.
func searchPages(t *testing.T, base, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("more pages than runs")
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page := call(t, "GET", base+"/runs?"+q.Encode(), nil).object(t, http.StatusOK)
		out = append(out, asObjects(t, arrayField(t, page, "runs"))...)
		next, ok := page["nextCursor"]
		if !ok {
			return out
		}
		if cursor, _ = next.(string); cursor == "" {
			t.Fatalf("nextCursor %#v, want a cursor or no key", next)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	k := keys(m)
	slices.Sort(k)
	return k
}

func runIDs(t *testing.T, runs []map[string]any) []string {
	t.Helper()
	ids := []string{}
	for _, r := range runs {
		ids = append(ids, uuidField(t, r, "id"))
	}
	return ids
}

// GET /runs finds runs of every workflow by each filter, through the engine's own record of
// failed nodes: a run that succeeded with a node that failed and continued, one that failed,
// one cancelled (shown as cancelled here), one started with an idempotency key. Bad values
// are 400s naming the parameter.
func TestContractRunSearch(t *testing.T) {
	t.Parallel()
	base := start(t)
	down := failingServer(t)
	soft := createWorkflow(t, base, "soft", workflowtest.New().
		APICall("lookup", "GET", down+"/lookup", map[string]any{"retries": 0}).Notify("after", "done").Chain("lookup", "after").Build())
	hard := createWorkflow(t, base, "hard", workflowtest.New().Input("in").
		APICall("charge", "GET", down+"/charge", map[string]any{"retries": 0, "onError": "fail"}).Chain("in", "charge").Build())
	parked := createWorkflow(t, base, "parks", parkedDef())
	ok := createWorkflow(t, base, "fine", smallDef())

	softRun := startRun(t, base, soft, nil)
	waitRun(t, base, softRun)
	hardRun := startRun(t, base, hard, nil)
	waitRun(t, base, hardRun)
	cancelled := startRun(t, base, parked, nil)
	waitParked(t, base, cancelled)
	call(t, "POST", base+"/workflows/runs/"+cancelled+"/cancel", nil).object(t, http.StatusCreated)
	waitRun(t, base, cancelled)
	keyed := uuidField(t, call(t, "POST", base+"/workflows/"+ok+"/execute-async", `{}`, "Idempotency-Key", "nightly-1").object(t, http.StatusCreated), "runId")
	waitRun(t, base, keyed)
	newestFirst := []string{keyed, cancelled, hardRun, softRun}

	all := searchPages(t, base, "limit=1")
	if diff := cmp.Diff(newestFirst, runIDs(t, all)); diff != "" {
		t.Fatalf("every run, pages of 1 (-want +got):\n%s", diff)
	}
	byID := map[string]map[string]any{}
	for _, r := range all {
		byID[r["id"].(string)] = r
		want := []string{"error", "failedNodes", "finishedAt", "id", "idempotencyKey", "startedAt", "status", "version", "workflowId", "workflowName"}
		if got := sortedKeys(r); !slices.Equal(got, want) {
			t.Errorf("run %v keys %v, want %v", r["id"], got, want)
		}
		iso(t, r, "startedAt")
		iso(t, r, "finishedAt")
	}
	for _, tc := range []struct {
		run, workflowID, name, status string
		failedNodes                   float64
		errSet                        bool
		key                           any
	}{
		{softRun, soft, "soft", "succeeded", 1, false, nil},
		{hardRun, hard, "hard", "failed", 1, true, nil},
		{cancelled, parked, "parks", "cancelled", 0, false, nil},
		{keyed, ok, "fine", "succeeded", 0, false, "nightly-1"},
	} {
		r := byID[tc.run]
		if r["workflowId"] != tc.workflowID || r["workflowName"] != tc.name || r["version"] != float64(1) || r["status"] != tc.status ||
			r["failedNodes"] != tc.failedNodes || (r["error"] != nil) != tc.errSet || r["idempotencyKey"] != tc.key {
			t.Errorf("run %s = %v; want workflow %s (%s) version 1, %s, %v failed nodes, error set %v, key %v",
				tc.run, r, tc.workflowID, tc.name, tc.status, tc.failedNodes, tc.errSet, tc.key)
		}
	}

	later := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"status=succeeded&hasFailedNodes=true", []string{softRun}},
		{"status=succeeded&hasFailedNodes=false", []string{keyed}},
		{"hasFailedNodes=true", []string{hardRun, softRun}},
		{"status=failed", []string{hardRun}},
		{"status=cancelled,failed&limit=1", []string{cancelled, hardRun}},
		{"workflowId=" + parked, []string{cancelled}},
		{"workflowId=" + hard + "&version=1&status=failed", []string{hardRun}},
		{"workflowId=" + hard + "&version=2", []string{}},
		{"idempotencyKey=nightly-1", []string{keyed}},
		{"failedNode=charge", []string{hardRun}},
		{"failedNode=lookup", []string{softRun}},
		{"error=STATUS%20500", []string{hardRun, softRun}},
		{"error=status%20500&status=failed", []string{hardRun}},
		{"startedAfter=" + later, []string{}},
		{"startedBefore=" + later + "&startedAfter=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), newestFirst},
	} {
		if diff := cmp.Diff(tc.want, runIDs(t, searchPages(t, base, tc.query))); diff != "" {
			t.Errorf("/runs?%s (-want +got):\n%s", tc.query, diff)
		}
	}
	// A misspelt filter is refused rather than ignored: it would show every run.
	call(t, "GET", base+"/runs?unknown=1", nil).wantProblem(t, "unknown")
	if got := call(t, "GET", base+"/runs?startedAfter="+later, nil).object(t, http.StatusOK); len(got) != 1 || got["runs"] == nil {
		t.Errorf("empty search = %v, want {\"runs\": []}", got)
	}

	for _, tc := range []struct{ query, field string }{
		{"status=done", "status"},
		{"hasFailedNodes=maybe", "hasFailedNodes"},
		{"workflowId=abc", "workflowId"},
		{"version=1", "version"},
		{"workflowId=" + hard + "&version=x", "version"},
		{"startedAfter=last%20night", "startedAfter"},
		{"startedBefore=2026-13-01T00:00:00Z", "startedBefore"},
		{"error=ab", "error"},
		{"limit=0", "limit"},
		{"limit=100000", "limit"},
		{"cursor=nope", "cursor"},
	} {
		call(t, "GET", base+"/runs?"+tc.query, nil).wantProblem(t, tc.field)
	}
}

// The seed's per-workflow list takes the same filters (but workflowId), keeps its shape (an
// array, the next page in Link and X-Next-Cursor, keeping the filter) and shows a cancelled
// run as failed with cancelled: true.
func TestContractRunListFiltersAndCancelledAsFailed(t *testing.T) {
	t.Parallel()
	base := start(t)
	down := failingServer(t)
	hard := createWorkflow(t, base, "hard", workflowtest.New().Input("in").
		APICall("charge", "GET", down+"/charge", map[string]any{"retries": 0, "onError": "fail"}).Chain("in", "charge").Build())
	var failed []string
	for range 3 {
		runID := startRun(t, base, hard, nil)
		waitRun(t, base, runID)
		failed = append([]string{runID}, failed...)
	}
	// Version 2 parks; its run is cancelled.
	call(t, "PUT", base+"/workflows/"+hard, map[string]any{"name": "hard", "nodes": parkedDef().Nodes, "edges": parkedDef().Edges}).object(t, http.StatusOK)
	cancelled := startRun(t, base, hard, nil)
	waitParked(t, base, cancelled)
	call(t, "POST", base+"/workflows/runs/"+cancelled+"/cancel", nil).object(t, http.StatusCreated)
	waitRun(t, base, cancelled)

	runs := "/workflows/" + hard + "/runs"
	list := asObjects(t, call(t, "GET", base+runs, nil).array(t, http.StatusOK))
	if len(list) != 4 || list[0]["id"] != cancelled {
		t.Fatalf("runs = %v, want the cancelled run first of 4", list)
	}
	if got, want := sortedKeys(list[0]), []string{"cancelled", "finishedAt", "id", "startedAt", "status"}; !slices.Equal(got, want) {
		t.Errorf("cancelled run's keys %v, want %v", got, want)
	}
	if list[0]["status"] != "failed" || list[0]["cancelled"] != true {
		t.Errorf("cancelled run listed as %v, want status failed and cancelled true", list[0])
	}
	for _, r := range list[1:] {
		if got, want := sortedKeys(r), []string{"finishedAt", "id", "startedAt", "status"}; !slices.Equal(got, want) || r["status"] != "failed" {
			t.Errorf("failed run %v, want keys %v and status failed", r, want)
		}
	}
	// GET /runs shows the same run as cancelled.
	native := searchPages(t, base, "workflowId="+hard+"&version=2")
	if len(native) != 1 || native[0]["status"] != "cancelled" {
		t.Errorf("GET /runs of version 2 = %v, want the run, cancelled", native)
	}

	page := call(t, "GET", base+runs+"?failedNode=charge&version=1&limit=2&workflowId=ignored", nil)
	got := runIDs(t, asObjects(t, page.array(t, http.StatusOK)))
	link := page.header.Get("Link")
	next := page.header.Get("X-Next-Cursor")
	if !slices.Equal(got, failed[:2]) || next == "" {
		t.Fatalf("first page %v, X-Next-Cursor %q; want %v and a cursor", got, next, failed[:2])
	}
	u, err := url.Parse(link[1 : len(link)-len(`>; rel="next"`)])
	if err != nil || u.Query().Get("failedNode") != "charge" || u.Query().Get("version") != "1" || u.Query().Get("cursor") != next || u.Query().Get("limit") != "2" {
		t.Fatalf("Link %q, want the filter, limit and cursor kept", link)
	}
	rest := asObjects(t, call(t, "GET", base+u.String(), nil).array(t, http.StatusOK))
	if ids := runIDs(t, rest); !slices.Equal(ids, failed[2:]) {
		t.Errorf("second page %v, want %v", ids, failed[2:])
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"status=failed", append([]string{cancelled}, failed...)},
		{"status=cancelled", []string{cancelled}},
		{"status=failed&hasFailedNodes=true", failed},
		{"error=status%20500", failed},
		{"version=2", []string{cancelled}},
	} {
		ids := runIDs(t, asObjects(t, call(t, "GET", base+runs+"?"+tc.query, nil).array(t, http.StatusOK)))
		if diff := cmp.Diff(tc.want, ids); diff != "" {
			t.Errorf("runs?%s (-want +got):\n%s", tc.query, diff)
		}
	}
	call(t, "GET", base+runs+"?startedBefore=soon", nil).wantProblem(t, "startedBefore")
	call(t, "GET", base+runs+"?version=0", nil).wantProblem(t, "version")
}
