package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// RetryLater is returned to the queue when a node failed with a retryable error and has
// attempts left: the queue redelivers the task after Delay.
type RetryLater struct {
	Delay time.Duration
	Err   error
}

func (r *RetryLater) Error() string {
	return fmt.Sprintf("retry in %s: %v", r.Delay, r.Err)
}

func (r *RetryLater) Unwrap() error { return r.Err }

// Execute handles one delivery of a task: claim it, run its node, and record the outcome.
// A delivery that cannot be claimed (terminal task, finished run, duplicate) is dropped with a
// nil error, so each engine transition happens once however often a task is delivered.
func (e *Engine) Execute(ctx context.Context, ref TaskRef) (err error) {
	if e.nodes.Inline(ref.NodeType) {
		if handled, err := e.executeInline(ctx, ref); handled {
			return err
		}
	}
	if _, busy := e.inflight.LoadOrStore(ref.TaskID, struct{}{}); busy {
		return nil // this process is executing the task already; that delivery records its outcome
	}
	defer e.inflight.Delete(ref.TaskID)
	c, err := e.store.ClaimTask(ctx, ref.TaskID, e.cfg.WorkerID, e.now())
	if errors.Is(err, ErrNotClaimable) || errors.Is(err, workflow.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	started := e.now()
	e.describe(ctx, &c)
	c.Wait = claimWait(c)
	e.obs.TaskClaimed(ctx, c, max(0, started.Sub(c.DueAt)))
	var outcome, reason string
	defer func() {
		if r := recover(); r != nil {
			outcome, reason, err = OutcomeDropped, "panic", e.interrupted(ctx, c, fmt.Errorf("%w: %v", errPanic, r))
			e.log.ErrorContext(ctx, "task delivery panicked", "task_id", c.TaskID, "run_id", c.RunID, "node_type", c.NodeType,
				"panic", truncate(fmt.Sprint(r), maxCauseBytes), "stack", truncate(string(debug.Stack()), 4<<10))
		}
		if outcome != "" {
			e.obs.TaskExecuted(ctx, c.NodeType, outcome, reason, e.now().Sub(started))
		}
	}()
	if c.Redelivered {
		outcome, reason, err = e.redelivered(ctx, c)
	}
	if outcome == "" && err == nil {
		outcome, reason, err = e.execute(ctx, c)
	}
	switch {
	case errors.Is(err, errDropped):
		outcome, err = OutcomeDropped, nil
	case errors.Is(err, errUnstored):
		outcome, reason, err = OutcomeFailed, "unstorable", nil
	}
	var retry *RetryLater
	if err != nil && !errors.As(err, &retry) {
		// The delivery ends without an outcome: the queue delivers it again, and the next
		// claim counts a redelivery.
		if outcome == "" || outcome == OutcomeCompleted || outcome == OutcomeContinued || outcome == OutcomeWaiting {
			outcome, reason = OutcomeFailed, "internal"
		}
		err = e.interrupted(ctx, c, err)
	}
	return err
}

// execute runs a claimed task's node and records the outcome; it returns the outcome and the
// failure reason for telemetry.
func (e *Engine) execute(ctx context.Context, c Claim) (outcome, reason string, err error) {
	if !c.Deadline.IsZero() && e.now().After(c.Deadline) {
		return OutcomeDropped, "run_deadline", e.endRun(ctx, c.RunID, "run deadline exceeded")
	}
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return "", "", fmt.Errorf("load version %s: %w", c.VersionID, err)
	}
	g := v.graph
	prepared, ok := v.nodes[c.NodeID]
	if !ok {
		return OutcomeFailed, "config", e.fail(ctx, c, "config", fmt.Sprintf("node %q is not in workflow version %s", c.NodeID, c.VersionID), nil)
	}
	node, exec := prepared.node, prepared.exec
	if exec == nil {
		return OutcomeFailed, "unknown_type", e.fail(ctx, c, "unknown_type", fmt.Sprintf("node %q has type %q, which this worker does not know", c.NodeID, c.NodeType), nil)
	}
	policy, err := nodes.ParsePolicy(c.NodeType, node.Base.Config, e.cfg.NodeTimeout)
	if err != nil {
		return OutcomeFailed, "config", e.fail(ctx, c, "config", fmt.Sprintf("node %q: %v", c.NodeID, err), nil)
	}
	scope, err := e.scope(ctx, c, prepared.refs)
	if err != nil {
		return "", "", fmt.Errorf("load context of task %s: %w", c.TaskID, err)
	}

	execCtx, cancel := context.WithTimeout(ctx, policy.Timeout)
	out, execErr := exec.Execute(execCtx, nodes.Input{
		NodeID: node.ID, NodeName: node.Base.Name, Attempt: c.Attempt, Config: node.Base.Config, Scope: scope,
		Meter: expr.NewMeter(e.cfg.EvalBudget),
	})
	cancel()
	if execErr != nil {
		if ctx.Err() != nil {
			// Shutdown or cancel: the queue hands the task back; a cancelled run drops it.
			return OutcomeDropped, "cancelled", ctx.Err()
		}
		return e.handleError(ctx, c, g, node, policy, nodes.AsError(execErr))
	}
	logs := e.nodeLogs(c, node, out.Logs)
	if out.Wait > 0 {
		return OutcomeWaiting, "", e.park(ctx, c, out, logs)
	}
	payload, err := json.Marshal(out.Payload)
	if err != nil {
		return OutcomeFailed, "output", e.fail(ctx, c, "output", fmt.Sprintf("node %q produced an output that is not JSON: %v", node.ID, err), logs)
	}
	if len(payload) > e.cfg.MaxOutputBytes {
		return e.handleError(ctx, c, g, node, policy, &nodes.Error{Reason: "output_too_large", Logs: out.Logs,
			Err: fmt.Errorf("output of %d bytes is larger than the limit of %d bytes", len(payload), e.cfg.MaxOutputBytes)})
	}
	return OutcomeCompleted, "", e.complete(ctx, c, g, TaskFinish{From: workflow.TaskRunning, Output: payload, Handles: out.Handles}, logs)
}

