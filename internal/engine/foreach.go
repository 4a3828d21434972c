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

// A forEach node maps over an array. Executing it creates one task per element (node id
// "<forEach id>[<index>]", the body's node type, input {item, index}) in the transaction that
// parks the forEach task as waiting: the first `concurrency` elements queued, the rest pending.
// The waiting task counts its elements: unresolved_parents holds the elements not yet
// finished and activated_parents the elements released so far. Each element's completion, in
// its own run-locked transaction, releases the next pending element and, when it was the last
// to finish, completes the forEach task with the collected results and resolves its edges,
// so the results are collected exactly once and in element order.

// noWakeUp is the due time of a forEach task waiting for its elements: it has no wake-up of
// its own, so the reconciler never lists it.
var noWakeUp = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// forEachPlan is a prepared forEach node: its config and the node its elements run.
type forEachPlan struct {
	cfg  nodes.ForEach
	body preparedNode
}

// prepareForEach prepares a forEach node's body; a config that does not parse leaves the node
// without a plan, and its executor reports the config error.
func (e *Engine) prepareForEach(n workflow.Node) *forEachPlan {
	f, err := nodes.ParseForEach(n.Base.Config)
	if err != nil {
		return nil
	}
	body := f.BodyNode(n)
	p := &forEachPlan{cfg: f, body: e.prepareNode(body)}
	// An element whose body failed is the forEach node's failure (fail) or one of its results
	// (skip, continue).
	p.body.onError = nodes.OnErrorFail
	if f.OnItemError != nodes.ItemErrorFail {
		p.body.onError = nodes.OnErrorContinue
	}
	return p
}

// node returns the prepared node a task of the version runs: a node of the definition, or the
// body of a forEach node for one of its elements.
func (v *version) node(nodeID string) (preparedNode, bool) {
	if pn, ok := v.nodes[nodeID]; ok {
		return pn, true
	}
	parent, ok := elementParent(v.graph, nodeID)
	if !ok {
		return preparedNode{}, false
	}
	pn, ok := v.nodes[parent]
	if !ok || pn.forEach == nil {
		return preparedNode{}, false
	}
	body := pn.forEach.body
	body.node.ID = nodeID
	return body, true
}

// elementParent returns the forEach node a task's node id is an element of; ok is false for a
// node of the definition.
func elementParent(g *workflow.Graph, nodeID string) (string, bool) {
	parent, _, ok := workflow.ElementOf(nodeID)
	if !ok {
		return "", false
	}
	if _, isNode := g.Node(nodeID); isNode {
		return "", false
	}
	n, ok := g.Node(parent)
	return parent, ok && n.Base.Type == workflow.TypeForEach
}

// spawn parks a forEach task as waiting and creates its element tasks in one transaction,
// then enqueues the elements it released; with no elements the node completes at once.
func (e *Engine) spawn(ctx context.Context, c Claim, g *workflow.Graph, pn preparedNode, out nodes.Output, logs []LogEntry) (Execution, error) {
	if pn.forEach == nil {
		msg := fmt.Sprintf("node %q: forEach config does not parse", c.NodeID)
		return failed("config", msg), e.fail(ctx, c, "config", msg, logs)
	}
	n := len(out.Elements)
	if n == 0 {
		payload, err := json.Marshal(forEachResults(nil, nil, pn.forEach.cfg.OnItemError))
		if err != nil {
			return Execution{}, err
		}
		return Execution{Outcome: OutcomeCompleted}, e.complete(ctx, c, g, TaskFinish{From: workflow.TaskRunning, Output: payload}, logs)
	}
	payload, err := json.Marshal(out.Payload)
	if err != nil {
		return Execution{}, fmt.Errorf("encode forEach payload: %w", err)
	}
	released := min(n, pn.forEach.cfg.Concurrency)
	body := pn.forEach.body.node.Base.Type
	tasks := make([]NewTask, n)
	refs := make([]TaskRef, 0, released)
	for i, el := range out.Elements {
		input, err := json.Marshal(el)
		if err != nil {
			msg := fmt.Sprintf("node %q: element %d is not JSON: %v", c.NodeID, i, err)
			return failed("output", msg), e.fail(ctx, c, "output", msg, logs)
		}
		id := workflow.ElementNodeID(c.NodeID, i)
		tasks[i] = NewTask{ID: TaskID(c.RunID, id), NodeID: id, NodeType: body, Status: workflow.TaskPending, Input: input}
		if i < released {
			tasks[i].Status = workflow.TaskQueued
			refs = append(refs, TaskRef{TaskID: tasks[i].ID, RunID: c.RunID, Kind: KindExecute, NodeType: body})
		}
	}
	now := e.now()
	err = e.store.InRun(ctx, c.RunID, func(tx RunTx) error {
		if err := tx.FinishTask(ctx, TaskFinish{TaskID: c.TaskID, From: workflow.TaskRunning, Attempt: c.Attempt, Redeliveries: c.Redeliveries,
			To: workflow.TaskWaiting, Output: payload, DueAt: noWakeUp, Now: now}); err != nil {
			return err
		}
		if err := tx.AddElements(ctx, c.RunID, c.TaskID, tasks, released, now); err != nil {
			return err
		}
		return tx.AddLogs(ctx, logs)
	})
	waiting := Execution{Outcome: OutcomeWaiting}
	switch {
	case dropped(err):
		return waiting, errDropped
	case errors.Is(err, ErrUnstorable):
		return failed("unstorable", "the database refused the elements: "+err.Error()), e.failUnstorable(ctx, c, workflow.TaskRunning, "forEach elements", err)
	case err != nil:
		return waiting, fmt.Errorf("create elements of task %s: %w", c.TaskID, err)
	}
	tp := e.traceParent(ctx, c.TraceContext)
	for i := range refs {
		refs[i].TraceContext = tp
	}
	e.enqueue(ctx, refs)
	return waiting, nil
}

