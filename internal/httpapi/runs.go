package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

const (
	runNotFound  = "Workflow run not found"
	taskNotFound = "Task not found"
	// legacyLogLimit is how many log lines the legacy synchronous route answers with (the
	// store's largest page).
	legacyLogLimit = 1000
)

// executeBody is the execute routes' body: {"input": {...}}, plus optional idempotencyKey,
// timeoutMs and version (a version number of the workflow to run instead of its current one).
// Other keys are ignored (the route stays as permissive as the seed's).
type executeBody struct {
	Input          json.RawMessage `json:"input"`
	IdempotencyKey string          `json:"idempotencyKey"`
	TimeoutMs      *float64        `json:"timeoutMs"`
	Version        *float64        `json:"version"`
}

func (a *API) startRequest(w http.ResponseWriter, r *http.Request) (engine.StartRequest, error) {
	id, ok := pathID(r, "id")
	if !ok {
		return engine.StartRequest{}, workflow.ErrNotFound
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return engine.StartRequest{}, err
	}
	req, version, err := parseExecuteBody(body, a.cfg.MaxInputBytes)
	if err != nil {
		return req, err
	}
	req.WorkflowID = id
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > 200 {
			return req, workflow.Invalid("Idempotency-Key", "must be at most 200 characters")
		}
		if err := checkHeaderText("Idempotency-Key", key); err != nil {
			return req, err
		}
		req.IdempotencyKey = key
	}
	if version == 0 {
		req.VersionID, err = a.Workflows.CurrentVersion(r.Context(), id)
		return req, err
	}
	req.Version = version
	req.VersionID, err = a.Workflows.VersionID(r.Context(), id, version)
	if errors.Is(err, workflow.ErrNotFound) {
		// The workflow may exist without that version: say which is missing.
		if _, cerr := a.Workflows.CurrentVersion(r.Context(), id); cerr == nil {
			err = workflow.Invalid("version", "the workflow has no version %d", version)
		}
	}
	return req, err
}

// queueRefused is a 503 (with a warning naming what was refused) while the queue refuses
// writes, so nothing that creates runs is accepted then; nil otherwise.
func (a *API) queueRefused(ctx context.Context, what string) error {
	if a.QueueRefusal == nil {
		return nil
	}
	refusal := a.QueueRefusal(ctx)
	if refusal == nil {
		return nil
	}
	a.Log.WarnContext(ctx, what+" refused: the queue refuses writes", "error", refusal)
	return errorf(http.StatusServiceUnavailable, "The queue is refusing writes; retry shortly")
}

// startRun starts a run from the request; on failure it has answered and returns false.
func (a *API) startRun(w http.ResponseWriter, r *http.Request) (started engine.Started, ok bool) {
	req, err := a.startRequest(w, r)
	if err == nil {
		err = a.queueRefused(r.Context(), "run start")
	}
	if err == nil {
		started, err = a.Engine.Start(r.Context(), req)
	}
	if errors.Is(err, workflow.ErrIdempotencyMismatch) {
		// Stripe's rule: a key names one request; sent again with another, it is refused.
		err = errorf(http.StatusUnprocessableEntity, "Idempotency key %q was already used with a different request body (input, timeoutMs or version); send the same body or use a new key", req.IdempotencyKey)
	}
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return engine.Started{}, false
	}
	return started, true
}

// startedView is the seed's answer to a run start ({"runId"}) plus the run's traceId when its
// trace can be found (see exportedTraceID).
type startedView struct {
	RunID   string `json:"runId"`
	TraceID string `json:"traceId,omitempty"`
}

func (a *API) executeAsync(w http.ResponseWriter, r *http.Request) {
	started, ok := a.startRun(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusCreated, startedView{RunID: started.RunID, TraceID: a.exportedTraceID(started.TraceContext)})
}

