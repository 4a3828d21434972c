package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// executeInline runs a pure node (no I/O: inputText, notification, ifElse, decision, delay,
// wait)
// with one write transaction: it reads the task, executes the node outside any transaction
// (rules and templates never run while the run is locked), then claims the task and records
// the result, resolves edges and settles the run, or parks a delay, in one transaction whose
// claim holds only if the task is still as it was read. Anything unusual — a failing node, a
// deadline — reports handled=false so the classic path (claim, execute, record) takes over; a
// pure node may run twice that way, with no effect outside the engine.
func (e *Engine) executeInline(ctx context.Context, ref TaskRef) (handled bool, err error) {
	c, err := e.store.PeekTask(ctx, ref.TaskID)
	switch {
	case errors.Is(err, ErrNotClaimable) || errors.Is(err, workflow.ErrNotFound):
		return true, nil
	case err != nil:
		return true, fmt.Errorf("read task %s: %w", ref.TaskID, err)
	}
	now := e.now()
	if c.Redelivered || !c.Deadline.IsZero() && now.After(c.Deadline) {
		return false, nil // the classic path counts a redelivery and its bound
	}
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return false, nil
	}
	prepared, ok := v.node(c.NodeID)
	if !ok || prepared.exec == nil || !e.nodes.Inline(c.NodeType) {
		return false, nil
	}
	node := prepared.node
	scope, err := e.scope(ctx, c, prepared.refs)
	if err != nil {
		return false, nil
	}
	c.WorkflowName, c.WorkflowVersion, c.NodeName, c.Wait = v.workflow.Name, v.workflow.Version, node.Base.Name, claimWait(c)
	e.obs.TaskClaimed(ctx, c, max(0, now.Sub(c.DueAt)))
	out, execErr := prepared.exec.Execute(ctx, nodes.Input{NodeID: node.ID, NodeName: node.Base.Name, Attempt: c.Attempt,
		Config: node.Base.Config, Scope: scope, Meter: expr.NewMeter(e.cfg.EvalBudget)})
	if execErr != nil {
		return false, nil
	}
	payload, err := json.Marshal(out.Payload)
	if err != nil || len(payload) > e.cfg.MaxOutputBytes {
		return false, nil
	}
	logs := e.nodeLogs(c, node, out.Logs)
	// The claim is FinishTask's guard: the task must still have the status and attempt it was
	// read with, or another delivery got to it first and this one is dropped.
	finish := TaskFinish{TaskID: c.TaskID, From: c.Status, Attempt: c.Attempt, Redeliveries: c.Redeliveries, Claim: true, StartedAt: now,
		Output: payload, Now: e.now()}
	var done completion
	outcome := OutcomeCompleted
	var wake *TaskRef
	var token *ResumeToken
	if out.Wait > 0 {
		finish.To, finish.DueAt = workflow.TaskWaiting, now.Add(out.Wait)
		if finish.Output, token, err = e.parking(c, out, finish.DueAt, finish.Now); err != nil {
			return false, nil
		}
	}
	err = e.completing(ctx, c.RunID, &done, func(tx RunTx) error {
		if out.Wait > 0 {
			if err := tx.FinishTask(ctx, finish); err != nil {
				return err
			}
			if token != nil {
				if err := tx.AddResumeToken(ctx, *token); err != nil {
					return err
				}
			}
			outcome = OutcomeWaiting
			wake = &TaskRef{TaskID: c.TaskID, RunID: c.RunID, Kind: KindWake, NodeType: c.NodeType}
			return tx.AddLogs(ctx, logs)
		}
		finish.To, finish.Handles = workflow.TaskCompleted, out.Handles
		return e.completeIn(ctx, tx, c, v.graph, finish, logs, &done)
	})
	switch {
	case errors.Is(err, ErrUnstorable):
		// The classic path executes the node again and fails it when its values are refused.
		return false, nil
	case dropped(err):
		e.obs.TaskExecuted(ctx, c, Execution{Outcome: OutcomeDropped, Duration: e.now().Sub(now)})
		return true, nil
	case err != nil:
		return true, fmt.Errorf("inline transition of task %s: %w", ref.TaskID, err)
	}
	if wake != nil {
		wake.TraceContext = e.traceParent(ctx, c.TraceContext)
		if _, err := e.queue.Enqueue(ctx, *wake, finish.DueAt); err != nil {
			e.log.LogAttrs(ctx, slog.LevelWarn, "schedule wake-up failed; the reconciler will retry", append(c.LogAttrs(), slog.Any(LogError, err))...)
		}
	} else {
		e.afterComplete(ctx, c, done, now)
	}
	e.obs.TaskExecuted(ctx, c, Execution{Outcome: outcome, Duration: e.now().Sub(now)})
	return true, nil
}
