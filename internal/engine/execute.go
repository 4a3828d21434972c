package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
// With eager dispatch on, the delivery then executes the tasks its transitions claimed
// (eager.go) before it returns.
func (e *Engine) Execute(ctx context.Context, ref TaskRef) error {
	ctx, s := e.withSlot(ctx)
	defer e.drain(ctx, s)
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
	return e.run(ctx, c)
}

// run executes a claimed task's node and records its outcome. It returns a *RetryLater for a
// retry and an error for a delivery that ended without an outcome (recorded as an
// interruption, so the next delivery takes the task over).
func (e *Engine) run(ctx context.Context, c Claim) (err error) {
	started := e.now()
	e.describe(ctx, &c)
	c.Wait = claimWait(c)
	e.obs.TaskClaimed(ctx, c, max(0, started.Sub(c.DueAt)))
	var x Execution
	defer func() {
		if r := recover(); r != nil {
			x, err = Execution{Outcome: OutcomeDropped, Reason: "panic"}, e.interrupted(ctx, c, fmt.Errorf("%w: %v", errPanic, r))
			e.log.LogAttrs(ctx, slog.LevelError, "task delivery panicked", append(c.LogAttrs(),
				slog.String("panic", truncate(fmt.Sprint(r), maxCauseBytes)), slog.String("stack", truncate(string(debug.Stack()), 4<<10)))...)
		}
		if x.Outcome != "" {
			x.Duration = e.now().Sub(started)
			e.obs.TaskExecuted(ctx, c, x)
		}
	}()
	if c.Redelivered {
		x, err = e.redelivered(ctx, c)
	}
	if x.Outcome == "" && err == nil {
		x, err = e.execute(ctx, c)
	}
	switch {
	case errors.Is(err, errDropped):
		x.Outcome, err = OutcomeDropped, nil
	case errors.Is(err, errUnstored):
		x, err = failed("unstorable", "the database refused the values of the task's transition"), nil
	}
	var retry *RetryLater
	if err != nil && !errors.As(err, &retry) {
		// The delivery ends without an outcome: the queue delivers it again, and the next
		// claim counts a redelivery.
		if x.Outcome == "" || x.Outcome == OutcomeCompleted || x.Outcome == OutcomeContinued || x.Outcome == OutcomeWaiting {
			x = Execution{Outcome: OutcomeFailed, Reason: "internal"}
		}
		err = e.interrupted(ctx, c, err)
	}
	return err
}

// failed is the Execution of a task failed for reason, with msg (as stored) saying why.
func failed(reason, msg string) Execution {
	return Execution{Outcome: OutcomeFailed, Reason: reason, Error: msg}
}

// execute runs a claimed task's node and records the outcome; it returns the outcome, the
// failure reason and message for telemetry.
func (e *Engine) execute(ctx context.Context, c Claim) (Execution, error) {
	if !c.Deadline.IsZero() && e.now().After(c.Deadline) {
		return Execution{Outcome: OutcomeDropped, Reason: "run_deadline"}, e.endRun(ctx, c.RunID, "run deadline exceeded")
	}
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return Execution{}, fmt.Errorf("load version %s: %w", c.VersionID, err)
	}
	g := v.graph
	prepared, ok := v.node(c.NodeID)
	if !ok {
		msg := fmt.Sprintf("node %q is not in workflow version %s", c.NodeID, c.VersionID)
		return failed("config", msg), e.fail(ctx, c, "config", msg, nil)
	}
	node, exec := prepared.node, prepared.exec
	if exec == nil {
		msg := fmt.Sprintf("node %q has type %q, which this worker does not know", c.NodeID, c.NodeType)
		return failed("unknown_type", msg), e.fail(ctx, c, "unknown_type", msg, nil)
	}
	policy, err := prepared.nodePolicy()
	if err != nil {
		msg := fmt.Sprintf("node %q: %v", c.NodeID, err)
		return failed("config", msg), e.fail(ctx, c, "config", msg, nil)
	}
	scope, err := e.scope(ctx, c, prepared.refs)
	if err != nil {
		return Execution{}, fmt.Errorf("load context of task %s: %w", c.TaskID, err)
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
			return Execution{Outcome: OutcomeDropped, Reason: "cancelled"}, ctx.Err()
		}
		return e.handleError(ctx, c, g, node, policy, nodes.AsError(execErr))
	}
	logs := e.nodeLogs(c, node, out.Logs)
	if out.Elements != nil {
		return e.spawn(ctx, c, g, prepared, out, logs)
	}
	if out.Wait > 0 {
		return Execution{Outcome: OutcomeWaiting}, e.park(ctx, c, out, logs)
	}
	if out.Invoke != nil {
		return e.invoke(ctx, c, g, node, policy, out)
	}
	payload, err := json.Marshal(out.Payload)
	if err != nil {
		msg := fmt.Sprintf("node %q produced an output that is not JSON: %v", node.ID, err)
		return failed("output", msg), e.fail(ctx, c, "output", msg, logs)
	}
	if len(payload) > e.cfg.MaxOutputBytes {
		return e.handleError(ctx, c, g, node, policy, &nodes.Error{Reason: "output_too_large", Logs: out.Logs,
			Err: fmt.Errorf("output of %d bytes is larger than the limit of %d bytes", len(payload), e.cfg.MaxOutputBytes)})
	}
	return Execution{Outcome: OutcomeCompleted}, e.complete(ctx, c, g, TaskFinish{From: workflow.TaskRunning, Output: payload, Handles: out.Handles}, logs)
}