// parseExecuteBody checks an execute body: input an object within the size limit, an optional
// idempotency key, run timeout and version number (0 when unset: the current version).
func parseExecuteBody(body []byte, maxInput int) (req engine.StartRequest, version int, err error) {
	var in executeBody
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return req, 0, jsonProblem(err, "body")
		}
	}
	if k := rawKind(in.Input); k != 0 && k != '{' && k != 'n' {
		return req, 0, workflow.Invalid("input", "must be a JSON object")
	}
	if len(in.Input) > maxInput {
		return req, 0, errorf(http.StatusRequestEntityTooLarge, "input is %d bytes, larger than the limit of %d bytes", len(in.Input), maxInput)
	}
	req = engine.StartRequest{Input: in.Input, IdempotencyKey: in.IdempotencyKey}
	if len(req.IdempotencyKey) > 200 {
		return req, 0, workflow.Invalid("idempotencyKey", "must be at most 200 characters")
	}
	if in.TimeoutMs != nil {
		if *in.TimeoutMs < 1 || *in.TimeoutMs > float64((30*24*time.Hour).Milliseconds()) {
			return req, 0, workflow.Invalid("timeoutMs", "must be between 1 and %d", (30 * 24 * time.Hour).Milliseconds())
		}
		req.Timeout = time.Duration(*in.TimeoutMs * float64(time.Millisecond))
	}
	if in.Version != nil {
		if v := *in.Version; v < 1 || v > math.MaxInt32 || v != math.Trunc(v) {
			return req, 0, workflow.Invalid("version", "must be a positive integer, a version number of the workflow")
		}
		version = int(*in.Version)
	}
	return req, version, nil
}

// legacyLog is an entry of the legacy synchronous route: the executor's own log record.
type legacyLog struct {
	Kind    string `json:"kind"`
	NodeID  string `json:"nodeId"`
	Name    string `json:"name"`
	Content string `json:"content"`
}

// executeSync is the seed's legacy synchronous route. It runs the workflow on the engine like
// any other run and waits for it to finish (up to SyncTimeout; see waitRun), then answers with
// the node logs in the legacy shape plus the run's status.
func (a *API) executeSync(w http.ResponseWriter, r *http.Request) {
	started, ok := a.startRun(w, r)
	if !ok {
		return
	}
	runID := started.RunID
	run, err := a.waitRun(r.Context(), runID)
	if err != nil {
		if r.Context().Err() == nil {
			a.fail(w, r, err, runNotFound)
		}
		return
	}
	logs := []legacyLog{}
	for _, l := range run.Logs {
		if l.Type != workflow.LogNodeOutput || l.NodeID == nil {
			continue
		}
		var data struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(l.Data, &data)
		logs = append(logs, legacyLog{Kind: data.Kind, NodeID: *l.NodeID, Name: data.Name, Content: l.Message})
	}
	status, cancelled := seedStatus(run.Status)
	body := map[string]any{"runId": runID, "status": status, "logs": logs}
	if cancelled {
		body["cancelled"] = true
	}
	if id := a.exportedTraceID(run.TraceContext); id != "" {
		body["traceId"] = id
	}
	writeJSON(w, http.StatusCreated, body)
}

// runView is the run status object of the seed plus what the runs dialog and operators need:
// run id, workflow, version, input, result, error, trace id; attempts, small outputs and a link
// to the full output on tasks; nodePersistedId and data on logs. Logs are the first page, and
// logsNextCursor continues them on the logs route.
type runView struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflowId"`
	Version    int    `json:"version"`
	Status     string `json:"status"`
	// Cancelled marks a cancelled run, whose status reads "failed" on these routes (seedStatus).
	Cancelled      bool            `json:"cancelled,omitempty"`
	StartedAt      isoTime         `json:"startedAt"`
	FinishedAt     *isoTime        `json:"finishedAt"`
	Input          json.RawMessage `json:"input"`
	Result         json.RawMessage `json:"result"`
	Error          *string         `json:"error"`
	TraceID        string          `json:"traceId,omitempty"`
	TraceURL       string          `json:"traceUrl,omitempty"`
	Tasks          []taskView      `json:"tasks"`
	Logs           []logView       `json:"logs"`
	LogsNextCursor *string         `json:"logsNextCursor"`
	lineageView
}

