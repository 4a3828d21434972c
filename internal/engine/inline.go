package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// errNotInline abandons the one-transaction path; the delivery then takes the classic path
// (claim, execute, record), which handles every case.
var errNotInline = errors.New("not eligible for the inline path")

// executeInline runs a pure node (no I/O: inputText, notification, ifElse, decision, delay) in
// one transaction: claim, execute, then record the result, resolve edges and settle the run,
// or park a delay. Anything unusual — a failing node, a deadline, a template that needs the
// run context — rolls back and reports handled=false so the classic path takes over; a pure
// node may run twice that way, with no effect outside the engine.
func (e *Engine) executeInline(ctx context.Context, ref TaskRef) (handled bool, err error) {
	now := e.now()
	var c Claim
	var done completion
	var outcome string
	var wake *TaskRef
	var wakeAt time.Time
	err = e.store.InRun(ctx, ref.RunID, func(tx RunTx) error {
		var err error
		if c, err = tx.ClaimInline(ctx, ref.TaskID); err != nil {
			return err
		}
		if !c.Deadline.IsZero() && now.After(c.Deadline) {
			return errNotInline
		}
		g, err := e.graph(ctx, c.VersionID)
		if err != nil {
			return errNotInline
		}
		node, ok := g.Node(c.NodeID)
		exec, known := e.registry.Executor(c.NodeType)
		if !ok || !known || !e.registry.Inline(c.NodeType) || needsRunContext(node) {
			return errNotInline
		}
		e.obs.TaskClaimed(ctx, c, max(0, now.Sub(c.DueAt)))
		in := nodes.Input{NodeID: node.ID, NodeName: node.Base.Name, Attempt: c.Attempt, Config: node.Base.Config}
		if len(c.Input) > 0 {
			if err := json.Unmarshal(c.Input, &in.Scope.Payload); err != nil {
				return errNotInline
			}
		}
		out, execErr := exec.Execute(ctx, in)
		if execErr != nil {
			return errNotInline
		}
		payload, err := json.Marshal(out.Payload)
		if err != nil || len(payload) > e.cfg.MaxOutputBytes {
			return errNotInline
		}
		logs := e.nodeLogs(c, node, out.Logs)
		finish := TaskFinish{TaskID: c.TaskID, From: c.Status, Attempt: c.Attempt, Claim: true, StartedAt: now, Output: payload, Now: e.now()}
		if out.Wait > 0 {
			finish.To, finish.DueAt = workflow.TaskWaiting, now.Add(out.Wait)
			if err := tx.FinishTask(ctx, finish); err != nil {
				return err
			}
			outcome, wakeAt = OutcomeWaiting, finish.DueAt
			wake = &TaskRef{TaskID: c.TaskID, RunID: c.RunID, Kind: KindWake, NodeType: c.NodeType}
			return tx.AddLogs(ctx, logs)
		}
		finish.To, finish.Handles = workflow.TaskCompleted, out.Handles
		outcome = OutcomeCompleted
		return e.completeIn(ctx, tx, c, g, finish, logs, &done)
	})
	switch {
	case errors.Is(err, errNotInline):
		return false, nil
	case errors.Is(err, ErrNotClaimable) || dropped(err):
		return true, nil
	case err != nil:
		return true, fmt.Errorf("inline transition of task %s: %w", ref.TaskID, err)
	}
	if wake != nil {
		wake.TraceContext = e.traceParent(ctx, c.TraceContext)
		if _, err := e.queue.Enqueue(ctx, *wake, wakeAt); err != nil {
			e.log.WarnContext(ctx, "schedule wake-up failed; the reconciler will retry", "task_id", c.TaskID, "error", err)
		}
	} else {
		e.afterComplete(ctx, c, done, now)
	}
	e.obs.TaskExecuted(ctx, c.NodeType, outcome, "", e.now().Sub(now))
	return true, nil
}

// needsRunContext reports whether a node's templates read $run or $nodes, which the inline
// path does not load.
func needsRunContext(n workflow.Node) bool {
	return bytes.Contains(n.Base.Config, []byte("$run")) || bytes.Contains(n.Base.Config, []byte("$nodes"))
}
