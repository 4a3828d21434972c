package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Bulk actions: POST /runs/retry and POST /runs/cancel act on the runs a search finds. The
// search is GET /runs's query (parseRunQuery), sent as the POST's query string, and one call
// acts on one page of it: at most limit runs (DefaultBulkRuns unless given, at most
// MaxBulkRuns), newest first. nextCursor continues with the next page, so a large action is
// a loop the client drives and can stop, never one request holding a connection for minutes.
//
// Both are idempotent. Cancelling a run that already finished skips it. Retrying a run uses
// the idempotency key "bulk-retry:<run id>", so the same run is never retried twice by bulk
// calls: sent again, the call answers the retry the first one made (created false), and a
// retry that failed in its turn is a new run, retried on its own by the next bulk call.
const (
	DefaultBulkRuns = 100
	MaxBulkRuns     = 500
	bulkRetryKey    = "bulk-retry:"
)

// Outcomes of a bulk action on one run.
const (
	bulkRetried   = "retried"
	bulkCancelled = "cancelled"
	bulkSkipped   = "skipped"
)

// bulkResult is what a bulk action did to one run.
type bulkResult struct {
	RunID   string `json:"runId"`
	Outcome string `json:"outcome"`
	// NewRunID is the retry's run; Created is false when an earlier bulk call made it.
	NewRunID string `json:"newRunId,omitempty"`
	Created  *bool  `json:"created,omitempty"`
	// Reason says why a run was skipped.
	Reason string `json:"reason,omitempty"`
}

type bulkView struct {
	Matched    int          `json:"matched"`
	Results    []bulkResult `json:"results"`
	NextCursor *string      `json:"nextCursor"`
}

// bulkQuery reads a bulk action's search. Its filter must narrow the search (a page parameter,
// or a parameter given empty, is no filter), so no query acts on every run; without a status,
// the action's own statuses apply (defaults).
func bulkQuery(q url.Values, defaults []string) (runQuery, error) {
	rq, err := parseRunQuery(q, true)
	if err != nil {
		return rq, err
	}
	if rq.filter.IsZero() {
		return rq, workflow.Invalid("filter", "a bulk action needs at least one search filter with a value (%s)", strings.Join(runFilters, ", "))
	}
	if rq.page.Limit > MaxBulkRuns {
		return rq, workflow.Invalid("limit", "must be between 1 and %d", MaxBulkRuns)
	}
	if rq.page.Limit == 0 {
		rq.page.Limit = DefaultBulkRuns
	}
	if len(rq.filter.Statuses) == 0 {
		rq.filter.Statuses = slices.Clone(defaults)
	}
	return rq, nil
}

// bulk runs act on every run of one page of the search and answers what it did to each.
func (a *API) bulk(w http.ResponseWriter, r *http.Request, action string, defaults []string, act func(run workflow.RunSummary) (bulkResult, error)) {
	runs, next, err := a.bulkRuns(r, defaults)
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	view := bulkView{Matched: len(runs), Results: make([]bulkResult, 0, len(runs))}
	if next != "" {
		view.NextCursor = &next
	}
	counts := map[string]int{}
	for _, run := range runs {
		res, err := act(run)
		if err != nil {
			// Stop at the first failure that is not the run's own state: what was done is
			// logged, and the same call repeated finishes the page idempotently.
			a.Log.WarnContext(r.Context(), "bulk "+action+" stopped", "done", len(view.Results), "matched", len(runs), "error", err)
			a.fail(w, r, err, runNotFound)
			return
		}
		counts[res.Outcome]++
		view.Results = append(view.Results, res)
	}
	a.Log.InfoContext(r.Context(), "bulk "+action, "matched", len(runs), bulkRetried, counts[bulkRetried],
		bulkCancelled, counts[bulkCancelled], bulkSkipped, counts[bulkSkipped], "more", next != "")
	writeJSON(w, http.StatusOK, view)
}

// bulkRuns reads a bulk action's search (bulkQuery) and the page of runs it finds.
func (a *API) bulkRuns(r *http.Request, defaults []string) ([]workflow.RunSummary, string, error) {
	q, err := queryValues(r)
	if err != nil {
		return nil, "", err
	}
	rq, err := bulkQuery(q, defaults)
	if err != nil {
		return nil, "", err
	}
	return a.Runs.SearchRuns(r.Context(), rq.filter, rq.page)
}

// bulkRetry answers POST /runs/retry: a retry (POST /workflows/runs/{id}/retry) of each
// failed or cancelled run of the search's page, unless the search names its statuses.
func (a *API) bulkRetry(w http.ResponseWriter, r *http.Request) {
	rr, ok := a.Engine.(Rerunner)
	if !ok {
		a.fail(w, r, errorf(http.StatusNotImplemented, "Retry and re-run are not available on this server"), runNotFound)
		return
	}
	if err := a.queueRefused(r.Context(), "bulk retry"); err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	a.bulk(w, r, "retry", []string{workflow.RunFailed, workflow.RunCancelled}, func(run workflow.RunSummary) (bulkResult, error) {
		started, err := rr.Rerun(r.Context(), engine.RerunRequest{RunID: run.ID, Origin: engine.OriginRetry, IdempotencyKey: bulkRetryKey + run.ID})
		var refusal *engine.RerunRefusal
		switch {
		case errors.As(err, &refusal):
			return bulkResult{RunID: run.ID, Outcome: bulkSkipped, Reason: refusal.Reason}, nil
		case errors.Is(err, workflow.ErrNotFound):
			return bulkResult{RunID: run.ID, Outcome: bulkSkipped, Reason: "the run no longer exists"}, nil
		case err != nil:
			return bulkResult{}, rerunError(err, bulkRetryKey+run.ID)
		}
		return bulkResult{RunID: run.ID, Outcome: bulkRetried, NewRunID: started.RunID, Created: &started.Created}, nil
	})
}

// bulkCancel answers POST /runs/cancel: cancels each queued or running run of the search's
// page, unless the search names its statuses; a run that finished is skipped.
func (a *API) bulkCancel(w http.ResponseWriter, r *http.Request) {
	a.bulk(w, r, "cancel", []string{workflow.RunQueued, workflow.RunRunning}, func(run workflow.RunSummary) (bulkResult, error) {
		err := a.Engine.Cancel(r.Context(), run.ID)
		switch {
		case errors.Is(err, workflow.ErrConflict):
			return bulkResult{RunID: run.ID, Outcome: bulkSkipped, Reason: "the run already finished"}, nil
		case errors.Is(err, workflow.ErrNotFound):
			return bulkResult{RunID: run.ID, Outcome: bulkSkipped, Reason: "the run no longer exists"}, nil
		case err != nil:
			return bulkResult{}, err
		}
		return bulkResult{RunID: run.ID, Outcome: bulkCancelled}, nil
	})
}
