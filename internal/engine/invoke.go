package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Sub-workflows. An invokeWorkflow node's execution starts a child run of another workflow
// through Start, under the idempotency key invoke:<task id>:<attempt> (a redelivery finds the
// child its first delivery started instead of starting another; a retry of the node is a new
// attempt and starts a new child), with the run's parent_task_id and nesting depth stored on
// it. The task then parks as waiting, with a wake-up every Config.InvokePollInterval. When the
// child's terminal transition commits, the engine sends the parent task a wake-up of its own
// (never touching the parent's run inside the child's transaction); the scheduled wake-ups only
// cover a notification that was lost. A wake-up reads the child: still running, the task
// waits on; finished, it completes the task with {runId, workflowId, status, result, outputs}
// or, for a child that failed or was cancelled, fails the node with reason child_failed, and
// the node's onError and retries decide as for any node failure. With a timeoutMs
// (Policy.ChildTimeout), a child still in flight that long after it started fails the node
// with reason child_timeout and is cancelled; the wake-ups are scheduled no later than then.
// Ending the parent run (cancel, failure, deadline) cancels its children that are still in
// flight, after commit, through the same abort path, so grandchildren follow.

// Defaults of the sub-workflow settings.
const (
	// DefaultMaxInvokeDepth is Config.MaxInvokeDepth's default.
	DefaultMaxInvokeDepth = 8
	// MaxInvokeDepthLimit bounds Config.MaxInvokeDepth.
	MaxInvokeDepthLimit = 100
	// DefaultInvokePollInterval is Config.InvokePollInterval's default.
	DefaultInvokePollInterval = 30 * time.Second
)

// AbortCauseParent: the run's parent run ended (cancelled, failed or past its deadline) while
// the run was in flight.
const AbortCauseParent = "parent"

// WaitChild is the wait of a task woken because its child run finished (Claim.Wait).
const WaitChild = "child"

// InvokeParent is the task a child run is started by, and the child's nesting depth.
type InvokeParent struct {
	TaskID string
	Depth  int
}

// InvokeQuery resolves what an invokeWorkflow node starts: workflow WorkflowID at version
// Version (0: current), from a task of run ParentRunID.
type InvokeQuery struct {
	ParentRunID string
	WorkflowID  string
	Version     int
}

// InvokeTarget is the version a child run executes and the nesting depth of its parent run.
type InvokeTarget struct {
	VersionID   string
	ParentDepth int
}

// ChildQuery reads the child run a task started under an idempotency key. With
// MaxOutputBytes above 0 the outputs of a succeeded child's nodes are read too, up to about
// that many bytes.
type ChildQuery struct {
	ParentTaskID   string
	Key            string
	MaxOutputBytes int
}

// ChildRun is a child run as its parent task sees it.
type ChildRun struct {
	RunID      string
	WorkflowID string
	Status     string
	Error      string
	Result     json.RawMessage
	// StartedAt is when the child run was created: an invokeWorkflow node's timeoutMs counts
	// from it, so a redelivery of the task does not restart the timeout.
	StartedAt time.Time
	// Outputs are the outputs of the child's completed nodes by node id (element tasks of a
	// forEach node left out: the forEach node's output holds them), read for a succeeded child
	// when asked; OutputsTooLarge is set instead when they go over the bound.
	Outputs         map[string]json.RawMessage
	OutputsTooLarge bool
}

// invokeKey is the idempotency key of the child run of one attempt of a task.
func invokeKey(taskID string, attempt int) string {
	return fmt.Sprintf("invoke:%s:%d", taskID, attempt)
}

// invokeView is an invokeWorkflow task's output: while it waits, the child run and status
// running; once the child succeeded, its result and the outputs of its nodes.
type invokeView struct {
	RunID      string                     `json:"runId"`
	WorkflowID string                     `json:"workflowId"`
	Status     string                     `json:"status"`
	TimeoutAt  *time.Time                 `json:"timeoutAt,omitempty"`
	Result     json.RawMessage            `json:"result,omitempty"`
	Outputs    map[string]json.RawMessage `json:"outputs,omitempty"`
}

