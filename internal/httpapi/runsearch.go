package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Run search: GET /runs (native) and the filters of the seed's GET /workflows/{id}/runs.
// The query parameters are the same on both, except workflowId (the seed's route has the
// workflow in its path), and a bad value is a 400 naming its parameter. The native search and
// the bulk actions built on it also refuse an unknown parameter and a repeated one (status
// aside), so a misspelt filter never widens what a search shows or a bulk action acts on; the
// seed's route ignores unknown parameters, as the service it replaces did.

// runQuery is a run list's query: its filter and page.
type runQuery struct {
	filter workflow.RunFilter
	page   workflow.Page
}

// runFilters are the filter parameters of the native run search, in the order the
// documentation gives them; runPage are its page parameters. Only status may repeat.
var (
	runFilters = []string{"status", "hasFailedNodes", "workflowId", "version", "startedAfter", "startedBefore", "idempotencyKey", "failedNode", "error"}
	runPage    = []string{"cursor", "limit"}
)

// checkRunParams refuses a parameter the native run search does not know, and a single-valued
// one given more than once, naming it.
func checkRunParams(q url.Values) error {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(runFilters, name) && !slices.Contains(runPage, name):
			return workflow.Invalid(shorten(name), "is not a run search parameter (%s)", strings.Join(slices.Concat(runFilters, runPage), ", "))
		case name != "status" && len(q[name]) > 1:
			return workflow.Invalid(name, "is given %d times; give it once", len(q[name]))
		}
	}
	return nil
}

// parseRunQuery reads a run list's query parameters (withWorkflow, the native search: also
// workflowId, and unknown or repeated parameters are refused, see checkRunParams):
//
//	status          one or more comma-separated run statuses (also repeated); empty: any
//	hasFailedNodes  true or false: runs with (without) a failed node
//	workflowId      a workflow's id; version (1 and up) needs it
//	startedAfter    RFC 3339 time or epoch milliseconds; runs started at or after it
//	startedBefore   likewise; runs started before it
//	idempotencyKey  exact
//	failedNode      a node id that failed in the run
//	error           text the run's error, or a failed node's, contains (any case)
//	cursor, limit   the page
func parseRunQuery(q url.Values, withWorkflow bool) (runQuery, error) {
	var rq runQuery
	if withWorkflow {
		if err := checkRunParams(q); err != nil {
			return rq, err
		}
	}
	f := &rq.filter
	for _, v := range q["status"] {
		if strings.TrimSpace(v) == "" {
			continue
		}
		for _, st := range strings.Split(v, ",") {
			st = strings.TrimSpace(st)
			if !workflow.IsRunStatus(st) {
				return rq, workflow.Invalid("status", "%.40q is not a run status (one of %s)", st, strings.Join(workflow.RunStatuses(), ", "))
			}
			if !slices.Contains(f.Statuses, st) {
				f.Statuses = append(f.Statuses, st)
			}
		}
	}
	if s := q.Get("hasFailedNodes"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return rq, workflow.Invalid("hasFailedNodes", "must be true or false")
		}
		f.HasFailedNodes = &b
	}
	if withWorkflow {
		if s := q.Get("workflowId"); s != "" {
			if !canonicalID(s) {
				return rq, workflow.Invalid("workflowId", "%.80q is not a workflow id", s)
			}
			f.WorkflowID = strings.ToLower(s)
		}
	}
	if s := q.Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return rq, workflow.Invalid("version", "must be a version number (1 and up)")
		}
		f.Version = n
	}
	var err error
	if f.StartedAfter, err = timeParam(q, "startedAfter"); err != nil {
		return rq, err
	}
	if f.StartedBefore, err = timeParam(q, "startedBefore"); err != nil {
		return rq, err
	}
	f.IdempotencyKey, f.FailedNode, f.Error = q.Get("idempotencyKey"), q.Get("failedNode"), q.Get("error")
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return rq, workflow.Invalid("limit", "must be a positive integer")
		}
		rq.page.Limit = n
	}
	rq.page.Cursor = q.Get("cursor")
	check := rq.filter
	if !withWorkflow {
		// The seed's route has its workflow in its path, which the version belongs to.
		check.WorkflowID = "path"
	}
	return rq, check.Check()
}

// timeParam reads a time parameter: RFC 3339 (with a zone) or epoch milliseconds; zero when
// absent.
func timeParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 || ms > 253402300799999 { // 9999-12-31T23:59:59.999Z
			return time.Time{}, workflow.Invalid(name, "epoch milliseconds must be between 0 and 253402300799999")
		}
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, workflow.Invalid(name, "must be an RFC 3339 time (2026-12-01T18:00:00Z) or epoch milliseconds")
	}
	return t, nil
}