type taskView struct {
	ID       string `json:"id"`
	NodeID   string `json:"nodeId"`
	NodeType string `json:"nodeType"`
	Status   string `json:"status"`
	Attempt  int    `json:"attempt"`
	// Redeliveries counts deliveries that began the attempt again after one ended without an
	// outcome (worker crash, lost lease, panic); bounded apart from the node's retries.
	Redeliveries   int             `json:"redeliveries"`
	StartedAt      *isoTime        `json:"startedAt"`
	CompletedAt    *isoTime        `json:"completedAt"`
	Error          *string         `json:"error"`
	ErrorTruncated bool            `json:"errorTruncated,omitempty"`
	Output         json.RawMessage `json:"output"`
	// OutputTruncated means the output is too large to show here; OutputURL serves it.
	OutputTruncated bool   `json:"outputTruncated,omitempty"`
	OutputURL       string `json:"outputUrl,omitempty"`
}

type logView struct {
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	Message          string          `json:"message"`
	MessageTruncated bool            `json:"messageTruncated,omitempty"`
	Timestamp        isoTime         `json:"timestamp"`
	NodeID           *string         `json:"nodeId"`
	NodePersistedID  *string         `json:"nodePersistedId"`
	Data             json.RawMessage `json:"data"`
	DataTruncated    bool            `json:"dataTruncated,omitempty"`
	// OutputURL, on a cut message of a node, serves the node's full output.
	OutputURL string `json:"outputUrl,omitempty"`
}

// seedStatus is a run status as the seed-compatible routes report it. The original front end
// stops polling only on "succeeded" or "failed", so a cancelled run reads "failed" there, with
// cancelled true beside it (and cancelled: true in its result, which the engine stores); the
// native routes and the metrics keep "cancelled" as its own status.
func seedStatus(status string) (string, bool) {
	if status == workflow.RunCancelled {
		return workflow.RunFailed, true
	}
	return status, false
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// outputURL is the route of a task's full output, through the key's workflow when it has one.
func outputURL(key workflow.RunKey, taskID string) string {
	if key.WorkflowID == "" {
		return "/workflows/runs/" + key.RunID + "/tasks/" + taskID + "/output"
	}
	return "/workflows/" + key.WorkflowID + "/runs/" + key.RunID + "/tasks/" + taskID + "/output"
}

func viewLogs(key workflow.RunKey, lines []workflow.LogView) []logView {
	out := make([]logView, len(lines))
	for i, l := range lines {
		out[i] = logView{ID: l.ID, Type: l.Type, Message: l.Message, MessageTruncated: l.MessageTruncated, Timestamp: isoTime(l.Timestamp),
			NodeID: l.NodeID, NodePersistedID: l.NodeID, Data: orNull(l.Data), DataTruncated: l.DataTruncated}
		if (l.MessageTruncated || l.DataTruncated) && l.TaskID != nil {
			out[i].OutputURL = outputURL(key, *l.TaskID)
		}
	}
	return out
}

func (a *API) viewRun(run workflow.RunView) runView {
	key := workflow.RunKey{WorkflowID: run.WorkflowID, RunID: run.ID}
	status, cancelled := seedStatus(run.Status)
	v := runView{ID: run.ID, WorkflowID: run.WorkflowID, Version: run.Version, Status: status, Cancelled: cancelled,
		StartedAt: isoTime(run.StartedAt), FinishedAt: isoPtr(run.FinishedAt), Input: run.Input, Result: orNull(run.Result),
		TraceID: traceID(run.TraceContext), Tasks: make([]taskView, len(run.Tasks)), Logs: viewLogs(key, run.Logs), lineageView: viewLineage(run.Lineage)}
	if run.LogsNext != "" {
		v.LogsNextCursor = &run.LogsNext
	}
	if a.cfg.JaegerUIURL != "" && a.exportedTraceID(run.TraceContext) != "" {
		v.TraceURL = strings.TrimRight(a.cfg.JaegerUIURL, "/") + "/trace/" + v.TraceID
	}
	if run.Error != "" {
		v.Error = &run.Error
	}
	for i, t := range run.Tasks {
		v.Tasks[i] = taskView{ID: t.ID, NodeID: t.NodeID, NodeType: t.NodeType, Status: t.Status, Attempt: t.Attempt, Redeliveries: t.Redeliveries,
			StartedAt: isoPtr(t.StartedAt), CompletedAt: isoPtr(t.CompletedAt), Error: t.Error, ErrorTruncated: t.ErrorTruncated,
			Output: orNull(t.Output), OutputTruncated: t.OutputLarge}
		if t.HasOutput {
			v.Tasks[i].OutputURL = outputURL(key, t.ID)
		}
	}
	return v
}

// exportedTraceID is the trace id of a run's stored traceparent when its trace can be looked
// up: the trace was sampled and the process exports spans, the rule of traceUrl. Otherwise "":
// run lists and run starts name only traces that exist (the run view keeps the id in every
// case, for correlating the run's log lines).
func (a *API) exportedTraceID(traceparent string) string {
	if !a.cfg.TracesExported || !traceSampled(traceparent) {
		return ""
	}
	return traceID(traceparent)
}

// traceSampled reports whether a W3C traceparent has its sampled flag: only then were the
// run's spans recorded and exported. The trace id is shown either way: every log line of the
// run and the traceparent of its outbound calls carry it, so it still correlates them.
func traceSampled(traceparent string) bool {
	parts := strings.Split(traceparent, "-")
	if traceID(traceparent) == "" || len(parts[3]) != 2 {
		return false
	}
	flags, err := strconv.ParseUint(parts[3], 16, 8)
	return err == nil && flags&0x01 == 1
}

// traceID extracts the trace id of a W3C traceparent ("00-<trace id>-<span id>-<flags>").
func traceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}