func versionText(version int) string {
	if version > 0 {
		return fmt.Sprintf(" version %d", version)
	}
	return ""
}

// invoke starts (or, on a redelivery, finds) the child run of a claimed invokeWorkflow task
// and parks the task until the child finishes.
func (e *Engine) invoke(ctx context.Context, c Claim, g *workflow.Graph, node workflow.Node, p nodes.Policy, out nodes.Output) (Execution, error) {
	inv := out.Invoke
	refuse := func(reason string, err error) (Execution, error) {
		return e.handleError(ctx, c, g, node, p, &nodes.Error{Reason: reason, Err: err, Logs: out.Logs})
	}
	target, err := e.store.InvokeTarget(ctx, InvokeQuery{ParentRunID: c.RunID, WorkflowID: inv.WorkflowID, Version: inv.Version})
	if errors.Is(err, workflow.ErrNotFound) {
		return refuse("child_not_found", fmt.Errorf("workflow %s%s does not exist", inv.WorkflowID, versionText(inv.Version)))
	}
	if err != nil {
		return Execution{}, fmt.Errorf("resolve workflow %s invoked by task %s: %w", inv.WorkflowID, c.TaskID, err)
	}
	depth := target.ParentDepth + 1
	if depth > e.cfg.MaxInvokeDepth {
		return refuse("invoke_depth", fmt.Errorf("invoking workflow %s would nest runs %d deep, more than the limit of %d (MAX_INVOKE_DEPTH)",
			inv.WorkflowID, depth, e.cfg.MaxInvokeDepth))
	}
	if len(inv.Input) > e.cfg.MaxOutputBytes {
		return refuse("input_too_large", fmt.Errorf("child input of %d bytes is larger than the limit of %d bytes", len(inv.Input), e.cfg.MaxOutputBytes))
	}
	key := invokeKey(c.TaskID, c.Attempt)
	// The fingerprint is the key itself: a redelivery finds the child whatever it renders.
	started, err := e.Start(ctx, StartRequest{WorkflowID: inv.WorkflowID, VersionID: target.VersionID, Input: inv.Input, IdempotencyKey: key,
		Fingerprint: []byte(key), Version: inv.Version, Parent: &InvokeParent{TaskID: c.TaskID, Depth: depth}})
	if errors.Is(err, workflow.ErrNotFound) {
		return refuse("child_not_found", fmt.Errorf("workflow %s%s does not exist", inv.WorkflowID, versionText(inv.Version)))
	}
	if err != nil {
		return Execution{}, fmt.Errorf("start workflow %s invoked by task %s: %w", inv.WorkflowID, c.TaskID, err)
	}
	now := e.now()
	due := now.Add(e.cfg.InvokePollInterval)
	var timeoutAt *time.Time
	if p.ChildTimeout > 0 {
		childStart := now
		if !started.Created {
			// A redelivery: the timeout counts from the child its first delivery started.
			child, err := e.store.ChildRun(ctx, ChildQuery{ParentTaskID: c.TaskID, Key: key})
			if err != nil {
				return Execution{}, fmt.Errorf("read child run of task %s: %w", c.TaskID, err)
			}
			childStart = child.StartedAt
		}
		at := childStart.Add(p.ChildTimeout)
		timeoutAt = &at
		if at.Before(due) {
			due = at
		}
	}
	view, err := json.Marshal(invokeView{RunID: started.RunID, WorkflowID: inv.WorkflowID, Status: workflow.RunRunning, TimeoutAt: timeoutAt})
	if err != nil {
		return Execution{}, fmt.Errorf("encode invoke output: %w", err)
	}
	msg := fmt.Sprintf("Started run %s of workflow %s; waiting for it to finish", started.RunID, inv.WorkflowID)
	if !started.Created {
		msg = fmt.Sprintf("Run %s of workflow %s was started by an earlier delivery; waiting for it to finish", started.RunID, inv.WorkflowID)
	}
	logs := append(e.nodeLogs(c, node, out.Logs), LogEntry{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogNodeOutput, At: now, Message: msg,
		Data: map[string]any{"name": node.Base.Name, "kind": "invoke", "runId": started.RunID, "workflowId": inv.WorkflowID, "depth": depth}})
	err = e.store.InRun(ctx, c.RunID, func(tx RunTx) error {
		if err := tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: workflow.TaskRunning, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
			To: workflow.TaskWaiting, Output: view, DueAt: due, Now: now}); err != nil {
			return err
		}
		return tx.AddLogs(ctx, logs)
	})
	waiting := Execution{Outcome: OutcomeWaiting}
	switch {
	case dropped(err):
		if errors.Is(err, ErrRunFinished) {
			// The parent run ended while the child was being started: its abort found no child
			// to cancel yet. (A lost race is a redelivery that parks on the same child.)
			e.cancelChildren(ctx, []string{c.TaskID})
		}
		return waiting, errDropped
	case errors.Is(err, ErrUnstorable):
		return failed("unstorable", "the database refused the invoke's logs: "+err.Error()), e.failUnstorable(ctx, c, workflow.TaskRunning, "invoke logs", err)
	case err != nil:
		return waiting, fmt.Errorf("park task %s: %w", c.TaskID, err)
	}
	ref := TaskRef{TaskID: c.TaskID, RunID: c.RunID, Kind: KindWake, NodeType: c.NodeType, TraceContext: e.traceParent(ctx, c.TraceContext)}
	if _, err := e.queue.Enqueue(ctx, ref, due); err != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "schedule child check failed; the reconciler will retry", append(c.LogAttrs(), slog.Any(LogError, err))...)
	}
	// A child that finished before the task was waiting had no waiting task to wake.
	if child, err := e.store.ChildRun(ctx, ChildQuery{ParentTaskID: c.TaskID, Key: key}); err == nil && workflow.RunTerminal(child.Status) {
		e.notifyParent(ctx, c.TaskID, c.RunID, c.TraceContext)
	}
	return waiting, nil
}

