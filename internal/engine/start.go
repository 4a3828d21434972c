package engine

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// StartRequest starts a run of a workflow version.
type StartRequest struct {
	WorkflowID string
	VersionID  string
	// Input is the run input, a JSON object (nil means {}).
	Input          json.RawMessage
	IdempotencyKey string
	// Timeout overrides the default run deadline; 0 uses Config.RunTimeout.
	Timeout      time.Duration
	TraceContext string
	// Version is the version number the request asked for by number (VersionID is then that
	// version's id), 0 when it runs the current one. It is part of the idempotency
	// fingerprint: a key first used for one version refuses another.
	Version int
	// Fingerprint, when set, is what the idempotency fingerprint covers instead of the input:
	// a webhook's body, so that a redelivery with new headers (timestamp, signature, delivery
	// attempt) still names the run its first delivery started.
	Fingerprint []byte
	// ScheduleID names the schedule whose tick starts the run ("" for a run a client
	// started); the run.start span carries it.
	ScheduleID string
	// Parent, when set, is the invokeWorkflow task starting the run as its child.
	Parent *InvokeParent
}

// ScheduleTagger is implemented by observers that name, on the run.start span, the schedule
// whose tick started the run.
type ScheduleTagger interface {
	ScheduledRun(ctx context.Context, scheduleID string)
}

// requestHash fingerprints a start request for idempotency: the input in a canonical form
// (object keys sorted, insignificant space removed, numbers as written) and the timeout.
func requestHash(input json.RawMessage, timeout time.Duration, version int) []byte {
	h := sha256.New()
	if canonical, err := workflow.CanonicalJSON(input); err == nil {
		input = canonical
	}
	h.Write(input)
	fmt.Fprintf(h, "\x00timeout=%d", timeout)
	if version > 0 {
		fmt.Fprintf(h, "\x00version=%d", version)
	}
	return h.Sum(nil)
}

// Started is the run a start request created or, for a repeated idempotency key, found.
type Started struct {
	RunID   string
	Created bool
	// TraceContext is the W3C traceparent stored with the run ("" when it has none): the
	// original run's for a repeated idempotency key.
	TraceContext string
}

// StartRun creates the run and its tasks in one transaction, then enqueues every root task.
// With an idempotency key that already started a run with the same input and timeout, it
// returns that run and created false; with a different request, ErrIdempotencyMismatch.
func (e *Engine) StartRun(ctx context.Context, req StartRequest) (runID string, created bool, err error) {
	s, err := e.Start(ctx, req)
	return s.RunID, s.Created, err
}

// Start is StartRun returning the run's stored trace context too.
func (e *Engine) Start(ctx context.Context, req StartRequest) (started Started, err error) {
	ctx, end := e.obs.RunStarting(ctx, req.WorkflowID)
	defer func() { end(started.RunID, err) }()
	if t, ok := e.obs.(ScheduleTagger); ok && req.ScheduleID != "" {
		t.ScheduledRun(ctx, req.ScheduleID)
	}
	if req.TraceContext == "" {
		req.TraceContext = e.obs.TraceParent(ctx)
	}
	v, err := e.version(ctx, req.VersionID)
	if err != nil {
		return Started{}, fmt.Errorf("start run: %w", err)
	}
	g := v.graph
	input := req.Input
	if len(bytes.TrimSpace(input)) == 0 || bytes.Equal(bytes.TrimSpace(input), []byte("null")) {
		input = json.RawMessage(`{}`)
	}
	fingerprint := input
	if len(req.Fingerprint) > 0 {
		fingerprint = req.Fingerprint
	}
	now := e.now()
	r := NewRun{
		ID:             uuid.NewString(),
		WorkflowID:     req.WorkflowID,
		VersionID:      req.VersionID,
		Input:          input,
		IdempotencyKey: req.IdempotencyKey,
		RequestHash:    requestHash(fingerprint, req.Timeout, req.Version),
		TraceContext:   req.TraceContext,
		Now:            now,
		Logs:           []LogEntry{{Type: workflow.LogSystem, Message: "Async workflow run started", At: now}},
	}
	if p := req.Parent; p != nil {
		r.ParentTaskID, r.InvokeDepth, r.Origin = p.TaskID, p.Depth, workflow.OriginInvoke
		r.Logs = append(r.Logs, LogEntry{Type: workflow.LogSystem, At: now, Message: fmt.Sprintf("Workflow run invoked by task %s (nesting depth %d)", p.TaskID, p.Depth),
			Data: map[string]any{"parentTaskId": p.TaskID, "depth": p.Depth}})
	}
	if timeout := cmp.Or(req.Timeout, e.cfg.RunTimeout); timeout > 0 {
		r.Deadline = now.Add(timeout)
	}
	var roots []TaskRef
	for _, n := range g.Def.Nodes {
		t := NewTask{ID: TaskID(r.ID, n.ID), NodeID: n.ID, NodeType: n.Base.Type, Status: workflow.TaskPending, Unresolved: len(g.Incoming(n.ID))}
		if t.Unresolved == 0 {
			t.Status, t.Input = workflow.TaskQueued, input
			roots = append(roots, TaskRef{TaskID: t.ID, RunID: r.ID, Kind: KindExecute, NodeType: t.NodeType, TraceContext: req.TraceContext})
		}
		r.Tasks = append(r.Tasks, t)
	}
	for i := range r.Logs {
		r.Logs[i].RunID = r.ID
	}
	return e.create(ctx, v, r, roots)
}

// create stores a run with its tasks in one transaction and enqueues the tasks it releases at
// once; for an idempotency key that already created a run it returns that run instead.
func (e *Engine) create(ctx context.Context, v *version, r NewRun, released []TaskRef) (Started, error) {
	runID, created, err := e.store.CreateRun(ctx, r)
	if err != nil {
		return Started{}, err
	}
	if !created {
		tc, err := e.store.RunTraceContext(ctx, runID)
		return Started{RunID: runID, TraceContext: tc}, err
	}
	e.obs.RunStarted(ctx, v.workflow)
	if len(r.Tasks) == 0 {
		e.obs.RunFinished(ctx, v.workflow, workflow.RunSucceeded, 0, 0)
	}
	e.enqueue(ctx, released)
	return Started{RunID: runID, Created: true, TraceContext: r.TraceContext}, nil
}

// enqueue hands released tasks to the queue after their transaction committed. A failure is
// logged, not returned: the task is queued in PostgreSQL and the reconciler enqueues it again.
func (e *Engine) enqueue(ctx context.Context, refs []TaskRef) {
	for _, ref := range refs {
		if _, err := e.queue.Enqueue(ctx, ref, time.Time{}); err != nil {
			e.log.WarnContext(ctx, "enqueue failed; the reconciler will retry", LogTaskID, ref.TaskID, LogRunID, ref.RunID, LogNodeType, ref.NodeType, LogError, err)
		}
	}
}