// elementFinished is the rest of an element's completing transition: release the next
// pending element, or, when this was the last element to finish, complete the forEach task
// with the results in element order and resolve its edges.
func (e *Engine) elementFinished(ctx context.Context, tx RunTx, c Claim, g *workflow.Graph, parentID string, now time.Time, done *completion) error {
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return fmt.Errorf("load version %s: %w", c.VersionID, err)
	}
	pn, ok := v.nodes[parentID]
	if !ok || pn.forEach == nil {
		return fmt.Errorf("element %s: node %q is not a forEach node", c.NodeID, parentID)
	}
	p, err := tx.ElementFinished(ctx, c.RunID, parentID)
	if err != nil {
		return err
	}
	if p.Released < p.Elements {
		id := workflow.ElementNodeID(parentID, p.Released)
		if err := tx.ReleaseTasks(ctx, c.RunID, []Release{{NodeID: id}}, now); err != nil {
			return err
		}
		done.released = append(done.released, TaskRef{TaskID: TaskID(c.RunID, id), RunID: c.RunID, Kind: KindExecute, NodeType: pn.forEach.body.node.Base.Type})
	}
	if p.Remaining > 0 {
		return nil
	}
	ids := make([]string, p.Elements)
	for i := range ids {
		ids[i] = workflow.ElementNodeID(parentID, i)
	}
	states, err := tx.Parents(ctx, c.RunID, ids)
	if err != nil {
		return err
	}
	// The finishing element's own row is read in this transaction after its update, so every
	// element is terminal here.
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	outputs := make([]json.RawMessage, p.Elements)
	failedAt := make([]bool, p.Elements)
	for _, s := range states {
		i := index[s.NodeID]
		outputs[i], failedAt[i] = s.Output, s.Outcome == TaskOutcomeFailedContinued
	}
	payload, err := json.Marshal(forEachResults(outputs, failedAt, pn.forEach.cfg.OnItemError))
	if err != nil {
		return fmt.Errorf("encode forEach results: %w", err)
	}
	finish := TaskFinish{TaskID: p.TaskID, From: workflow.TaskWaiting, Attempt: p.Attempt, Redeliveries: p.Redeliveries,
		To: workflow.TaskCompleted, Output: payload, Now: now}
	parent := Claim{TaskID: p.TaskID, RunID: c.RunID, WorkflowID: c.WorkflowID, VersionID: c.VersionID, NodeID: parentID,
		NodeType: workflow.TypeForEach, Attempt: p.Attempt, Redeliveries: p.Redeliveries, Input: p.Input}
	var logs []LogEntry
	if len(payload) > e.cfg.MaxOutputBytes {
		// Too large to store: the node fails, not retried (its elements' effects already
		// happened), and its onError decides whether the run fails or goes on.
		msg := fmt.Sprintf("results of %d bytes are larger than the limit of %d bytes", len(payload), e.cfg.MaxOutputBytes)
		if policy, err := pn.nodePolicy(); err != nil || policy.OnError != nodes.OnErrorContinue {
			return e.failIn(ctx, tx, parent, "output_too_large", fmt.Sprintf("Node %s failed: %s", parentID, msg), now, done)
		}
		finish.Output, _ = json.Marshal(map[string]any{"error": msg, "count": p.Elements})
		finish.Error, finish.Outcome = msg, TaskOutcomeFailedContinued
		logs = append(logs, LogEntry{RunID: c.RunID, NodeID: parentID, Type: workflow.LogError, At: now,
			Message: fmt.Sprintf("Node %s failed: %s; continuing", parentID, msg), Data: map[string]any{"reason": "output_too_large", "outcome": TaskOutcomeFailedContinued}})
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "forEach finished", append(parent.LogAttrs(), slog.Int("elements", p.Elements))...)
	return e.completeIn(ctx, tx, parent, g, finish, logs, done)
}

// forEachResults is a forEach node's output: the element outputs in order (a failed element's
// error payload kept in place with continue, left out with skip), how many elements there
// were and how many failed.
func forEachResults(outputs []json.RawMessage, failedAt []bool, onItemError string) map[string]any {
	results := make([]json.RawMessage, 0, len(outputs))
	failedCount := 0
	for i, o := range outputs {
		if failedAt[i] {
			failedCount++
			if onItemError == nodes.ItemErrorSkip {
				continue
			}
		}
		results = append(results, outputOrNull(o))
	}
	return map[string]any{"results": results, "count": len(outputs), "failed": failedCount}
}

// outputOrNull is a stored output, or null for none.
func outputOrNull(o json.RawMessage) json.RawMessage {
	if len(o) == 0 {
		return json.RawMessage(`null`)
	}
	return o
}
