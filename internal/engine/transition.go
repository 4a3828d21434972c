package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// errDropped means a transition was discarded because it is no longer needed: the task
// changed state concurrently or its run finished. Deliveries that end with it are acknowledged.
var errDropped = errors.New("transition dropped")

// dropped reports whether a transition failed only because it is no longer needed.
func dropped(err error) bool {
	return errors.Is(err, ErrLostRace) || errors.Is(err, ErrRunFinished) || errors.Is(err, workflow.ErrNotFound)
}

// reportEnd tells the observer about a run that a committed transition finished.
func (e *Engine) reportEnd(ctx context.Context, wf WorkflowRef, end RunEnd, now time.Time) {
	if workflow.RunTerminal(end.Status) {
		e.obs.RunFinished(ctx, wf, end.Status, end.FailedNodes, now.Sub(end.StartedAt))
		if end.ParentTaskID != "" {
			e.notifyParent(ctx, end.ParentTaskID, end.ParentRunID, end.TraceContext)
		}
	}
}

// released stamps released tasks with the trace context of the span that released them.
func (e *Engine) traceParent(ctx context.Context, fallback string) string {
	if tp := e.obs.TraceParent(ctx); tp != "" {
		return tp
	}
	return fallback
}

// complete records a task's completion and, in the same transaction, resolves its outgoing
// edges, releases or skips targets and settles the run's counter. Released tasks are enqueued
// after commit. f carries what the completion stores (From, Output, Handles, and for a node
// that failed and continued its Error and Outcome); complete fills in the rest.
func (e *Engine) complete(ctx context.Context, c Claim, g *workflow.Graph, f TaskFinish, logs []LogEntry) error {
	now := e.now()
	f.TaskID, f.Attempt, f.Redeliveries, f.To, f.Now = c.TaskID, c.Attempt, c.Redeliveries, workflow.TaskCompleted, now
	var done completion
	err := e.completing(ctx, c.RunID, &done, func(tx RunTx) error {
		return e.completeIn(ctx, tx, c, g, f, logs, &done)
	})
	if dropped(err) {
		return errDropped
	}
	if errors.Is(err, ErrUnstorable) {
		return e.failUnstorable(ctx, c, f.From, "output or logs", err)
	}
	if err != nil {
		return fmt.Errorf("complete task %s: %w", c.TaskID, err)
	}
	e.afterComplete(ctx, c, done, now)
	return nil
}

// completion is what a committed completion leaves to do: enqueue released tasks and report
// the tasks and the run it finished.
type completion struct {
	released []TaskRef
	finished []FinishedTask
	end      RunEnd
	// branch is set when the completion skipped nodes.
	branch *BranchSkip
	// runTrace makes released tasks children of the run's stored trace context rather than
	// of the current span (an event delivered by a request outside the run's trace).
	runTrace bool
	// pick is what the transition claimed for this worker (eager dispatch); nil when it
	// claims nothing.
	pick *eagerPick
	// abort is set when the transition failed its run (failIn).
	abort *abortedIn
}

// abortedIn is what a run failed inside a completing transaction leaves to do after commit:
// report the abort and stop the tasks it ended.
type abortedIn struct {
	runID   string
	aborted []AbortedTask
}

// completing runs fn in the run's transaction, with done afresh for each try. The pool slots
// a try's eager claims took are given back when the try is repeated or nothing commits.
func (e *Engine) completing(ctx context.Context, runID string, done *completion, fn func(RunTx) error) error {
	err := e.store.InRun(ctx, runID, func(tx RunTx) error {
		done.pick.release()
		*done = completion{}
		return fn(tx)
	})
	if err != nil {
		done.pick.release()
	}
	return err
}