// Wake completes a task parked by a delay node once its wait is over.
func (e *Engine) Wake(ctx context.Context, ref TaskRef) error {
	c, err := e.store.WaitingTask(ctx, ref.TaskID)
	if errors.Is(err, ErrNotClaimable) || errors.Is(err, workflow.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load waiting task %s: %w", ref.TaskID, err)
	}
	started := e.now()
	if early := c.DueAt.Sub(started); early > 0 {
		// Delivered before the delay is over: have the queue deliver it again when it is due.
		return &RetryLater{Delay: early, Err: fmt.Errorf("wake-up of task %s is %s early", c.TaskID, early)}
	}
	e.describe(ctx, &c)
	c.Wait = WaitDelay
	e.obs.TaskClaimed(ctx, c, max(0, started.Sub(c.DueAt)))
	g, err := e.graph(ctx, c.VersionID)
	if err != nil {
		return fmt.Errorf("load version %s: %w", c.VersionID, err)
	}
	err = e.complete(ctx, c, g, TaskFinish{From: workflow.TaskWaiting}, nil)
	outcome := OutcomeCompleted
	if errors.Is(err, errDropped) {
		outcome, err = OutcomeDropped, nil
	}
	e.obs.TaskExecuted(ctx, c.NodeType, outcome, "", e.now().Sub(started))
	return err
}

func (e *Engine) handleError(ctx context.Context, c Claim, g *workflow.Graph, node workflow.Node, p nodes.Policy, xe *nodes.Error) (outcome, reason string, err error) {
	logs := e.nodeLogs(c, node, xe.Logs)
	if xe.Retryable && c.Attempt <= p.Retries {
		delay := e.backoff(c.Attempt, xe.RetryAfter)
		now := e.now()
		logs = append(logs, LogEntry{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogError, At: now,
			Message: fmt.Sprintf("Attempt %d of %d failed: %v; retrying in %s", c.Attempt, p.Retries+1, xe.Err, delay.Round(time.Millisecond)),
			Data:    map[string]any{"reason": xe.Reason, "attempt": c.Attempt}})
		err := e.store.InRun(ctx, c.RunID, func(tx RunTx) error {
			if err := tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: workflow.TaskRunning, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
				To: workflow.TaskQueued, Error: xe.Err.Error(), DueAt: now.Add(delay), Now: now}); err != nil {
				return err
			}
			return tx.AddLogs(ctx, logs)
		})
		if dropped(err) {
			return OutcomeRetry, xe.Reason, errDropped
		}
		if errors.Is(err, ErrUnstorable) {
			return OutcomeFailed, "unstorable", e.failUnstorable(ctx, c, workflow.TaskRunning, "retry", err)
		}
		if err != nil {
			return OutcomeRetry, xe.Reason, fmt.Errorf("schedule retry of task %s: %w", c.TaskID, err)
		}
		return OutcomeRetry, xe.Reason, &RetryLater{Delay: delay, Err: xe}
	}
	msg := xe.Err.Error()
	if xe.Retryable {
		msg = fmt.Sprintf("%s (after %d attempts)", msg, c.Attempt)
	}
	if p.OnError == nodes.OnErrorContinue {
		logs = append(logs, LogEntry{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogError, At: e.now(),
			Message: fmt.Sprintf("Node %s failed: %s; continuing (onError: continue)", c.NodeID, msg),
			Data:    map[string]any{"reason": xe.Reason, "outcome": TaskOutcomeFailedContinued}})
		out := xe.Output
		if out == nil {
			out = map[string]any{"error": msg}
		}
		payload, err := json.Marshal(out)
		if err != nil {
			return OutcomeContinued, xe.Reason, fmt.Errorf("encode error payload: %w", err)
		}
		var handles []string
		if workflow.Branching(node.Base.Type) {
			handles = []string{} // a failed branch decision takes no branch
		}
		return OutcomeContinued, xe.Reason, e.complete(ctx, c, g, TaskFinish{From: workflow.TaskRunning, Output: payload, Handles: handles,
			Error: msg, Outcome: TaskOutcomeFailedContinued}, logs)
	}
	return OutcomeFailed, xe.Reason, e.fail(ctx, c, xe.Reason, fmt.Sprintf("Node %s failed: %s", c.NodeID, msg), logs)
}

// backoff is exponential with ±20 % jitter, at least retryAfter, capped at RetryMaxDelay.
func (e *Engine) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := e.cfg.RetryBaseDelay
	for i := 1; i < attempt && d < e.cfg.RetryMaxDelay; i++ {
		d *= 2 // below RetryMaxDelay (validated), so doubling cannot overflow
	}
	d = min(d, e.cfg.RetryMaxDelay)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return max(d, retryAfter)
}

func (e *Engine) nodeLogs(c Claim, node workflow.Node, logs []nodes.Log) []LogEntry {
	now := e.now()
	out := make([]LogEntry, 0, len(logs)+1)
	for _, l := range logs {
		out = append(out, LogEntry{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogNodeOutput, Message: l.Message,
			Data: map[string]any{"name": node.Base.Name, "kind": l.Kind}, At: now})
	}
	return out
}