// wakeInvoke handles a wake-up of a task waiting for its child run: a child in flight leaves it
// waiting (a scheduled check is scheduled again; a notification ahead of it is dropped), a
// finished one completes or fails it.
func (e *Engine) wakeInvoke(ctx context.Context, c Claim) error {
	started := e.now()
	child, err := e.store.ChildRun(ctx, ChildQuery{ParentTaskID: c.TaskID, Key: invokeKey(c.TaskID, c.Attempt), MaxOutputBytes: e.cfg.MaxOutputBytes})
	missing := errors.Is(err, workflow.ErrNotFound)
	if err != nil && !missing {
		return fmt.Errorf("read child run of task %s: %w", c.TaskID, err)
	}
	if !missing && !workflow.RunTerminal(child.Status) {
		timeout, err := e.childTimeout(ctx, c)
		if err != nil {
			return err
		}
		deadline := child.StartedAt.Add(timeout)
		if timeout > 0 && !started.Before(deadline) {
			return e.endInvoke(ctx, c, started, child, false)
		}
		if c.DueAt.After(started) {
			return nil // its scheduled check stays scheduled
		}
		due := started.Add(e.cfg.InvokePollInterval)
		if timeout > 0 && deadline.Before(due) {
			due = deadline
		}
		err = e.store.InRun(ctx, c.RunID, func(tx RunTx) error {
			return tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: workflow.TaskWaiting, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
				To: workflow.TaskWaiting, DueAt: due, Now: started})
		})
		if dropped(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reschedule child check of task %s: %w", c.TaskID, err)
		}
		return &RetryLater{Delay: due.Sub(started), Err: fmt.Errorf("child run %s of task %s is %s", child.RunID, c.TaskID, child.Status)}
	}
	return e.endInvoke(ctx, c, started, child, missing)
}

