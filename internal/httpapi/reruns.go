package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Rerunner makes retries and re-runs of finished runs; the API's Engine provides it when it
// implements it (*engine.Engine does).
type Rerunner interface {
	Rerun(ctx context.Context, req engine.RerunRequest) (engine.Started, error)
}

// retryBody is the retry route's optional body.
type retryBody struct {
	IdempotencyKey string `json:"idempotencyKey"`
}

// rerunBody is the re-run route's body: the node to execute from, the version ("pinned", the
// default, or "current") and an input replacing the original's.
type rerunBody struct {
	FromNodeID     string          `json:"fromNodeId"`
	Version        string          `json:"version"`
	Input          json.RawMessage `json:"input"`
	IdempotencyKey string          `json:"idempotencyKey"`
}

// rerunView answers a retry or re-run: the new run, what it was made from, and its trace id
// when its trace can be found.
type rerunView struct {
	RunID       string `json:"runId"`
	ParentRunID string `json:"parentRunId"`
	Kind        string `json:"rerunKind"`
	FromNodeID  string `json:"rerunFromNodeId,omitempty"`
	TraceID     string `json:"traceId,omitempty"`
}

// retryRun is POST .../runs/{runID}/retry.
func (a *API) retryRun(w http.ResponseWriter, r *http.Request) {
	a.rerun(w, r, engine.OriginRetry)
}

// rerunRun is POST .../runs/{runID}/rerun.
func (a *API) rerunRun(w http.ResponseWriter, r *http.Request) {
	a.rerun(w, r, engine.OriginRerun)
}

func (a *API) rerun(w http.ResponseWriter, r *http.Request, origin string) {
	req, err := a.rerunRequest(w, r, origin)
	if err == nil {
		err = a.queueRefused(r.Context(), "run "+origin)
	}
	var started engine.Started
	if err == nil {
		rr, ok := a.Engine.(Rerunner)
		if !ok {
			err = errorf(http.StatusNotImplemented, "Retry and re-run are not available on this server")
		} else {
			started, err = rr.Rerun(r.Context(), req)
		}
	}
	if err != nil {
		a.fail(w, r, rerunError(err, req.IdempotencyKey), runNotFound)
		return
	}
	status := http.StatusCreated
	if !started.Created {
		status = http.StatusOK // the idempotency key already made this run
	}
	writeJSON(w, status, rerunView{RunID: started.RunID, ParentRunID: req.RunID, Kind: origin, FromNodeID: req.FromNodeID,
		TraceID: a.exportedTraceID(started.TraceContext)})
}

// rerunError maps the engine's answers to the routes' statuses: a refusal by the run's state
// is 409 with its reason, and an invalid request 422 naming the field.
func rerunError(err error, key string) error {
	var refusal *engine.RerunRefusal
	var ve *workflow.ValidationError
	switch {
	case errors.As(err, &refusal):
		return errorf(http.StatusConflict, "%s", refusal.Reason)
	case errors.As(err, &ve):
		return &httpError{status: http.StatusUnprocessableEntity, message: ve.Messages()}
	case errors.Is(err, workflow.ErrIdempotencyMismatch):
		return errorf(http.StatusUnprocessableEntity, "Idempotency key %q was already used with a different request (run, fromNodeId, version or input); send the same request or use a new key", key)
	}
	return err
}

// rerunRequest reads the run the route addresses, the body and the Idempotency-Key header
// (which wins over the body's idempotencyKey).
func (a *API) rerunRequest(w http.ResponseWriter, r *http.Request, origin string) (engine.RerunRequest, error) {
	key, ok := runKeyOf(r)
	if !ok {
		return engine.RerunRequest{}, workflow.ErrNotFound
	}
	req := engine.RerunRequest{RunID: key.RunID, WorkflowID: key.WorkflowID, Origin: origin}
	body, err := a.readBody(w, r)
	if err != nil {
		return req, err
	}
	empty := len(bytes.TrimSpace(body)) == 0
	if origin == engine.OriginRetry {
		var in retryBody
		if !empty {
			if err := decodeStrict(body, &in, "body"); err != nil {
				return req, err
			}
		}
		req.IdempotencyKey = in.IdempotencyKey
	} else {
		if empty {
			return req, workflow.Invalid("fromNodeId", "is required")
		}
		var in rerunBody
		if err := decodeStrict(body, &in, "body"); err != nil {
			return req, err
		}
		if in.FromNodeID == "" {
			return req, workflow.Invalid("fromNodeId", "is required")
		}
		if len(in.FromNodeID) > 200 {
			return req, workflow.Invalid("fromNodeId", "must be at most 200 characters")
		}
		switch in.Version {
		case "", engine.VersionPinned, engine.VersionCurrent:
		default:
			return req, workflow.Invalid("version", "must be %q or %q", engine.VersionPinned, engine.VersionCurrent)
		}
		if k := rawKind(in.Input); k != 0 && k != '{' && k != 'n' {
			return req, workflow.Invalid("input", "must be a JSON object")
		}
		if len(in.Input) > a.cfg.MaxInputBytes {
			return req, errorf(http.StatusRequestEntityTooLarge, "input is %d bytes, larger than the limit of %d bytes", len(in.Input), a.cfg.MaxInputBytes)
		}
		req.FromNodeID, req.Version, req.Input, req.IdempotencyKey = in.FromNodeID, in.Version, in.Input, in.IdempotencyKey
	}
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		req.IdempotencyKey = h
	}
	if len(req.IdempotencyKey) > 200 {
		return req, workflow.Invalid("Idempotency-Key", "must be at most 200 characters")
	}
	return req, checkHeaderText("Idempotency-Key", req.IdempotencyKey)
}

// lineageView is what the run status object adds for lineage: where the run came from (only
// when it is a retry or re-run, or a child run an invokeWorkflow node started) and the runs
// retried or re-run from it (always present, at most
// store.MaxReruns, newest first).
type lineageView struct {
	ParentRunID     string `json:"parentRunId,omitempty"`
	RerunKind       string `json:"rerunKind,omitempty"`
	RerunFromNodeID string `json:"rerunFromNodeId,omitempty"`
	// ParentTaskID is set for a run an invokeWorkflow node started: the node's task, in run
	// ParentRunID.
	ParentTaskID string             `json:"parentTaskId,omitempty"`
	Reruns       []rerunSummaryView `json:"reruns"`
}

// rerunSummaryView is one run made from another; on these seed-compatible routes a cancelled
// one reads "failed" with cancelled true, like the run itself (seedStatus).
type rerunSummaryView struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	Cancelled  bool    `json:"cancelled,omitempty"`
	Kind       string  `json:"kind"`
	FromNodeID *string `json:"fromNodeId"`
	StartedAt  isoTime `json:"startedAt"`
}

func viewLineage(l workflow.Lineage) lineageView {
	v := lineageView{ParentRunID: l.ParentRunID, RerunKind: l.Origin, RerunFromNodeID: l.RerunFromNodeID, ParentTaskID: l.ParentTaskID,
		Reruns: make([]rerunSummaryView, len(l.Reruns))}
	if l.Origin == workflow.OriginInvoke {
		v.RerunKind = "" // not a retry or re-run: parentTaskId says what started it
	}
	for i, x := range l.Reruns {
		status, cancelled := seedStatus(x.Status)
		v.Reruns[i] = rerunSummaryView{ID: x.ID, Status: status, Cancelled: cancelled, Kind: x.Origin, StartedAt: isoTime(x.StartedAt)}
		if x.FromNodeID != "" {
			v.Reruns[i].FromNodeID = &l.Reruns[i].FromNodeID
		}
	}
	return v
}