// completeIn is the completing transition inside an open run transaction. done is filled as
// the transaction's results arrive (the run's end only once it committed), so it must outlive
// the call.
func (e *Engine) completeIn(ctx context.Context, tx RunTx, c Claim, g *workflow.Graph, f TaskFinish, logs []LogEntry, done *completion) error {
	if err := tx.FinishTask(ctx, f); err != nil {
		return err
	}
	output := f.Output
	if output == nil {
		output = c.Input // a delay passes its input through
	}
	if done.pick == nil {
		done.pick = e.newPick(ctx)
	}
	r := resolver{tx: tx, runID: c.RunID, g: g, now: f.Now, parentSpan: e.obs.TraceParent(ctx), pick: done.pick}
	if err := r.resolve(ctx, c.NodeID, f.Handles, output); err != nil {
		return err
	}
	if err := tx.AddLogs(ctx, logs); err != nil {
		return err
	}
	done.released = append(done.released, r.released...)
	if len(r.skippedIDs) > 0 {
		done.branch = &BranchSkip{Handles: f.Handles, Skipped: r.skippedIDs}
	}
	outcome := cmp.Or(f.Outcome, TaskOutcomeCompleted)
	done.finished = slices.Grow(done.finished, 1+len(r.skippedTypes))
	done.finished = append(done.finished, FinishedTask{NodeType: c.NodeType, Outcome: outcome})
	for _, t := range r.skippedTypes {
		done.finished = append(done.finished, FinishedTask{NodeType: t, Outcome: TaskOutcomeSkipped})
	}
	if err := tx.SettleRun(ctx, c.RunID, 1+r.skipped, f.Now, &done.end); err != nil {
		return err
	}
	if parent, ok := elementParent(g, c.NodeID); ok {
		return e.elementFinished(ctx, tx, c, g, parent, f.Now, done)
	}
	return nil
}

// afterComplete reports a finished run and enqueues released tasks as children of the current
// span.
func (e *Engine) afterComplete(ctx context.Context, c Claim, done completion, now time.Time) {
	wf := e.workflowOf(ctx, c.VersionID)
	e.obs.TasksFinished(ctx, wf, done.finished)
	if done.branch != nil {
		e.obs.BranchSkipped(ctx, *done.branch)
	}
	e.reportEnd(ctx, wf, done.end, now)
	if a := done.abort; a != nil {
		e.afterAbort(ctx, a.runID, AbortCauseRunFailure, done.end.TraceContext, a.aborted, invokeTasks(runAbort{}, a.aborted))
	}
	tp := c.TraceContext
	if !done.runTrace {
		tp = e.traceParent(ctx, c.TraceContext)
	}
	for i := range done.released {
		done.released[i].TraceContext = tp
	}
	e.enqueue(ctx, done.released)
	e.dispatch(c, done.pick, tp, now)
}

// park moves a delay or wait node's task to waiting and schedules its wake-up (the end of the
// delay, or the wait's timeout); it holds no worker slot while it waits. A wait for an event
// stores its resume token's digest in the same transaction.
func (e *Engine) park(ctx context.Context, c Claim, out nodes.Output, logs []LogEntry) error {
	now := e.now()
	due := now.Add(out.Wait)
	payload, token, err := e.parking(c, out, due, now)
	if err != nil {
		return err
	}
	err = e.store.InRun(ctx, c.RunID, func(tx RunTx) error {
		if err := tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: workflow.TaskRunning, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
			To: workflow.TaskWaiting, Output: payload, DueAt: due, Now: now}); err != nil {
			return err
		}
		if token != nil {
			if err := tx.AddResumeToken(ctx, *token); err != nil {
				return err
			}
		}
		return tx.AddLogs(ctx, logs)
	})
	if dropped(err) {
		return errDropped
	}
	if errors.Is(err, ErrUnstorable) {
		return e.failUnstorable(ctx, c, workflow.TaskRunning, "delay output or logs", err)
	}
	if err != nil {
		return fmt.Errorf("park task %s: %w", c.TaskID, err)
	}
	ref := TaskRef{TaskID: c.TaskID, RunID: c.RunID, Kind: KindWake, TraceContext: e.traceParent(ctx, c.TraceContext)}
	if _, err := e.queue.Enqueue(ctx, ref, due); err != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "schedule wake-up failed; the reconciler will retry", append(c.LogAttrs(), slog.Any(LogError, err))...)
	}
	return nil
}