// childTimeout is the timeoutMs of a waiting invokeWorkflow task's node (0: none, also when
// its node or policy is unusable, which childFinished reports once the child finished).
func (e *Engine) childTimeout(ctx context.Context, c Claim) (time.Duration, error) {
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return 0, fmt.Errorf("load version %s: %w", c.VersionID, err)
	}
	pn, ok := v.node(c.NodeID)
	if !ok {
		return 0, nil
	}
	p, err := pn.nodePolicy()
	if err != nil {
		return 0, nil
	}
	return p.ChildTimeout, nil
}

// endInvoke ends the wait of an invokeWorkflow task whose child finished, no longer exists or
// (still in flight) outlived the node's timeout, observed as the task's execution.
func (e *Engine) endInvoke(ctx context.Context, c Claim, started time.Time, child ChildRun, missing bool) error {
	e.describe(ctx, &c)
	c.Wait = WaitChild
	e.obs.TaskClaimed(ctx, c, max(0, started.Sub(c.DueAt)))
	x, err := e.childFinished(ctx, c, child, missing)
	if errors.Is(err, errDropped) {
		x.Outcome, err = OutcomeDropped, nil
	}
	if x.Outcome != "" {
		x.Duration = e.now().Sub(started)
		e.obs.TaskExecuted(ctx, c, x)
	}
	return err
}

// childFinished completes a waiting invokeWorkflow task with its finished child's result, or
// fails the node when the child did not succeed or, still in flight, outlived the node's
// timeout (then cancelling it once the failure committed).
func (e *Engine) childFinished(ctx context.Context, c Claim, child ChildRun, missing bool) (Execution, error) {
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return Execution{}, fmt.Errorf("load version %s: %w", c.VersionID, err)
	}
	pn, ok := v.node(c.NodeID)
	if !ok {
		msg := fmt.Sprintf("node %q is not in workflow version %s", c.NodeID, c.VersionID)
		return failed("config", msg), e.failFrom(ctx, c, workflow.TaskWaiting, "config", msg, nil)
	}
	policy, err := pn.nodePolicy()
	if err != nil {
		msg := fmt.Sprintf("node %q: %v", c.NodeID, err)
		return failed("config", msg), e.failFrom(ctx, c, workflow.TaskWaiting, "config", msg, nil)
	}
	fail := func(xe *nodes.Error) (Execution, error) {
		return e.handleErrorFrom(ctx, c, workflow.TaskWaiting, v.graph, pn.node, policy, xe)
	}
	if missing {
		return fail(&nodes.Error{Reason: "child_failed", Err: fmt.Errorf("the child run of attempt %d no longer exists", c.Attempt)})
	}
	if !workflow.RunTerminal(child.Status) {
		err := fmt.Errorf("child run %s of workflow %s did not finish within %s (timeoutMs)", child.RunID, child.WorkflowID, policy.ChildTimeout)
		x, ferr := fail(&nodes.Error{Reason: "child_timeout", Retryable: true, Err: err,
			Output: map[string]any{"error": err.Error(), "runId": child.RunID, "workflowId": child.WorkflowID, "status": child.Status}})
		if ferr == nil {
			e.cancelChild(ctx, child.RunID, "Workflow run cancelled: the node that invoked it timed out")
		}
		return x, ferr
	}
	if child.Status != workflow.RunSucceeded {
		cause := child.Error
		if cause == "" {
			cause = "no error recorded"
		}
		err := fmt.Errorf("child run %s of workflow %s %s: %s", child.RunID, child.WorkflowID, child.Status, truncate(cause, maxCauseBytes))
		return fail(&nodes.Error{Reason: "child_failed", Retryable: child.Status == workflow.RunFailed, Err: err,
			Output: map[string]any{"error": err.Error(), "runId": child.RunID, "workflowId": child.WorkflowID, "status": child.Status, "result": child.Result}})
	}
	tooLarge := func(size string) (Execution, error) {
		return fail(&nodes.Error{Reason: "output_too_large",
			Err: fmt.Errorf("outputs of child run %s are %s than the limit of %d bytes", child.RunID, size, e.cfg.MaxOutputBytes)})
	}
	if child.OutputsTooLarge {
		return tooLarge("larger")
	}
	payload, err := json.Marshal(invokeView{RunID: child.RunID, WorkflowID: child.WorkflowID, Status: child.Status, Result: child.Result,
		Outputs: nonNil(child.Outputs)})
	if err != nil {
		return Execution{}, fmt.Errorf("encode child result: %w", err)
	}
	if len(payload) > e.cfg.MaxOutputBytes {
		return tooLarge(fmt.Sprintf("%d bytes with the result, more", len(payload)))
	}
	logs := []LogEntry{{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogNodeOutput, At: e.now(),
		Message: fmt.Sprintf("Child run %s of workflow %s succeeded", child.RunID, child.WorkflowID),
		Data:    map[string]any{"name": pn.node.Base.Name, "kind": "invoke", "runId": child.RunID}}}
	return Execution{Outcome: OutcomeCompleted}, e.complete(ctx, c, v.graph, TaskFinish{From: workflow.TaskWaiting, Output: payload}, logs)
}

