package engine

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// TaskID is the id of a node's task in a run: derived from both (UUID v5), so the engine knows
// every task id of a run without asking the database.
func TaskID(runID, nodeID string) string {
	ns, err := uuid.Parse(runID)
	if err != nil {
		ns = uuid.NameSpaceOID
	}
	return uuid.NewSHA1(ns, []byte(nodeID)).String()
}

// Kinds of queue delivery.
const (
	// KindExecute executes a task's node.
	KindExecute = "execute"
	// KindWake completes a task parked by a delay node.
	KindWake = "wake"
)

// TaskRef names one queue delivery: a task and what to do with it.
type TaskRef struct {
	TaskID string
	RunID  string
	Kind   string
	// NodeType is a hint that lets pure nodes take the one-transaction path; it may be empty.
	NodeType string
	// TraceContext is the W3C traceparent of the span that released the task, if any.
	TraceContext string
	// Recovery, when above 0, makes this a recovery delivery of a running task whose worker was
	// lost: its queue id is its own (the lost delivery may still sit in the queue as active), and
	// the same for every reconciler that recovers the same redelivery, so recoveries stay
	// idempotent. It is the number of the redelivery it starts.
	Recovery int
	// Notify makes a wake-up a notification that what the task waits for happened (its child
	// run finished), with a queue id of its own: a scheduled wake-up of the same task does not
	// absorb it.
	Notify bool
}

// NewRun is a run to create.
type NewRun struct {
	ID             string
	WorkflowID     string
	VersionID      string
	Input          json.RawMessage
	IdempotencyKey string
	// RequestHash fingerprints what the run was started with (input and timeout), so a key
	// sent again with a different request can be refused.
	RequestHash  []byte
	TraceContext string
	Deadline     time.Time
	Now          time.Time
	Tasks        []NewTask
	Logs         []LogEntry
	// Lineage of a retry or re-run (empty for a run started by an execute route): the run it
	// was made from, its kind (OriginRetry or OriginRerun) and the node a re-run starts at.
	ParentRunID     string
	Origin          string
	RerunFromNodeID string
	// ParentTaskID is the invokeWorkflow task that started the run (Origin
	// workflow.OriginInvoke) and InvokeDepth how deeply it is nested (0 for a run no task
	// started).
	ParentTaskID string
	InvokeDepth  int
}

// NewTask is a task created with its run.
type NewTask struct {
	ID         string
	NodeID     string
	NodeType   string
	Status     string
	Input      json.RawMessage
	Unresolved int
	// Activated counts the incoming edges already taken (a retry or re-run resolves the edges
	// of the tasks it reuses before the run is stored).
	Activated int
	// Output, Handles, Outcome and Error are stored with a task created terminal: completed
	// with an output copied from an earlier run, or skipped.
	Output  json.RawMessage
	Handles []string
	Outcome string
	Error   string
}

// RunEnd is a run's status and start time after a transition.
type RunEnd struct {
	Status    string
	StartedAt time.Time
	// VersionID is the workflow version the run executes.
	VersionID string
	// FailedNodes counts the run's tasks whose node failed but continued (onError: continue);
	// set when the run is terminal.
	FailedNodes int
	// TraceContext is the run's stored trace context.
	TraceContext string
	// ParentTaskID and ParentRunID name the task that invoked the run, when one did; set when
	// the run is terminal.
	ParentTaskID string
	ParentRunID  string
}

// Claim is a task claimed for execution, with what executing it needs.
type Claim struct {
	TaskID     string
	RunID      string
	WorkflowID string
	VersionID  string
	NodeID     string
	NodeType   string
	// Attempt is the node's own attempt (1 + retries scheduled); it is what the node's retries
	// budget counts.
	Attempt int
	// Redeliveries counts the deliveries that began the task again because an earlier one
	// ended without an outcome (worker crash, lost lease, panic, infrastructure error). It is
	// bounded by Config.MaxRedeliveries apart from the node's retries.
	Redeliveries int
	// Redelivered is set when this claim took over a running task: its previous delivery ended
	// without an outcome, for the reason in Interruption when that is known.
	Redelivered  bool
	Interruption string
	// PreviousWorker is the worker that held the task when this claim took it over (empty when
	// the previous delivery released it or held none).
	PreviousWorker string
	Input          json.RawMessage
	Deadline       time.Time
	// DueAt is when the task became due to run (released, or its retry time).
	DueAt time.Time
	// ThrottledSince is when the host limits of the node's call first held this attempt back
	// (zero when they have not); THROTTLE_MAX_WAIT counts from it.
	ThrottledSince time.Time
	// Status is the task's status when it was claimed inline (queued, or running on a
	// re-delivery); empty for classic claims, which move it to running.
	Status string
	// TraceContext is the run's stored trace context.
	TraceContext string
	// Eager is set for a task its releasing worker claimed and executes itself (no queue
	// delivery).
	Eager bool
	// ParentSpans are the traceparents of a join's activating parents (at most
	// MaxParentLinks, in the order they completed); ParentSpansDropped counts those beyond the
	// cap. Empty for a task with one parent.
	ParentSpans        []string
	ParentSpansDropped int

	// Filled in by the engine from the prepared version, for telemetry (no query): the
	// workflow's name and version number and the node's name; and what the task waited for
	// between DueAt and its start (Wait*; empty for a redelivery that took over a running task).
	WorkflowName    string
	WorkflowVersion int
	NodeName        string
	Wait            string
}

