package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// PriorTask is one task of the run a retry or re-run is made from, as stored.
type PriorTask struct {
	NodeID   string
	NodeType string
	Status   string
	// Outcome is TaskOutcomeFailedContinued for a node that failed and continued, else empty.
	Outcome string
	Error   string
	Input   json.RawMessage
	Output  json.RawMessage
	Handles []string
}

// passedOn is what a completed task handed to its targets when it completed: its output, or
// for a delay (which stores its wait as output and passes its input through) its input.
func (p PriorTask) passedOn() json.RawMessage {
	if p.NodeType == workflow.TypeDelay {
		return p.Input
	}
	return p.Output
}

// RerunPlan is the tasks of a new run that reuses outputs of an earlier one.
type RerunPlan struct {
	// Tasks are every node's task in definition order, with the counters, status and input
	// the engine would have given them had the reused tasks completed in this run.
	Tasks []NewTask
	// Reused are the nodes whose tasks were created completed with the earlier output, in
	// the order they were reused; Released the nodes queued to execute at once; Skipped those
	// skipped because every edge into them was resolved untaken.
	Reused   []string
	Released []string
	Skipped  []string
}

// Task returns the planned task of a node.
func (p RerunPlan) Task(nodeID string) (NewTask, bool) {
	for _, t := range p.Tasks {
		if t.NodeID == nodeID {
			return t, true
		}
	}
	return NewTask{}, false
}

// PlanRerun plans a run of g (id runID, input) that reuses earlier work: the roots are released
// with the input, and a released task whose node reuse accepts and whose prior task completed
// with the same node type is completed with the prior output and handles, its edges resolved by
// the engine's own resolver as if it had just completed (targets are released with the input
// the engine builds from their parents, or skipped when no edge into them was taken, and so
// on downstream). It repeats until no released task can be reused; whatever is queued then
// executes. It is pure: no database, queue or clock.
func PlanRerun(g *workflow.Graph, runID string, input json.RawMessage, prior map[string]PriorTask, reuse func(nodeID string) bool) (RerunPlan, error) {
	tx := &planTx{tasks: make(map[string]*NewTask, len(g.Def.Nodes))}
	plan := RerunPlan{Tasks: make([]NewTask, len(g.Def.Nodes))}
	for i, n := range g.Def.Nodes {
		t := NewTask{ID: TaskID(runID, n.ID), NodeID: n.ID, NodeType: n.Base.Type, Status: workflow.TaskPending, Unresolved: len(g.Incoming(n.ID))}
		if t.Unresolved == 0 {
			t.Status, t.Input = workflow.TaskQueued, input
		}
		plan.Tasks[i] = t
		tx.tasks[n.ID] = &plan.Tasks[i]
	}
	r := resolver{tx: tx, runID: runID, g: g}
	ctx := context.Background()
	for progressed := true; progressed; {
		progressed = false
		for i := range plan.Tasks {
			t := &plan.Tasks[i]
			p, ok := prior[t.NodeID]
			if t.Status != workflow.TaskQueued || !ok || p.Status != workflow.TaskCompleted || p.NodeType != t.NodeType || !reuse(t.NodeID) {
				continue
			}
			t.Status, t.Output, t.Handles, t.Outcome, t.Error = workflow.TaskCompleted, p.Output, p.Handles, p.Outcome, p.Error
			plan.Reused = append(plan.Reused, t.NodeID)
			if err := r.resolve(ctx, t.NodeID, p.Handles, p.passedOn()); err != nil {
				return RerunPlan{}, fmt.Errorf("plan run: %w", err)
			}
			progressed = true
		}
	}
	plan.Skipped = r.skippedIDs
	for _, t := range plan.Tasks {
		if t.Status == workflow.TaskQueued {
			plan.Released = append(plan.Released, t.NodeID)
		}
	}
	return plan, nil
}

// Ancestors returns the nodes upstream of nodeID in g: every node with a path to it.
func Ancestors(g *workflow.Graph, nodeID string) map[string]bool {
	seen := map[string]bool{}
	work := []string{nodeID}
	for len(work) > 0 {
		id := work[len(work)-1]
		work = work[:len(work)-1]
		for _, e := range g.Incoming(id) {
			if !seen[e.SourceID] {
				seen[e.SourceID] = true
				work = append(work, e.SourceID)
			}
		}
	}
	delete(seen, nodeID) // a cycle back to the node (validation refuses them) is not upstream
	return seen
}

// errPlanOnly is returned by the transitions a plan never makes.
var errPlanOnly = errors.New("not part of a rerun plan")

// planTx is RunTx on tasks in memory, with the guards of the store's statements: edges resolve,
// and tasks are released or skipped, only while pending.
type planTx struct {
	tasks map[string]*NewTask
}

func (t *planTx) FinishTask(context.Context, TaskFinish) error { return errPlanOnly }

func (t *planTx) ResolveEdges(_ context.Context, _ string, res []EdgeResolution) ([]TargetState, error) {
	var out []TargetState
	for _, r := range res {
		task, ok := t.tasks[r.NodeID]
		if !ok || task.Status != workflow.TaskPending {
			continue
		}
		task.Unresolved -= r.Edges
		task.Activated += r.Taken
		out = append(out, TargetState{NodeID: r.NodeID, Unresolved: task.Unresolved, Activated: task.Activated})
	}
	return out, nil
}

func (t *planTx) Parents(_ context.Context, _ string, nodeIDs []string) ([]ParentState, error) {
	var out []ParentState
	for _, id := range nodeIDs {
		if task, ok := t.tasks[id]; ok {
			out = append(out, ParentState{NodeID: id, Status: task.Status, Handles: task.Handles, Output: task.Output})
		}
	}
	return out, nil
}

func (t *planTx) ReleaseTasks(_ context.Context, _ string, rel []Release, _ time.Time) error {
	for _, r := range rel {
		task, ok := t.tasks[r.NodeID]
		if !ok || task.Status != workflow.TaskPending {
			continue
		}
		task.Status, task.Input = workflow.TaskQueued, r.Input
		task.Unresolved -= r.Edges
		task.Activated += r.Taken
	}
	return nil
}

func (t *planTx) SkipTasks(_ context.Context, _ string, nodeIDs []string, _ time.Time) error {
	for _, id := range nodeIDs {
		if task, ok := t.tasks[id]; ok && task.Status == workflow.TaskPending {
			task.Status, task.Unresolved = workflow.TaskSkipped, 0
		}
	}
	return nil
}

func (t *planTx) AbortTasks(context.Context, string, string, bool, time.Time) ([]AbortedTask, error) {
	return nil, errPlanOnly
}

func (t *planTx) AddLogs(context.Context, []LogEntry) error         { return nil }
func (t *planTx) AddResumeToken(context.Context, ResumeToken) error { return errPlanOnly }

// AddElements and ElementFinished are never reached: a plan resolves the edges of nodes that
// completed, and a forEach node's elements run only once its run exists.
func (t *planTx) AddElements(context.Context, string, string, []NewTask, int, time.Time) error {
	return errors.New("rerun plan: forEach elements are created when the node runs")
}

func (t *planTx) ElementFinished(context.Context, string, string) (ElementProgress, error) {
	return ElementProgress{}, errors.New("rerun plan: forEach elements finish in the run")
}

func (t *planTx) SettleRun(context.Context, string, int, time.Time, *RunEnd) error {
	return errPlanOnly
}

func (t *planTx) EndRun(context.Context, string, string, string, map[string]any, time.Time, *RunEnd) error {
	return errPlanOnly
}