// runAbort ends a run early: optionally finishing one task first, then ending every other
// unfinished task, writing log lines and giving the run its terminal status.
type runAbort struct {
	finish     *TaskFinish // the failing task, if any
	finishType string      // its node type
	cancelAll  bool        // cancel every unfinished task (else running ones are cancelled, the rest skipped)
	cause      string      // what ended the run: one of the AbortCause constants
	status     string
	errMsg     string
	extra      map[string]any
	logs       []LogEntry
}

// abortRun applies a runAbort in one transaction, then reports the run's end and stops the
// aborted tasks' deliveries.
func (e *Engine) abortRun(ctx context.Context, runID string, a runAbort, now time.Time) error {
	var aborted []AbortedTask
	var end RunEnd
	err := e.store.InRun(ctx, runID, func(tx RunTx) error {
		except := ""
		if a.finish != nil {
			if err := tx.FinishTask(ctx, *a.finish); err != nil {
				return err
			}
			except = a.finish.TaskID
		}
		var err error
		if aborted, err = tx.AbortTasks(ctx, runID, except, a.cancelAll, now); err != nil {
			return err
		}
		if err := tx.AddLogs(ctx, a.logs); err != nil {
			return err
		}
		return tx.EndRun(ctx, runID, a.status, a.errMsg, a.extra, now, &end)
	})
	if err != nil {
		return err
	}
	finished := make([]FinishedTask, 0, 1+len(aborted))
	if a.finish != nil {
		finished = append(finished, FinishedTask{NodeType: a.finishType, Outcome: TaskOutcomeFailed})
	}
	for _, t := range aborted {
		finished = append(finished, FinishedTask{NodeType: t.NodeType, Outcome: t.Status})
	}
	wf := e.workflowOf(ctx, end.VersionID)
	e.obs.TasksFinished(ctx, wf, finished)
	e.reportEnd(ctx, wf, end, now)
	e.afterAbort(ctx, runID, a.cause, end.TraceContext, aborted, invokeTasks(a, aborted))
	return nil
}

// afterAbort reports a committed abort of a run by what it did to its unfinished tasks, stops
// their deliveries and cancels the child runs of the invoking tasks among them.
func (e *Engine) afterAbort(ctx context.Context, runID, cause, traceContext string, aborted []AbortedTask, invoking []string) {
	report := AbortedRun{RunID: runID, Cause: cause, TraceContext: traceContext}
	for _, t := range aborted {
		if t.Status == workflow.TaskCancelled {
			report.Cancelled++
		} else {
			report.Skipped++
		}
	}
	e.obs.RunAborted(ctx, report)
	e.stop(ctx, runID, aborted)
	e.cancelChildren(ctx, invoking)
}

// failureLines are the log lines of a task whose failure fails its run.
func failureLines(c Claim, reason, msg string, now time.Time) []LogEntry {
	return []LogEntry{
		{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogError, Message: msg, At: now, Data: map[string]any{"reason": reason}},
		{RunID: c.RunID, Type: workflow.LogSystem, Message: "Workflow run failed", At: now}}
}

// failIn fails a waiting task and its run inside an open completing transaction, as
// abortFailed does in a transaction of its own: the run's other unfinished tasks are cancelled
// or skipped, and done carries the reports and stops for after commit.
func (e *Engine) failIn(ctx context.Context, tx RunTx, c Claim, reason, msg string, now time.Time, done *completion) error {
	if err := tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: workflow.TaskWaiting, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
		To: workflow.TaskFailed, Error: msg, Now: now}); err != nil {
		return err
	}
	aborted, err := tx.AbortTasks(ctx, c.RunID, c.TaskID, false, now)
	if err != nil {
		return err
	}
	if err := tx.AddLogs(ctx, failureLines(c, reason, msg, now)); err != nil {
		return err
	}
	if err := tx.EndRun(ctx, c.RunID, workflow.RunFailed, msg, nil, now, &done.end); err != nil {
		return err
	}
	done.finished = append(done.finished, FinishedTask{NodeType: c.NodeType, Outcome: TaskOutcomeFailed})
	for _, t := range aborted {
		done.finished = append(done.finished, FinishedTask{NodeType: t.NodeType, Outcome: t.Status})
	}
	done.abort = &abortedIn{runID: c.RunID, aborted: aborted}
	return nil
}