// runKeyOf reads the run a route addresses: the run id, and the workflow id on the routes
// that have one, so a run of another workflow is not found.
func runKeyOf(r *http.Request) (workflow.RunKey, bool) {
	runID, ok := pathID(r, "runID")
	if !ok {
		return workflow.RunKey{}, false
	}
	key := workflow.RunKey{RunID: runID}
	if chi.URLParam(r, "id") != "" {
		if key.WorkflowID, ok = pathID(r, "id"); !ok {
			return workflow.RunKey{}, false
		}
	}
	return key, true
}

func (a *API) runStatus(w http.ResponseWriter, r *http.Request) {
	key, ok := runKeyOf(r)
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, runNotFound)
		return
	}
	run, err := a.Runs.RunView(r.Context(), key, workflow.Page{})
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	writeJSON(w, http.StatusOK, a.viewRun(run))
}

// runLogs answers one page of a run's logs ({"logs", "nextCursor"}); limit and cursor choose
// the page, and the first page is what the seed's route answered for all but long runs.
func (a *API) runLogs(w http.ResponseWriter, r *http.Request) {
	key, ok := runKeyOf(r)
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, runNotFound)
		return
	}
	page, err := pageOf(r)
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	logs, next, err := a.Runs.RunLogs(r.Context(), key, page)
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"logs": viewLogs(key, logs), "nextCursor": nextCursor})
}

// taskOutput answers one task's full output, which run views leave out when it is large.
func (a *API) taskOutput(w http.ResponseWriter, r *http.Request) {
	key, ok := runKeyOf(r)
	taskID, taskOK := pathID(r, "taskID")
	if !ok || !taskOK {
		a.fail(w, r, workflow.ErrNotFound, taskNotFound)
		return
	}
	out, err := a.Runs.TaskOutput(r.Context(), key, taskID)
	if err != nil {
		a.fail(w, r, err, taskNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"taskId": out.TaskID, "nodeId": out.NodeID, "status": out.Status,
		"completedAt": isoPtr(out.CompletedAt), "output": orNull(out.Output)})
}

func (a *API) cancelRun(w http.ResponseWriter, r *http.Request) {
	key, ok := runKeyOf(r)
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, runNotFound)
		return
	}
	err := a.Runs.RunExists(r.Context(), key)
	if err == nil {
		err = a.Engine.Cancel(r.Context(), key.RunID)
	}
	if errors.Is(err, workflow.ErrConflict) {
		err = errorf(http.StatusConflict, "Workflow run is already finished and cannot be cancelled")
	}
	if err != nil {
		a.fail(w, r, err, runNotFound)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]bool{"cancelled": true})
}