func nonNil(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return map[string]json.RawMessage{}
	}
	return m
}

// notifyParent wakes the task that started a child run once the child's terminal transition
// committed, under a delivery id of its own (TaskRef.Notify) so a scheduled check does not
// absorb it. A lost notification is made up for by the task's scheduled checks.
func (e *Engine) notifyParent(ctx context.Context, parentTaskID, parentRunID, fallbackTrace string) {
	ref := TaskRef{TaskID: parentTaskID, RunID: parentRunID, Kind: KindWake, Notify: true, NodeType: workflow.TypeInvokeWorkflow,
		TraceContext: e.traceParent(ctx, fallbackTrace)}
	if _, err := e.queue.Enqueue(ctx, ref, time.Time{}); err != nil {
		e.log.WarnContext(ctx, "wake-up of a parent task failed; its next check picks the child's end up", LogTaskID, parentTaskID, LogRunID, parentRunID, LogError, err)
	}
}

// invokeTasks returns the ids of the aborted tasks (and the failing task) that may have a
// child run in flight.
func invokeTasks(a runAbort, aborted []AbortedTask) []string {
	var ids []string
	if a.finish != nil && a.finishType == workflow.TypeInvokeWorkflow {
		ids = append(ids, a.finish.TaskID)
	}
	for _, t := range aborted {
		if t.NodeType == workflow.TypeInvokeWorkflow && (t.FromStatus == workflow.TaskWaiting || t.FromStatus == workflow.TaskRunning) {
			ids = append(ids, t.TaskID)
		}
	}
	return ids
}

// cancelChildren cancels the child runs in flight of the given tasks, each through the normal
// abort path (so their own children follow). It runs after the parent's transition committed
// and outlives the request that ended the parent.
func (e *Engine) cancelChildren(ctx context.Context, taskIDs []string) {
	if len(taskIDs) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	children, err := e.store.ChildRuns(ctx, taskIDs)
	if err != nil {
		e.log.WarnContext(ctx, "list child runs to cancel failed", LogError, err)
		return
	}
	for _, id := range children {
		e.cancelChild(ctx, id, "Workflow run cancelled: the run that invoked it ended")
	}
}

// cancelChild cancels a child run through the normal abort path (so its own children follow),
// logging why in the child; a child that already finished is left alone.
func (e *Engine) cancelChild(ctx context.Context, runID, why string) {
	ctx = context.WithoutCancel(ctx)
	now := e.now()
	err := e.abortRun(ctx, runID, runAbort{cancelAll: true, cause: AbortCauseParent, status: workflow.RunCancelled, extra: map[string]any{"cancelled": true},
		logs: []LogEntry{{RunID: runID, Type: workflow.LogSystem, Message: why, At: now}}}, now)
	if err != nil && !dropped(err) {
		e.log.WarnContext(ctx, "cancel child run failed", LogRunID, runID, LogError, err)
	}
}
