package httpapi

import (
	"errors"
	"net/http"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/webhook"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// hookStarted is the trigger's answer: the run it started (created) or that its dedup key
// named (created false), as execute-async answers plus the run's status.
type hookStarted struct {
	RunID      string `json:"runId"`
	WorkflowID string `json:"workflowId"`
	Status     string `json:"status"`
	Created    bool   `json:"created"`
	TraceID    string `json:"traceId,omitempty"`
}

// hookFailed is a respond-mode "node" answer for a run that did not give the node's output.
type hookFailed struct {
	errorBody
	RunID  string `json:"runId"`
	Status string `json:"status"`
}

// triggerHook is POST /hooks/{hookID}, a public route: a signed hook's signature is its
// authentication, an unsigned hook's unguessable id is. Every answer is counted by result.
func (a *API) triggerHook(w http.ResponseWriter, r *http.Request) {
	result := a.serveHook(w, r)
	if a.ObserveHook != nil {
		a.ObserveHook(result)
	}
}

// serveHook answers a trigger request and returns its result (webhook.Result*).
func (a *API) serveHook(w http.ResponseWriter, r *http.Request) string {
	ctx := r.Context()
	id, ok := hookID(r)
	err := workflow.ErrNotFound
	var h webhook.Hook
	if ok {
		h, err = a.Hooks.Hook(ctx, id)
	}
	if err != nil {
		a.fail(w, r, err, hookNotFound)
		return resultOf(err)
	}
	if a.rateRefused(w, hookBucket+h.ID) {
		return webhook.ResultRejected
	}
	body, err := a.readBody(w, r)
	if err != nil {
		a.fail(w, r, err, hookNotFound)
		return webhook.ResultRejected
	}
	if sig := h.Signature; sig != nil {
		secret := sig.Secret
		if sig.SecretRef != "" {
			if secret = a.secret(sig.SecretRef); secret == "" {
				a.Log.ErrorContext(ctx, "webhook refused: its secret is not configured", "secret_ref", sig.SecretRef, "env", "SECRET_"+sig.SecretRef)
				writeJSON(w, http.StatusInternalServerError, errorBody{StatusCode: http.StatusInternalServerError,
					Message: "The hook's signing secret is not configured on the server", Error: http.StatusText(http.StatusInternalServerError)})
				return webhook.ResultError
			}
		}
		if err := sig.Verify([]byte(secret), r.Header, body, a.Now()); err != nil {
			var se *webhook.SignatureError
			errors.As(err, &se)
			writeJSON(w, http.StatusUnauthorized, errorBody{StatusCode: http.StatusUnauthorized, Message: se.Message, Error: http.StatusText(http.StatusUnauthorized)})
			return se.Result
		}
	}
	req, err := a.hookStartRequest(r, h, body)
	if err == nil {
		err = a.queueRefused(ctx, "webhook run start")
	}
	var started engine.Started
	if err == nil {
		started, err = a.Engine.Start(ctx, req)
	}
	if errors.Is(err, workflow.ErrIdempotencyMismatch) {
		err = errorf(http.StatusUnprocessableEntity, "The dedup key was already used with a different body; a redelivery must send the same body")
	}
	if err != nil {
		a.fail(w, r, err, hookNotFound)
		return resultOf(err)
	}
	result := webhook.ResultAccepted
	if !started.Created {
		result = webhook.ResultDuplicate
	}
	if h.Respond.Mode == webhook.RespondNode {
		a.respondWithNode(w, r, h, started)
		return result
	}
	answer := hookStarted{RunID: started.RunID, WorkflowID: h.WorkflowID, Status: workflow.RunQueued, Created: started.Created,
		TraceID: a.exportedTraceID(started.TraceContext)}
	status := http.StatusAccepted
	if !started.Created {
		status = http.StatusOK
		run, err := a.Runs.RunView(ctx, workflow.RunKey{RunID: started.RunID}, workflow.Page{Limit: 1})
		if err != nil {
			a.fail(w, r, err, runNotFound)
			return result
		}
		answer.Status = run.Status
	}
	writeJSON(w, status, answer)
	return result
}

// hookStartRequest is the run a trigger request starts: the hook's workflow (pinned or
// current version) with the request as input, and the request's dedup value, namespaced by
// the hook, as idempotency key. The idempotency fingerprint is the body alone, so that a
// redelivery with other headers (a new timestamp and signature) names the same run.
func (a *API) hookStartRequest(r *http.Request, h webhook.Hook, body []byte) (engine.StartRequest, error) {
	req := engine.StartRequest{WorkflowID: h.WorkflowID, Version: h.Version}
	query, err := queryValues(r)
	if err != nil {
		return req, err
	}
	if req.Input, err = h.Input(body, r.Header, query); err != nil {
		return req, err
	}
	if len(req.Input) > a.cfg.MaxInputBytes {
		return req, errorf(http.StatusRequestEntityTooLarge, "the run input made of this request is %d bytes, larger than the limit of %d bytes", len(req.Input), a.cfg.MaxInputBytes)
	}
	dedup, source, err := h.DedupValue(r.Header, body)
	if err != nil {
		return req, workflow.Invalid(source, "%v", err)
	}
	if dedup != "" {
		req.IdempotencyKey = h.IdempotencyKey(dedup)
		req.Fingerprint = append([]byte("webhook body\x00"), body...)
	}
	if h.Version == 0 {
		req.VersionID, err = a.Workflows.CurrentVersion(r.Context(), h.WorkflowID)
	} else {
		req.VersionID, err = a.Workflows.VersionID(r.Context(), h.WorkflowID, h.Version)
	}
	return req, err
}

// respondWithNode waits up to the hook's timeout for the run, then answers 200 with the
// node's output (the node's output is the body), 202 with the run when it has not finished,
// or 502 naming the run's failure (or the node's status when it produced no output).
func (a *API) respondWithNode(w http.ResponseWriter, r *http.Request, h webhook.Hook, started engine.Started) {
	ctx := r.Context()
	run, err := a.waitRunFor(ctx, started.RunID, h.Respond.Timeout, 1)
	if err != nil {
		if ctx.Err() == nil {
			a.fail(w, r, err, runNotFound)
		}
		return
	}
	w.Header().Set("X-Run-Id", run.ID)
	if !workflow.RunTerminal(run.Status) {
		writeJSON(w, http.StatusAccepted, hookStarted{RunID: run.ID, WorkflowID: run.WorkflowID, Status: run.Status, Created: started.Created,
			TraceID: a.exportedTraceID(run.TraceContext)})
		return
	}
	failed := func(msg string) {
		writeJSON(w, http.StatusBadGateway, hookFailed{errorBody: errorBody{StatusCode: http.StatusBadGateway, Message: msg, Error: http.StatusText(http.StatusBadGateway)},
			RunID: run.ID, Status: run.Status})
	}
	if run.Status != workflow.RunSucceeded {
		msg := "The run " + run.Status
		if run.Error != "" {
			msg += ": " + shorten(run.Error)
		}
		failed(msg)
		return
	}
	for _, t := range run.Tasks {
		if t.NodeID != h.Respond.NodeID {
			continue
		}
		if t.Status != workflow.TaskCompleted {
			failed("The run succeeded but node " + t.NodeID + " is " + t.Status + ": it produced no output")
			return
		}
		out, err := a.Runs.TaskOutput(ctx, workflow.RunKey{RunID: run.ID}, t.ID)
		if err != nil {
			a.fail(w, r, err, taskNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(orNull(out.Output))
		return
	}
	failed("The run's workflow version has no node " + h.Respond.NodeID)
}

// resultOf is the metric result of a request refused with err.
func resultOf(err error) string {
	status, _ := statusOf(err, "")
	switch {
	case status == http.StatusNotFound:
		return webhook.ResultNotFound
	case status == http.StatusServiceUnavailable:
		return webhook.ResultUnavailable
	case status >= 500:
		return webhook.ResultError
	}
	return webhook.ResultRejected
}
