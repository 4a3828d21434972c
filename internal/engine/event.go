package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// ResumePath is the path of a waiting task's resume URL, before its token.
const ResumePath = "/resume/"

// How a wait node's wait ended or an event for it was refused (WaitObserver; metric labels).
const (
	WaitResumed  = "resumed"   // an event was delivered: the task continued on "out"
	WaitTimedOut = "timed_out" // its timeout passed first: it continued on "out-timeout"
	WaitRefused  = "refused"   // an event arrived for a task that was not waiting (409/422)
)

// WaitObserver is implemented by observers that count how waits for an event end.
type WaitObserver interface {
	// WaitEnded reports one event wait of a node type ending (or an event refused) with an
	// outcome: WaitResumed, WaitTimedOut or WaitRefused.
	WaitEnded(ctx context.Context, nodeType, outcome string)
}

// ResumeToken is the stored form of a waiting task's resume URL token: its SHA-256 digest.
type ResumeToken struct {
	Hash   []byte
	TaskID string
	RunID  string
	Now    time.Time
}

// resumeTokenBytes is the entropy of a resume token (256 bits).
const resumeTokenBytes = 32

// newResumeToken returns a random token and its digest.
func newResumeToken() (token string, hash []byte, err error) {
	b := make([]byte, resumeTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("resume token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashResumeToken(token), nil
}

// hashResumeToken is the digest a token is stored and looked up by.
func hashResumeToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// waitingView is what a task waiting for an event stores as its output until the event or the
// timeout: where to deliver the event and until when.
type waitingView struct {
	ResumeURL string `json:"resumeUrl"`
	TimeoutAt string `json:"timeoutAt"`
}

// parking is what parking a task writes: its output while it waits and, for an event wait,
// the digest of its resume token.
func (e *Engine) parking(c Claim, out nodes.Output, due time.Time, now time.Time) (json.RawMessage, *ResumeToken, error) {
	if !out.Event {
		payload, err := json.Marshal(out.Payload)
		if err != nil {
			return nil, nil, fmt.Errorf("encode delay payload: %w", err)
		}
		return payload, nil, nil
	}
	token, hash, err := newResumeToken()
	if err != nil {
		return nil, nil, err
	}
	view, err := json.Marshal(waitingView{ResumeURL: e.cfg.ResumeBaseURL + ResumePath + token, TimeoutAt: due.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return nil, nil, fmt.Errorf("encode waiting output: %w", err)
	}
	return view, &ResumeToken{Hash: hash, TaskID: c.TaskID, RunID: c.RunID, Now: now}, nil
}

// ResumeRequest delivers an event to a task waiting for one: by run and node id, or by the
// token of its resume URL.
type ResumeRequest struct {
	RunID  string
	NodeID string
	// WorkflowID, when set, is the workflow the run must belong to (the per-workflow route).
	WorkflowID string
	// Token is the resume URL's token; RunID and NodeID are then ignored.
	Token string
	// Payload is the event (JSON; empty means {}); it becomes the task's output.
	Payload json.RawMessage
	// Via names the route that delivered it, for the run log ("events" or "resumeUrl").
	Via string
}

// Resumed is the task an event completed.
type Resumed struct {
	RunID  string
	NodeID string
	TaskID string
	Status string
}

// Reasons an event is refused (ResumeRefusal.Kind).
const (
	RefusedNotWaitNode = "not_wait_node" // the node is not a wait node
	RefusedNotWaiting  = "not_waiting"   // the task has not started waiting yet
	RefusedResumed     = "resumed"       // the task's wait already ended (event or timeout)
	RefusedRunFinished = "run_finished"  // the run is finished (succeeded, failed, cancelled)
)

// ResumeRefusal is an event the task's state refuses. It wraps workflow.ErrConflict; Kind is
// one of the Refused constants and Reason says what happened.
type ResumeRefusal struct {
	Kind   string
	Reason string
}

func (r *ResumeRefusal) Error() string { return r.Reason }

// Unwrap makes a refusal a workflow.ErrConflict.
func (r *ResumeRefusal) Unwrap() error { return workflow.ErrConflict }

// ResumeTarget is a task an event is addressed to, in whatever state it is.
type ResumeTarget struct {
	Claim
	Status    string
	RunStatus string
	Handles   []string
}

// Resume completes a task waiting for an event with the event as its output, on handle "out":
// in one transaction on the locked run, like any completion (edges resolved, targets released
// or skipped, the run settled), so it happens at most once; released tasks are enqueued after
// commit. An event for a task that is not (or no longer) waiting is a *ResumeRefusal: its
// timeout, an earlier event or a cancel got there first, or it has not started waiting. An
// unknown run, node or token is workflow.ErrNotFound.
func (e *Engine) Resume(ctx context.Context, req ResumeRequest) (Resumed, error) {
	taskID := ""
	if req.Token != "" {
		var err error
		if taskID, err = e.store.ResumeTokenTask(ctx, hashResumeToken(req.Token)); err != nil {
			return Resumed{}, fmt.Errorf("resume: %w", err)
		}
	} else {
		taskID = TaskID(req.RunID, req.NodeID)
	}
	t, err := e.store.ResumeTarget(ctx, taskID)
	if err != nil {
		return Resumed{}, fmt.Errorf("resume task %s: %w", taskID, err)
	}
	if req.WorkflowID != "" && req.WorkflowID != t.WorkflowID {
		return Resumed{}, fmt.Errorf("resume task %s: %w", taskID, workflow.ErrNotFound)
	}
	c := t.Claim
	done := Resumed{RunID: c.RunID, NodeID: c.NodeID, TaskID: c.TaskID, Status: t.Status}
	if err := resumable(t); err != nil {
		e.waitEnded(ctx, c.NodeType, WaitRefused)
		return done, err
	}
	payload := req.Payload
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = json.RawMessage(`{}`)
	}
	if !json.Valid(payload) {
		return done, workflow.Invalid("body", "must be JSON")
	}
	if len(payload) > e.cfg.MaxOutputBytes {
		return done, fmt.Errorf("event of %d bytes is larger than the limit of %d bytes: %w", len(payload), e.cfg.MaxOutputBytes, workflow.ErrTooLarge)
	}
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return done, fmt.Errorf("load version %s: %w", c.VersionID, err)
	}
	e.describe(ctx, &c)
	now := e.now()
	logs := []LogEntry{{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogNodeOutput, At: now,
		Message: "Event delivered; continuing on " + workflow.HandleOut,
		Data:    map[string]any{"name": c.NodeName, "kind": "wait", "via": req.Via}}}
	f := TaskFinish{TaskID: c.TaskID, From: workflow.TaskWaiting, Attempt: c.Attempt, Redeliveries: c.Redeliveries, To: workflow.TaskCompleted,
		Output: payload, Handles: []string{workflow.HandleOut}, Now: now}
	var comp completion
	err = e.completing(ctx, c.RunID, &comp, func(tx RunTx) error {
		return e.completeIn(ctx, tx, c, v.graph, f, logs, &comp)
	})
	switch {
	case errors.Is(err, ErrLostRace):
		e.waitEnded(ctx, c.NodeType, WaitRefused)
		return done, &ResumeRefusal{Kind: RefusedResumed, Reason: fmt.Sprintf("Node %s is no longer waiting: its timeout, another event or a cancel ended its wait first", c.NodeID)}
	case errors.Is(err, ErrRunFinished):
		e.waitEnded(ctx, c.NodeType, WaitRefused)
		return done, &ResumeRefusal{Kind: RefusedRunFinished, Reason: fmt.Sprintf("Workflow run %s is finished; node %s no longer waits", c.RunID, c.NodeID)}
	case errors.Is(err, ErrUnstorable):
		return done, workflow.Invalid("body", "the database refused the event: %v", err)
	case err != nil:
		return done, fmt.Errorf("resume task %s: %w", c.TaskID, err)
	}
	// The run's own trace continues: released tasks are children of its run.start span, not
	// of the request that delivered the event.
	comp.runTrace = true
	e.afterComplete(ctx, c, comp, now)
	e.waitEnded(ctx, c.NodeType, WaitResumed)
	done.Status = workflow.TaskCompleted
	return done, nil
}

// resumable refuses an event for a task that is not a wait node's, not waiting, or in a
// finished run.
func resumable(t ResumeTarget) error {
	switch {
	case t.NodeType != workflow.TypeWait:
		return &ResumeRefusal{Kind: RefusedNotWaitNode, Reason: fmt.Sprintf("Node %s is of type %s, not a wait node: only wait nodes take events", t.NodeID, t.NodeType)}
	case workflow.RunTerminal(t.RunStatus):
		return &ResumeRefusal{Kind: RefusedRunFinished, Reason: fmt.Sprintf("Workflow run %s is %s; node %s no longer waits", t.RunID, t.RunStatus, t.NodeID)}
	}
	switch t.Status {
	case workflow.TaskWaiting:
		return nil
	case workflow.TaskPending, workflow.TaskQueued, workflow.TaskRunning:
		return &ResumeRefusal{Kind: RefusedNotWaiting, Reason: fmt.Sprintf("Node %s is %s and not waiting for an event yet; deliver the event once its task is waiting", t.NodeID, t.Status)}
	case workflow.TaskCompleted:
		how := "an event resumed it"
		for _, h := range t.Handles {
			if h == workflow.HandleTimeout {
				how = "it timed out"
			}
		}
		return &ResumeRefusal{Kind: RefusedResumed, Reason: fmt.Sprintf("Node %s already resumed: %s", t.NodeID, how)}
	}
	return &ResumeRefusal{Kind: RefusedResumed, Reason: fmt.Sprintf("Node %s is %s and no longer waits", t.NodeID, t.Status)}
}

// timedOut is how a wait node's task completes when its timeout passed: its input passes on
// through "out-timeout".
func timedOut(c Claim, now time.Time) (TaskFinish, []LogEntry) {
	f := TaskFinish{From: workflow.TaskWaiting, Output: c.Input, Handles: []string{workflow.HandleTimeout}}
	logs := []LogEntry{{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogNodeOutput, At: now,
		Message: "No event before the timeout; continuing on " + workflow.HandleTimeout,
		Data:    map[string]any{"name": c.NodeName, "kind": "wait"}}}
	return f, logs
}

func (e *Engine) waitEnded(ctx context.Context, nodeType, outcome string) {
	if o, ok := e.obs.(WaitObserver); ok {
		o.WaitEnded(ctx, nodeType, outcome)
	}
}