// Wake completes a task parked by a delay node once its wait is over, and a wait node's task
// whose timeout passed before an event, on its "out-timeout" handle.
func (e *Engine) Wake(ctx context.Context, ref TaskRef) error {
	ctx, s := e.withSlot(ctx)
	defer e.drain(ctx, s)
	c, err := e.store.WaitingTask(ctx, ref.TaskID)
	if errors.Is(err, ErrNotClaimable) || errors.Is(err, workflow.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load waiting task %s: %w", ref.TaskID, err)
	}
	if c.NodeType == workflow.TypeForEach {
		return nil // a forEach task waits for its elements, which complete it
	}
	if c.NodeType == workflow.TypeInvokeWorkflow {
		return e.wakeInvoke(ctx, c) // a task waiting for its child run
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
	finish, logs := TaskFinish{From: workflow.TaskWaiting}, []LogEntry(nil)
	if c.NodeType == workflow.TypeWait {
		finish, logs = timedOut(c, e.now())
	}
	err = e.complete(ctx, c, g, finish, logs)
	outcome := OutcomeCompleted
	if errors.Is(err, errDropped) {
		outcome, err = OutcomeDropped, nil
	} else if err == nil && c.NodeType == workflow.TypeWait {
		e.waitEnded(ctx, c.NodeType, WaitTimedOut)
	}
	e.obs.TaskExecuted(ctx, c, Execution{Outcome: outcome, Duration: e.now().Sub(started)})
	return err
}

func (e *Engine) handleError(ctx context.Context, c Claim, g *workflow.Graph, node workflow.Node, p nodes.Policy, xe *nodes.Error) (Execution, error) {
	return e.handleErrorFrom(ctx, c, workflow.TaskRunning, g, node, p, xe)
}

// handleErrorFrom is handleError for a task in status from: running for an execution, or
// waiting for a task woken to find that what it waited for failed (an invokeWorkflow task's
// child run), whose retry no queue delivery is left to carry.
func (e *Engine) handleErrorFrom(ctx context.Context, c Claim, from string, g *workflow.Graph, node workflow.Node, p nodes.Policy, xe *nodes.Error) (Execution, error) {
	if xe.Throttled && from == workflow.TaskRunning {
		return e.throttle(ctx, c, g, node, p, xe)
	}
	logs := e.nodeLogs(c, node, xe.Logs)
	if xe.Retryable && c.Attempt <= p.Retries {
		delay := e.backoff(c.Attempt, xe.RetryAfter)
		now := e.now()
		logs = append(logs, LogEntry{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogError, At: now,
			Message: fmt.Sprintf("Attempt %d of %d failed: %v; retrying in %s", c.Attempt, p.Retries+1, xe.Err, delay.Round(time.Millisecond)),
			Data:    map[string]any{"reason": xe.Reason, "attempt": c.Attempt}})
		err := e.store.InRun(ctx, c.RunID, func(tx RunTx) error {
			if err := tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: from, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
				To: workflow.TaskQueued, Error: xe.Err.Error(), DueAt: now.Add(delay), Now: now}); err != nil {
				return err
			}
			return tx.AddLogs(ctx, logs)
		})
		retry := Execution{Outcome: OutcomeRetry, Reason: xe.Reason, Error: xe.Err.Error(), RetryIn: delay}
		if dropped(err) {
			return retry, errDropped
		}
		if errors.Is(err, ErrUnstorable) {
			return failed("unstorable", "the database refused to store the retry: "+err.Error()), e.failUnstorable(ctx, c, from, "retry", err)
		}
		if err != nil {
			return retry, fmt.Errorf("schedule retry of task %s: %w", c.TaskID, err)
		}
		if from != workflow.TaskRunning {
			ref := TaskRef{TaskID: c.TaskID, RunID: c.RunID, Kind: KindExecute, NodeType: c.NodeType, TraceContext: e.traceParent(ctx, c.TraceContext)}
			if _, err := e.queue.Enqueue(ctx, ref, now.Add(delay)); err != nil {
				e.log.LogAttrs(ctx, slog.LevelWarn, "schedule retry failed; the reconciler will retry", append(c.LogAttrs(), slog.Any(LogError, err))...)
			}
			return retry, nil
		}
		return retry, &RetryLater{Delay: delay, Err: xe}
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
		continued := Execution{Outcome: OutcomeContinued, Reason: xe.Reason, Error: msg}
		payload, err := json.Marshal(out)
		if err != nil {
			return continued, fmt.Errorf("encode error payload: %w", err)
		}
		var handles []string
		if workflow.Branching(node.Base.Type) {
			handles = []string{} // a failed branch decision takes no branch
		}
		return continued, e.complete(ctx, c, g, TaskFinish{From: from, Output: payload, Handles: handles,
			Error: msg, Outcome: TaskOutcomeFailedContinued}, logs)
	}
	return failed(xe.Reason, msg), e.failFrom(ctx, c, from, xe.Reason, fmt.Sprintf("Node %s failed: %s", c.NodeID, msg), logs)
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