// values encodes the query again, with another cursor: the next page's link keeps the filter.
func (rq runQuery) values(cursor string) url.Values {
	f := rq.filter
	q := url.Values{"cursor": {cursor}}
	if rq.page.Limit > 0 {
		q.Set("limit", strconv.Itoa(rq.page.Limit))
	}
	if len(f.Statuses) > 0 {
		q.Set("status", strings.Join(f.Statuses, ","))
	}
	if f.HasFailedNodes != nil {
		q.Set("hasFailedNodes", strconv.FormatBool(*f.HasFailedNodes))
	}
	if f.WorkflowID != "" {
		q.Set("workflowId", f.WorkflowID)
	}
	if f.Version > 0 {
		q.Set("version", strconv.Itoa(f.Version))
	}
	for name, t := range map[string]time.Time{"startedAfter": f.StartedAfter, "startedBefore": f.StartedBefore} {
		if !t.IsZero() {
			q.Set(name, t.UTC().Format(time.RFC3339Nano))
		}
	}
	for name, v := range map[string]string{"idempotencyKey": f.IdempotencyKey, "failedNode": f.FailedNode, "error": f.Error} {
		if v != "" {
			q.Set(name, v)
		}
	}
	return q
}

// runSummaryView is a run of the seed's run list; a cancelled run shows as failed with
// cancelled: true, since the original front end stops polling only on succeeded or failed.
type runSummaryView struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Cancelled  bool   `json:"cancelled,omitempty"`
	StartedAt  int64  `json:"startedAt"`
	FinishedAt *int64 `json:"finishedAt,omitempty"`
	TraceID    string `json:"traceId,omitempty"`
}

// listRuns answers one page of a workflow's runs as the seed's array; the next page, if any, is
// named by a Link header (rel="next") and its cursor by X-Next-Cursor. The filters are those of
// GET /runs (parseRunQuery) but workflowId; ?status=failed also keeps the cancelled runs,
// which this list shows as failed. The next page's link keeps the filter.
func (a *API) listRuns(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, workflowNotFound)
		return
	}
	q, err := queryValues(r)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	rq, err := parseRunQuery(q, false)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	f := rq.filter
	if slices.Contains(f.Statuses, workflow.RunFailed) && !slices.Contains(f.Statuses, workflow.RunCancelled) {
		f.Statuses = append(slices.Clip(f.Statuses), workflow.RunCancelled)
	}
	runs, next, err := a.Runs.ListRuns(r.Context(), id, f, rq.page)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	out := make([]runSummaryView, len(runs))
	for i, s := range runs {
		status, cancelled := seedStatus(s.Status)
		out[i] = runSummaryView{ID: s.ID, Status: status, Cancelled: cancelled, StartedAt: millis(s.StartedAt), TraceID: a.exportedTraceID(s.TraceContext)}
		if s.FinishedAt != nil {
			ms := millis(*s.FinishedAt)
			out[i].FinishedAt = &ms
		}
	}
	if next != "" {
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, rq.values(next).Encode()))
		w.Header().Set("X-Next-Cursor", next)
	}
	writeJSON(w, http.StatusOK, out)
}

// runSearchView is a run as GET /runs lists it; a cancelled run is "cancelled".
type runSearchView struct {
	ID           string   `json:"id"`
	WorkflowID   string   `json:"workflowId"`
	WorkflowName string   `json:"workflowName"`
	Version      int      `json:"version"`
	Status       string   `json:"status"`
	FailedNodes  int      `json:"failedNodes"`
	StartedAt    isoTime  `json:"startedAt"`
	FinishedAt   *isoTime `json:"finishedAt"`
	// Error is a preview of the run's error (null when it has none); errorTruncated says it
	// was cut. The run's status route shows it whole.
	Error          *string `json:"error"`
	ErrorTruncated bool    `json:"errorTruncated,omitempty"`
	IdempotencyKey *string `json:"idempotencyKey"`
	TraceID        string  `json:"traceId,omitempty"`
}

// searchRuns answers GET /runs: one page of the runs of every workflow matching the query
// (parseRunQuery), newest first, as {"runs": [...], "nextCursor": "..."}; nextCursor is left
// out after the last page.
func (a *API) searchRuns(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	rq, err := parseRunQuery(q, true)
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	runs, next, err := a.Runs.SearchRuns(r.Context(), rq.filter, rq.page)
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	out := make([]runSearchView, len(runs))
	for i, s := range runs {
		out[i] = runSearchView{ID: s.ID, WorkflowID: s.WorkflowID, WorkflowName: s.WorkflowName, Version: s.Version, Status: s.Status,
			FailedNodes: s.FailedNodes, StartedAt: isoTime(s.StartedAt), FinishedAt: isoPtr(s.FinishedAt), ErrorTruncated: s.ErrorTruncated,
			TraceID: a.exportedTraceID(s.TraceContext)}
		if s.Error != "" {
			out[i].Error = &runs[i].Error
		}
		if s.IdempotencyKey != "" {
			out[i].IdempotencyKey = &runs[i].IdempotencyKey
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Runs       []runSearchView `json:"runs"`
		NextCursor string          `json:"nextCursor,omitempty"`
	}{out, next})
}
