package engine

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// DefaultThrottleMaxWait is Config.ThrottleMaxWait unless set.
const DefaultThrottleMaxWait = 5 * time.Minute

// ReasonThrottleTimeout is the failure reason of a call held back by its host's limits for
// longer than Config.ThrottleMaxWait.
const ReasonThrottleTimeout = "throttle_timeout"

// throttle puts a task whose call its host's limits held back (nothing was sent) in the queue
// again for after the limiter's wait, like a retry but without counting an attempt, so a node
// with retries 0 still gets its one real attempt. The worker slot is free meanwhile. Past
// Config.ThrottleMaxWait since the attempt was first held back the node fails with
// ReasonThrottleTimeout, and its onError decides. The first throttle of an attempt writes one
// info run log line; later ones only a debug log (the observer's).
func (e *Engine) throttle(ctx context.Context, c Claim, g *workflow.Graph, node workflow.Node, p nodes.Policy, xe *nodes.Error) (Execution, error) {
	now := e.now()
	since := c.ThrottledSince
	if since.IsZero() {
		since = now
	}
	delay := throttleDelay(xe.RetryAfter)
	if waited := now.Sub(since); waited+delay > e.cfg.ThrottleMaxWait {
		msg := fmt.Sprintf("gave up waiting for the limits of the call's target after %s (THROTTLE_MAX_WAIT is %s): %v",
			waited.Round(time.Millisecond), e.cfg.ThrottleMaxWait, xe.Err)
		giveUp := &nodes.Error{Reason: ReasonThrottleTimeout, Err: fmt.Errorf("%s", msg)}
		if out, ok := xe.Output.(map[string]any); ok {
			out = maps.Clone(out)
			out["error"] = msg
			giveUp.Output = out
		}
		return e.handleError(ctx, c, g, node, p, giveUp)
	}
	var logs []LogEntry
	if c.ThrottledSince.IsZero() {
		logs = append(logs, LogEntry{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogInfo, At: now,
			Message: fmt.Sprintf("Call held back: %v. Waiting for the host's limits does not count as an attempt (attempt %d of %d); giving up after %s.",
				xe.Err, c.Attempt, p.Retries+1, e.cfg.ThrottleMaxWait),
			Data: map[string]any{"reason": xe.Reason, "attempt": c.Attempt, "waitMs": delay.Milliseconds()}})
	}
	err := e.store.InRun(ctx, c.RunID, func(tx RunTx) error {
		if err := tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: workflow.TaskRunning, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
			To: workflow.TaskQueued, Error: xe.Err.Error(), DueAt: now.Add(delay), Now: now, ThrottledSince: since}); err != nil {
			return err
		}
		return tx.AddLogs(ctx, logs)
	})
	x := Execution{Outcome: OutcomeThrottled, Reason: xe.Reason, Error: xe.Err.Error(), RetryIn: delay}
	if dropped(err) {
		return x, errDropped
	}
	if err != nil {
		return x, fmt.Errorf("schedule throttled task %s: %w", c.TaskID, err)
	}
	return x, &RetryLater{Delay: delay, Err: xe}
}

// throttleDelay is the limiter's wait plus up to half of it again (at least 50 ms), so the
// calls a host held back at once do not all come back at once.
func throttleDelay(wait time.Duration) time.Duration {
	wait = max(wait, 50*time.Millisecond)
	return wait + time.Duration(rand.Int64N(int64(wait/2)+1))
}