// VersionDefinition is a workflow version's definition with the workflow it belongs to.
type VersionDefinition struct {
	Definition   workflow.Definition
	WorkflowID   string
	WorkflowName string
	Version      int
}

// MaxParentLinks caps the parent span contexts a join's task records, and so the links on its
// span; parents beyond it are only counted.
const MaxParentLinks = 64

// TaskFinish moves one task between statuses.
type TaskFinish struct {
	TaskID  string
	From    string
	Attempt int
	// Redeliveries fences the transition like Attempt: a delivery that was taken over by a
	// redelivery no longer matches.
	Redeliveries int
	To           string
	// Output is stored when set; for a wake-up with no output the input is kept as output.
	Output  json.RawMessage
	Handles []string
	Error   string
	// Outcome is stored with a completed task whose node failed and continued
	// (TaskOutcomeFailedContinued); empty otherwise.
	Outcome string
	// DueAt is set for queued (retry, throttle) and waiting (delay) tasks.
	DueAt time.Time
	// ThrottledSince, when set, puts a throttled task back in the queue without counting its
	// attempt: the stored attempt goes back to Attempt-1, so the next claim runs the same
	// attempt again, and ThrottledSince is stored to bound how long it may wait. Every other
	// transition clears it.
	ThrottledSince time.Time
	Now            time.Time
	// Claim also claims the task in the same statement: Attempt and Redeliveries are the
	// claim's (one more attempt than stored from queued, one more redelivery from running) and
	// the start time is set to StartedAt.
	Claim     bool
	StartedAt time.Time
}

// EdgeResolution resolves edges into one target.
type EdgeResolution struct {
	NodeID string
	Edges  int
	Taken  int
	// ParentSpan, when set and an edge is taken, is the traceparent of the source's span; the
	// target records it (up to MaxParentLinks) so its span can link to every activating parent.
	ParentSpan string
}

// TargetState is a target's counters after resolution.
type TargetState struct {
	NodeID     string
	Unresolved int
	Activated  int
}

// ParentState is what a join needs of one parent.
type ParentState struct {
	NodeID  string
	Status  string
	Handles []string
	Output  json.RawMessage
	// Outcome is TaskOutcomeFailedContinued for a node that failed and continued.
	Outcome string
}

// ElementProgress is a forEach task's count of its elements after one of them finished.
type ElementProgress struct {
	// TaskID, Attempt, Redeliveries and Input are the waiting forEach task's.
	TaskID       string
	Attempt      int
	Redeliveries int
	Input        json.RawMessage
	// Elements is how many elements the task has, Released how many were released before
	// this one finished (element Released is next when below Elements), and Remaining how
	// many have not finished yet.
	Elements  int
	Released  int
	Remaining int
}

// Release queues a pending task with its input. Edges and Taken, when set, resolve the
// target's incoming edges in the same statement (a target whose only parent is the source).
type Release struct {
	NodeID string
	Input  json.RawMessage
	Edges  int
	Taken  int
	// Claim, when set, claims the task for a worker in the same statement (eager dispatch):
	// it becomes running as its next attempt, held by Claim.WorkerID, and the store fills in
	// the rest of Claim once the statement's result is read (at commit at the latest).
	Claim *ReleaseClaim
}

// ReleaseClaim is what claiming a released task gives the worker that claimed it.
type ReleaseClaim struct {
	WorkerID string
	// Filled in by the store: the claim's attempt and redeliveries, and a join's parent spans.
	Attempt            int
	Redeliveries       int
	ParentSpans        []string
	ParentSpansDropped int
}

// AbortedTask is a task ended by a cancel or a run failure.
type AbortedTask struct {
	TaskID     string
	NodeType   string
	FromStatus string
	// Status is what the task became: cancelled or skipped.
	Status string
	// Redeliveries is the task's count when it was ended: its delivery may be a recovery.
	Redeliveries int
}

// LogEntry is one run log line.
type LogEntry struct {
	RunID   string
	NodeID  string
	Type    string
	Message string
	Data    map[string]any
	At      time.Time
}

// ValueRead is one value a node's templates read from the run: the value at Path (object
// keys) in the run's input when TaskID is empty, else in that task's output once it completed.
type ValueRead struct {
	TaskID string
	Path   []string
}

// DueTask is a delivery the reconciler puts back in the queue, with what its log line and
// metric need.
type DueTask struct {
	TaskRef
	WorkflowID string
	NodeID     string
	// Status is the task's status when it was listed: queued, waiting or running.
	Status string
}

// recoveryCause says why a due task is enqueued again (a Recovery constant).
func (d DueTask) recoveryCause() string {
	switch {
	case d.Recovery > 0:
		return RecoveryLostWorker
	case d.Status == workflow.TaskWaiting:
		return RecoveryWaiting
	case d.Status == workflow.TaskRunning:
		return RecoveryStale
	}
	return RecoveryQueued
}

// DueQuery selects the deliveries the reconciler puts back in the queue.
type DueQuery struct {
	// Before is the cutoff for queued and waiting tasks, and the earliest start of running
	// tasks whose worker is gone (a claim younger than that is left to its own delivery).
	Before time.Time
	// StaleBefore is the cutoff for running tasks whatever their worker.
	StaleBefore time.Time
	// Now decides which workers' leases expired.
	Now   time.Time
	Limit int
}

// Heartbeat is one worker heartbeat.
type Heartbeat struct {
	WorkerID  string
	StartedAt time.Time
	Now       time.Time
	Lease     time.Duration
	// Tasks are the tasks the worker is executing now.
	Tasks []string
}
