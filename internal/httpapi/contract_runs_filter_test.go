package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
)

// listIDs follows a run list's next links from path and returns the run ids in order; every
// next link must keep the status filter.
func listIDs(t *testing.T, base, path, status string) []string {
	t.Helper()
	linkRE := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	var ids []string
	for pages := 0; path != ""; pages++ {
		if pages > 10 {
			t.Fatal("more pages than runs")
		}
		page := call(t, "GET", base+path, nil)
		for _, r := range asObjects(t, page.array(t, http.StatusOK)) {
			ids = append(ids, uuidField(t, r, "id"))
			s := str(t, r, "status")
			if r["cancelled"] == true {
				if s != "failed" {
					t.Errorf("%s listed a cancelled run as %s, want failed with cancelled: true", path, s)
				}
				s = "(cancelled|failed)"
			} else if _, ok := r["cancelled"]; ok {
				t.Errorf("%s listed a %s run with cancelled %v, want the key only on cancelled runs", path, s, r["cancelled"])
			}
			if status != "" && !regexp.MustCompile(`(^|,)`+s+`(,|$)`).MatchString(status) {
				t.Errorf("%s listed a %s run", path, s)
			}
		}
		path = ""
		if link := page.header.Get("Link"); link != "" {
			m := linkRE.FindStringSubmatch(link)
			if m == nil {
				t.Fatalf("Link %q", link)
			}
			u, err := url.Parse(m[1])
			if err != nil || u.Query().Get("status") != status {
				t.Fatalf("next link %q: status %q, want the filter %q kept", m[1], u.Query().Get("status"), status)
			}
			path = m[1]
		}
	}
	return ids
}

// ?status= keeps the runs in any of the given statuses, page after page; an unknown status
// is a 400 naming the parameter. The list shows a cancelled run as failed with cancelled: true
// (the original front end stops polling only on succeeded or failed), so ?status=failed keeps
// the cancelled runs too, and ?status=cancelled only them.
func TestContractRunListStatusFilter(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "parks, then finishes", parkedDef())
	var parked []string
	for range 3 {
		runID := startRun(t, base, id, nil)
		waitParked(t, base, runID)
		parked = append(parked, runID)
	}
	call(t, "POST", base+"/workflows/runs/"+parked[1]+"/cancel", nil).object(t, http.StatusCreated)
	// The next runs use a version that finishes at once.
	call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "finishes", "nodes": smallDef().Nodes, "edges": smallDef().Edges}).object(t, http.StatusOK)
	var done []string
	for range 2 {
		runID := startRun(t, base, id, nil)
		waitRun(t, base, runID)
		done = append(done, runID)
	}
	runs := "/workflows/" + id + "/runs"
	for _, tc := range []struct {
		query, status string
		want          []string
	}{
		{"?status=running", "running", []string{parked[2], parked[0]}},
		{"?status=running&limit=1", "running", []string{parked[2], parked[0]}},
		{"?status=succeeded,cancelled&limit=1", "succeeded,cancelled", []string{done[1], done[0], parked[1]}},
		{"?status=cancelled,%20succeeded&limit=2", "cancelled,succeeded", []string{done[1], done[0], parked[1]}},
		{"?status=running&status=cancelled", "running,cancelled", []string{parked[2], parked[1], parked[0]}},
		{"?status=failed", "failed", []string{parked[1]}},
		{"?status=cancelled", "cancelled", []string{parked[1]}},
		{"?status=", "", []string{done[1], done[0], parked[2], parked[1], parked[0]}},
		{"?limit=2", "", []string{done[1], done[0], parked[2], parked[1], parked[0]}},
	} {
		if diff := cmp.Diff(tc.want, listIDs(t, base, runs+tc.query, tc.status)); diff != "" {
			t.Errorf("runs%s (-want +got):\n%s", tc.query, diff)
		}
	}
	for _, q := range []string{"status=done", "status=running,bogus", "status=RUNNING", "status=running,,failed", "status=running&status=x"} {
		call(t, "GET", base+runs+"?"+q, nil).wantProblem(t, "status", "not a run status")
	}
	call(t, "GET", base+"/workflows/"+missingID+"/runs?status=running", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
}

// Run starts and run lists name a run's trace (traceId) only when it can be found: sampled
// and exported, the rule of traceUrl. A repeated idempotency key answers with the first
// start's trace. The run view shows the id in every case, for its log lines.
func TestContractTraceIDOnlyForExportedSampledTraces(t *testing.T) {
	t.Parallel()
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(collector.Close)
	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantTrace bool
	}{
		{"no exporter", map[string]string{}, false},
		{"sampling off", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_TRACES_SAMPLER": "always_off"}, false},
		{"exported and sampled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := apptest.Start(t, func(c *app.Config) { c.Getenv = func(k string) string { return tc.env[k] } }).URL
			id := createWorkflow(t, base, "small", smallDef())
			traceOf := func(m map[string]any) string {
				t.Helper()
				v, ok := m["traceId"]
				if !ok {
					return ""
				}
				s, _ := v.(string)
				if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(s) || !tc.wantTrace {
					t.Errorf("traceId %#v, want it only for a sampled, exported trace, as 32 hex digits", v)
				}
				return s
			}
			viewTrace := func(runID string) string {
				t.Helper()
				run := waitRun(t, base, runID)
				s := str(t, run, "traceId")
				if len(s) != 32 {
					t.Errorf("run view traceId %q, want the run's trace id", s)
				}
				return s
			}

			asyncRun := call(t, "POST", base+"/workflows/"+id+"/execute-async", "{}", "Idempotency-Key", "k").object(t, http.StatusCreated)
			asyncID := uuidField(t, asyncRun, "runId")
			again := call(t, "POST", base+"/workflows/"+id+"/trigger", "{}", "Idempotency-Key", "k").object(t, http.StatusCreated)
			syncRun := call(t, "POST", base+"/workflows/"+id+"/execute", "{}").object(t, http.StatusCreated)
			syncID := uuidField(t, syncRun, "runId")
			views := map[string]string{asyncID: viewTrace(asyncID), syncID: viewTrace(syncID)}
			want := func(runID string) string {
				if tc.wantTrace {
					return views[runID]
				}
				return ""
			}
			if got := traceOf(asyncRun); got != want(asyncID) {
				t.Errorf("execute-async traceId %q, want %q", got, want(asyncID))
			}
			if got := traceOf(again); uuidField(t, again, "runId") != asyncID || got != want(asyncID) {
				t.Errorf("repeated start answered run %v with traceId %q, want run %s with the first start's trace %q", again["runId"], got, asyncID, want(asyncID))
			}
			if got := traceOf(syncRun); got != want(syncID) {
				t.Errorf("execute traceId %q, want %q", got, want(syncID))
			}
			list := asObjects(t, call(t, "GET", base+"/workflows/"+id+"/runs", nil).array(t, http.StatusOK))
			if len(list) != 2 {
				t.Fatalf("%d runs listed, want 2", len(list))
			}
			for _, r := range list {
				runID := uuidField(t, r, "id")
				if got := traceOf(r); got != want(runID) {
					t.Errorf("listed run %s traceId %q, want %q", runID, got, want(runID))
				}
			}
		})
	}
}
