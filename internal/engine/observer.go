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
	// TraceParent returns the W3C traceparent of ctx's span, "" without one.
	TraceParent(ctx context.Context) string
	// TaskClaimed reports a claimed task and how long it waited to start after it was due.
	TaskClaimed(ctx context.Context, c Claim, schedulingDelay time.Duration)
	// TaskExecuted reports one execution of the claimed task: its outcome, failure (if any)
	// and duration.
	TaskExecuted(ctx context.Context, c Claim, x Execution)
	// TasksFinished reports tasks that became terminal, each exactly once.
	TasksFinished(ctx context.Context, tasks []FinishedTask)
	// RunFinished reports a run that reached a terminal status, with the number of its nodes
	// that failed but continued.
	RunFinished(ctx context.Context, status string, failedNodes int, d time.Duration)
	// Recovered reports a delivery the reconciler enqueued again, and why.
	Recovered(ctx context.Context, r Recovery)
	// ReconcilerPass reports one reconciler pass: how many deliveries it recovered, its error
	// (nil for a pass that completed) and how long it took.
	ReconcilerPass(ctx context.Context, recovered int, err error, d time.Duration)
	// Redelivered reports a delivery that took over a running task whose previous delivery
	// ended without an outcome.
	Redelivered(ctx context.Context, r Redelivery)
}

// Execution is the outcome of one execution of a claimed task.
type Execution struct {
	Outcome string // one of the Outcome constants
	Reason  string // the failure reason (a fixed set: a metric label), empty on success
	// Error says what failed, as stored on the task and in the run log (secret values
	// scrubbed; never the task's input); empty on success.
	Error string
	// RetryIn is the backoff before the next attempt (OutcomeRetry).
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
func (nopObserver) TraceParent(context.Context) string                        { return "" }
func (nopObserver) TaskClaimed(context.Context, Claim, time.Duration)         {}
func (nopObserver) TaskExecuted(context.Context, Claim, Execution)            {}
func (nopObserver) TasksFinished(context.Context, []FinishedTask)             {}
func (nopObserver) RunFinished(context.Context, string, int, time.Duration)   {}
func (nopObserver) Recovered(context.Context, Recovery)                       {}
func (nopObserver) ReconcilerPass(context.Context, int, error, time.Duration) {}
func (nopObserver) Redelivered(context.Context, Redelivery)                   {}
