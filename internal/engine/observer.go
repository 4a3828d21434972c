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
	OutcomeThrottled = "throttled" // the call's host limits held it back; queued again, no attempt counted
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
	// WaitThrottle: the wait the host limits of a throttled call asked for ended.
	WaitThrottle = "throttle"
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
	// TaskExecuted reports one execution of the claimed task: its outcome, failure (if any)
	// and duration.
	TaskExecuted(ctx context.Context, c Claim, x Execution)
	// TasksFinished reports tasks that became terminal, each exactly once.
	TasksFinished(ctx context.Context, wf WorkflowRef, tasks []FinishedTask)
	// RunFinished reports a run that reached a terminal status, with the number of its nodes
	// that failed but continued.
	RunFinished(ctx context.Context, wf WorkflowRef, status string, failedNodes int, d time.Duration)
	// Recovered reports a delivery the reconciler enqueued again, and why.
	Recovered(ctx context.Context, r Recovery)
	// ReconcilerPass reports one reconciler pass: how many deliveries it recovered, its error
	// (nil for a pass that completed) and how long it took.
	ReconcilerPass(ctx context.Context, recovered int, err error, d time.Duration)
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

// Execution is the outcome of one execution of a claimed task.
type Execution struct {
	Outcome string // one of the Outcome constants
	Reason  string // the failure reason (a fixed set: a metric label), empty on success
	// Error says what failed, as stored on the task and in the run log (secret values
	// scrubbed; never the task's input); empty on success.
	Error string
	// RetryIn is the backoff before the next attempt (OutcomeRetry), or the wait before the
	// same attempt runs again (OutcomeThrottled).
	RetryIn  time.Duration
	Duration time.Duration
}

// Causes of a reconciler recovery, as reported to the Observer (a fixed set: metric labels).
const (
	RecoveryQueued     = "queued"      // a queued task (released or retried) was overdue: its delivery never reached the queue or the queue lost it
	RecoveryWaiting    = "waiting"     // a delay's wake-up was overdue: the queue lost it
	RecoveryLostWorker = "lost_worker" // a running task's worker stopped heartbeating, or released it after an interrupted delivery
	RecoveryStale      = "stale"       // a task running for longer than ReconcilerConfig.StaleAfter: its delivery may be lost
)

// Recovery is a delivery the reconciler enqueued again.
type Recovery struct {
	DueTask
	Cause string // one of the Recovery constants
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
func (nopObserver) TaskExecuted(context.Context, Claim, Execution)                       {}
func (nopObserver) TasksFinished(context.Context, WorkflowRef, []FinishedTask)           {}
func (nopObserver) RunFinished(context.Context, WorkflowRef, string, int, time.Duration) {}
func (nopObserver) Recovered(context.Context, Recovery)                                  {}
func (nopObserver) ReconcilerPass(context.Context, int, error, time.Duration)            {}
func (nopObserver) Redelivered(context.Context, Redelivery)                              {}
func (nopObserver) BranchSkipped(context.Context, BranchSkip)                            {}
func (nopObserver) RunAborted(context.Context, AbortedRun)                               {}
