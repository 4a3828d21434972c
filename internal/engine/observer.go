package engine

import (
	"context"
	"time"
)

// Task execution outcomes reported to the Observer.
const (
	OutcomeCompleted = "completed" // the node succeeded
	OutcomeWaiting   = "waiting"   // a delay parked the task
	OutcomeRetry     = "retry"     // a retryable failure, retried later
	OutcomeContinued = "continued" // failed, completed with an error payload (onError: continue)
	OutcomeFailed    = "failed"    // failed the task and the run
	OutcomeDropped   = "dropped"   // the result was discarded: the run was cancelled or another delivery won
)

// Final outcomes of tasks, reported once per task when it becomes terminal (apart from the
// per-execution outcomes above, which count attempts).
const (
	TaskOutcomeCompleted       = "completed"        // the node succeeded
	TaskOutcomeFailedContinued = "failed_continued" // the node failed for good; onError: continue completed it
	TaskOutcomeFailed          = "failed"           // the node failed and failed its run
	TaskOutcomeCancelled       = "cancelled"        // ended by a cancel, a run failure or a deadline while running
	TaskOutcomeSkipped         = "skipped"          // never ran: not on a taken branch, or its run ended first
)

// WorkflowRef names the workflow version a run executes, for telemetry: its workflow's id and
// name and the version's number. The engine reads it with the prepared version, so reporting
// it costs no query per node.
type WorkflowRef struct {
	ID      string
	Name    string
	Version int
}

// Waits a claim ends, by what made its task due (Claim.Wait). The time from Claim.DueAt to the
// start is queue wait for a released task and timer lateness for a retry or delay wake-up.
const (
	WaitQueue = "queue" // released (first attempt) or enqueued again, waiting for a worker slot
	WaitRetry = "retry" // a retry's backoff ended
	WaitDelay = "delay" // a delay node's wait ended
)

// FinishedTask is a task that became terminal in a committed transition.
type FinishedTask struct {
	NodeType string
	Outcome  string // one of the TaskOutcome constants
}

// Observer receives the engine's telemetry events. The telemetry package implements it with
// OpenTelemetry spans and Prometheus metrics; the engine itself stays free of both.
type Observer interface {
	// RunStarting opens the run's span; end is called with the run id (or the error).
	RunStarting(ctx context.Context, workflowID string) (_ context.Context, end func(runID string, err error))
	// RunStarted reports a run that was created (not one an idempotency key returned again),
	// with ctx the run's span.
	RunStarted(ctx context.Context, wf WorkflowRef)
	// TraceParent returns the W3C traceparent of ctx's span, "" without one.
	TraceParent(ctx context.Context) string
	// TaskClaimed reports a claimed task and how long it waited to start after it was due;
	// c.Wait says what that wait was (a WaitQueue, WaitRetry or WaitDelay, or empty for a
	// redelivery that took over a running task).
	TaskClaimed(ctx context.Context, c Claim, schedulingDelay time.Duration)
	// TaskExecuted reports one execution: its node type, outcome, failure reason (if any) and
	// duration.
	TaskExecuted(ctx context.Context, nodeType, outcome, reason string, d time.Duration)
	// TasksFinished reports tasks that became terminal, each exactly once.
	TasksFinished(ctx context.Context, wf WorkflowRef, tasks []FinishedTask)
	// RunFinished reports a run that reached a terminal status, with the number of its nodes
	// that failed but continued.
	RunFinished(ctx context.Context, wf WorkflowRef, status string, failedNodes int, d time.Duration)
	// Recovered reports deliveries the reconciler enqueued again.
	Recovered(ctx context.Context, n int)
	// Redelivered reports a delivery that took over a running task whose previous delivery
	// ended without an outcome.
	Redelivered(ctx context.Context, r Redelivery)
	// BranchSkipped reports the nodes a completed task's chosen handles skipped, directly or
	// further downstream, in the completing task's context.
	BranchSkipped(ctx context.Context, b BranchSkip)
	// RunAborted reports a run ended early (cancelled, past its deadline, failed by a task)
	// once the transition committed, in the context of whatever ended it.
	RunAborted(ctx context.Context, a AbortedRun)
}

// BranchSkip is what one completion skipped: the handles the node chose (nil when it takes
// every edge) and the node ids of the tasks that became skipped, in the order they were
// skipped.
type BranchSkip struct {
	Handles []string
	Skipped []string
}

// What ended a run early, reported to the Observer.
const (
	AbortCauseAPI        = "api"         // an API request: the cancel route, or deleting the workflow
	AbortCauseDeadline   = "deadline"    // the run's overall deadline passed
	AbortCauseRunFailure = "run_failure" // a task failed for good and failed its run
)

// AbortedRun describes a run ended early.
type AbortedRun struct {
	RunID string
	// Cause is one of the AbortCause constants.
	Cause string
	// TraceContext is the run's stored trace context (its run.start span).
	TraceContext string
	// Cancelled and Skipped count the unfinished tasks it cancelled and skipped.
	Cancelled int
	Skipped   int
}

// Redelivery describes a delivery that took over a running task.
type Redelivery struct {
	NodeType string
	// Cause is one of the Cause constants; Detail says how it was detected or what failed.
	Cause  string
	Detail string
	// Attempt is the attempt that begins again; Redeliveries counts this one.
	Attempt      int
	Redeliveries int
	// PreviousWorker held the task before (empty when it was released or unknown).
	PreviousWorker string
}

// nopObserver discards every event.
type nopObserver struct{}

func (nopObserver) RunStarting(ctx context.Context, _ string) (context.Context, func(string, error)) {
	return ctx, func(string, error) {}
}
func (nopObserver) RunStarted(context.Context, WorkflowRef)                              {}
func (nopObserver) TraceParent(context.Context) string                                   { return "" }
func (nopObserver) TaskClaimed(context.Context, Claim, time.Duration)                    {}
func (nopObserver) TaskExecuted(context.Context, string, string, string, time.Duration)  {}
func (nopObserver) TasksFinished(context.Context, WorkflowRef, []FinishedTask)           {}
func (nopObserver) RunFinished(context.Context, WorkflowRef, string, int, time.Duration) {}
func (nopObserver) Recovered(context.Context, int)                                       {}
func (nopObserver) Redelivered(context.Context, Redelivery)                              {}
func (nopObserver) BranchSkipped(context.Context, BranchSkip)                            {}
func (nopObserver) RunAborted(context.Context, AbortedRun)                               {}