// fail marks the running task failed, ends every other unfinished task and fails the run.
func (e *Engine) fail(ctx context.Context, c Claim, reason, msg string, logs []LogEntry) error {
	return e.failFrom(ctx, c, workflow.TaskRunning, reason, msg, logs)
}

// failFrom is fail for a task in status from. When the database refuses what the failure
// carries (the node's logs or its message), the task is failed again with a fixed message that
// quotes the database's reason, so a failure can always be recorded.
func (e *Engine) failFrom(ctx context.Context, c Claim, from, reason, msg string, logs []LogEntry) error {
	err := e.abortFailed(ctx, c, from, reason, msg, logs)
	if errors.Is(err, ErrUnstorable) {
		msg = fmt.Sprintf("Node %s failed; the database refused to store the failure's details (%v)", c.NodeID, err)
		err = e.abortFailed(ctx, c, from, reason, msg, nil)
	}
	if dropped(err) {
		return errDropped
	}
	if err != nil {
		return fmt.Errorf("fail task %s: %w", c.TaskID, err)
	}
	return nil
}

func (e *Engine) abortFailed(ctx context.Context, c Claim, from, reason, msg string, logs []LogEntry) error {
	now := e.now()
	lines := append(slices.Clip(logs), failureLines(c, reason, msg, now)...)
	return e.abortRun(ctx, c.RunID, runAbort{
		finish:     &TaskFinish{TaskID: c.TaskID, From: from, Attempt: c.Attempt, Redeliveries: c.Redeliveries, To: workflow.TaskFailed, Error: msg, Now: now},
		finishType: c.NodeType,
		cause:      AbortCauseRunFailure,
		status:     workflow.RunFailed, errMsg: msg, logs: lines,
	}, now)
}

// endRun fails a run that is past its deadline.
func (e *Engine) endRun(ctx context.Context, runID, msg string) error {
	now := e.now()
	err := e.abortRun(ctx, runID, runAbort{cause: AbortCauseDeadline, status: workflow.RunFailed, errMsg: msg,
		logs: []LogEntry{{RunID: runID, Type: workflow.LogError, Message: "Workflow run failed: " + msg, At: now}}}, now)
	if dropped(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end run %s: %w", runID, err)
	}
	return nil
}

// Cancel cancels a run: the run and every unfinished task become cancelled in one
// transaction, in-flight executions are told to stop and scheduled deliveries are removed.
// Cancelling a finished run returns workflow.ErrConflict.
func (e *Engine) Cancel(ctx context.Context, runID string) error {
	now := e.now()
	err := e.abortRun(ctx, runID, runAbort{cancelAll: true, cause: AbortCauseAPI, status: workflow.RunCancelled, extra: map[string]any{"cancelled": true},
		logs: []LogEntry{{RunID: runID, Type: workflow.LogSystem, Message: "Workflow run cancelled", At: now}}}, now)
	if errors.Is(err, ErrRunFinished) {
		return fmt.Errorf("cancel run %s: run is already finished: %w", runID, workflow.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("cancel run %s: %w", runID, err)
	}
	return nil
}

// stop tells the queue to stop executions and drop deliveries of aborted tasks, under the
// task's own delivery id and, for a task that was redelivered, its latest recovery id too.
func (e *Engine) stop(ctx context.Context, runID string, aborted []AbortedTask) {
	for _, a := range aborted {
		if a.FromStatus == workflow.TaskPending {
			continue
		}
		ref := TaskRef{TaskID: a.TaskID, RunID: runID, Kind: KindExecute}
		refs := []TaskRef{ref}
		if a.FromStatus == workflow.TaskWaiting {
			refs[0].Kind = KindWake
		} else if a.Redeliveries > 0 {
			ref.Recovery = a.Redeliveries
			refs = append(refs, ref)
		}
		for _, r := range refs {
			if err := e.queue.Stop(ctx, r, a.FromStatus); err != nil {
				e.log.DebugContext(ctx, "stop delivery", LogTaskID, a.TaskID, LogError, err)
			}
		}
	}
}
