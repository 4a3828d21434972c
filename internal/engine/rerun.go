package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Kinds of runs made from an earlier run (runs.origin).
const (
	// OriginRetry reuses every node that completed and re-executes the rest.
	OriginRetry = "retry"
	// OriginRerun reuses the nodes upstream of a chosen node and executes from it.
	OriginRerun = "rerun"
)

// Versions a re-run can execute.
const (
	// VersionPinned is the version the earlier run executed (the default).
	VersionPinned = "pinned"
	// VersionCurrent is the workflow's current version.
	VersionCurrent = "current"
)

// MaxReusedLogged caps the node ids the new run's first log line lists as reused.
const MaxReusedLogged = 50

// SourceRun is a run a retry or re-run is made from.
type SourceRun struct {
	ID         string
	WorkflowID string
	VersionID  string
	Status     string
	Input      json.RawMessage
	// Timeout is the run's deadline after its start, 0 when it had none.
	Timeout      time.Duration
	TraceContext string
	// FailedNodes counts its tasks whose node failed and continued (onError: continue).
	FailedNodes int
	Tasks       []PriorTask
}

// RerunRequest asks for a retry or a re-run of a finished run.
type RerunRequest struct {
	RunID string
	// WorkflowID, when set, is the workflow the run must belong to (the per-workflow routes).
	WorkflowID string
	// Origin is OriginRetry or OriginRerun.
	Origin string
	// FromNodeID is the node a re-run executes from (OriginRerun only).
	FromNodeID string
	// Version is VersionPinned (or empty) or VersionCurrent; a retry always runs pinned.
	Version string
	// Input replaces the run's input for a re-run; nil keeps the original's.
	Input          json.RawMessage
	IdempotencyKey string
}

// RerunRefusal is a retry or re-run that the original run's state refuses: it is still in
// flight, has nothing to re-execute, or lacks an output the new run must reuse. It wraps
// workflow.ErrConflict; Reason says what to do about it.
type RerunRefusal struct{ Reason string }

func (r *RerunRefusal) Error() string { return r.Reason }

// Unwrap makes a refusal a workflow.ErrConflict.
func (r *RerunRefusal) Unwrap() error { return workflow.ErrConflict }

func refuse(format string, args ...any) error {
	return &RerunRefusal{Reason: fmt.Sprintf(format, args...)}
}

// RunLinker is implemented by observers that can link the current run.start span to the trace
// of the run a retry or re-run was made from.
type RunLinker interface {
	// LinkRun links ctx's span to the span of traceparent, naming the kind of link.
	LinkRun(ctx context.Context, traceparent, origin string)
}

// Rerun creates a retry or a re-run of a finished run (see RerunRequest) in one transaction,
// with the outputs it reuses stored on tasks created completed (never executed again), and
// enqueues what executes first. The new run records its parent, kind and start node, and its
// run.start span links to the parent's trace. With an idempotency key that already made a run
// from the same request it returns that run and Created false.
func (e *Engine) Rerun(ctx context.Context, req RerunRequest) (started Started, err error) {
	src, err := e.store.SourceRun(ctx, req.RunID)
	if err != nil {
		return Started{}, fmt.Errorf("%s run %s: %w", req.Origin, req.RunID, err)
	}
	if req.WorkflowID != "" && req.WorkflowID != src.WorkflowID {
		return Started{}, fmt.Errorf("%s run %s: %w", req.Origin, req.RunID, workflow.ErrNotFound)
	}
	ctx, end := e.obs.RunStarting(ctx, src.WorkflowID)
	defer func() { end(started.RunID, err) }()
	if l, ok := e.obs.(RunLinker); ok && src.TraceContext != "" {
		l.LinkRun(ctx, src.TraceContext, req.Origin)
	}
	if !workflow.RunTerminal(src.Status) {
		return Started{}, refuse("Workflow run %s is %s; only a finished run can be retried or re-run (cancel it first)", src.ID, src.Status)
	}
	if req.Origin == OriginRetry && src.Status == workflow.RunSucceeded && src.FailedNodes == 0 {
		return Started{}, refuse("Workflow run %s succeeded with no failed node: there is nothing to retry", src.ID)
	}
	versionID := src.VersionID
	mode := req.Version
	if mode == "" || req.Origin == OriginRetry {
		mode = VersionPinned
	}
	switch mode {
	case VersionPinned:
	case VersionCurrent:
		if versionID, err = e.store.CurrentVersion(ctx, src.WorkflowID); err != nil {
			return Started{}, fmt.Errorf("rerun run %s: %w", src.ID, err)
		}
	default:
		return Started{}, workflow.Invalid("version", "must be %q or %q", VersionPinned, VersionCurrent)
	}
	v, err := e.version(ctx, versionID)
	if err != nil {
		return Started{}, fmt.Errorf("%s run %s: %w", req.Origin, src.ID, err)
	}
	g := v.graph
	input := src.Input
	if req.Origin == OriginRerun && !nullJSON(req.Input) {
		input = req.Input
	}
	prior := make(map[string]PriorTask, len(src.Tasks))
	for _, t := range src.Tasks {
		prior[t.NodeID] = t
	}

	var reuse func(string) bool
	var upstream map[string]bool
	switch req.Origin {
	case OriginRetry:
		reuse = func(id string) bool { return prior[id].Outcome != TaskOutcomeFailedContinued }
	case OriginRerun:
		if req.FromNodeID == "" {
			return Started{}, workflow.Invalid("fromNodeId", "is required")
		}
		if _, ok := g.Node(req.FromNodeID); !ok {
			return Started{}, workflow.Invalid("fromNodeId", "node %q does not exist in version %d of the workflow", req.FromNodeID, v.workflow.Version)
		}
		upstream = Ancestors(g, req.FromNodeID)
		reuse = func(id string) bool { return upstream[id] }
	default:
		return Started{}, fmt.Errorf("rerun run %s: unknown origin %q", src.ID, req.Origin)
	}

	now := e.now()
	r := NewRun{
		ID: uuid.NewString(), WorkflowID: src.WorkflowID, VersionID: versionID, Input: input,
		IdempotencyKey: req.IdempotencyKey, RequestHash: rerunHash(req.Origin, src.ID, req.FromNodeID, mode, input),
		TraceContext: e.obs.TraceParent(ctx), Now: now,
		ParentRunID: src.ID, Origin: req.Origin,
	}
	if req.Origin == OriginRerun {
		r.RerunFromNodeID = req.FromNodeID
	}
	if src.Timeout > 0 {
		r.Deadline = now.Add(src.Timeout)
	} else if e.cfg.RunTimeout > 0 {
		r.Deadline = now.Add(e.cfg.RunTimeout)
	}
	plan, err := PlanRerun(g, r.ID, input, prior, reuse)
	if err != nil {
		return Started{}, err
	}
	if req.Origin == OriginRerun {
		if err := checkUpstream(g, plan, prior, upstream, src.ID, req.FromNodeID); err != nil {
			return Started{}, err
		}
	}
	if len(plan.Released) == 0 {
		return Started{}, refuse("Workflow run %s has no node to re-execute: every node's output would be reused", src.ID)
	}
	r.Tasks = plan.Tasks
	r.Logs = rerunLogs(r, plan, now)
	released := make([]TaskRef, 0, len(plan.Released))
	for _, id := range plan.Released {
		n, _ := g.Node(id)
		released = append(released, TaskRef{TaskID: TaskID(r.ID, id), RunID: r.ID, Kind: KindExecute, NodeType: n.Base.Type, TraceContext: r.TraceContext})
	}
	return e.create(ctx, v, r, released)
}

// checkUpstream refuses a re-run whose upstream nodes do not all end with their earlier
// outputs (or skipped, as their deciding parent's reused output says), or whose start node
// would be skipped by them.
func checkUpstream(g *workflow.Graph, plan RerunPlan, prior map[string]PriorTask, upstream map[string]bool, srcID, from string) error {
	for _, n := range g.Def.Nodes {
		if !upstream[n.ID] {
			continue
		}
		t, _ := plan.Task(n.ID)
		if t.Status == workflow.TaskCompleted || t.Status == workflow.TaskSkipped {
			continue
		}
		p, ok := prior[n.ID]
		switch {
		case !ok:
			return refuse("Upstream node %q of %q has no output to reuse: it is not in run %s (a node added since)", n.ID, from, srcID)
		case p.NodeType != n.Base.Type:
			return refuse("Upstream node %q of %q has no output to reuse: it was of type %s in run %s and is of type %s now", n.ID, from, p.NodeType, srcID, n.Base.Type)
		default:
			return refuse("Upstream node %q of %q has no output to reuse: it is %s in run %s; retry the run or re-run from an earlier node", n.ID, from, p.Status, srcID)
		}
	}
	if t, _ := plan.Task(from); t.Status == workflow.TaskSkipped {
		return refuse("Node %q would be skipped: the reused outputs upstream of it do not take a branch that reaches it", from)
	}
	return nil
}

// rerunLogs are a retry's or re-run's first log lines: the start, and what it was made from
// and reused.
func rerunLogs(r NewRun, plan RerunPlan, now time.Time) []LogEntry {
	listed := plan.Reused
	if len(listed) > MaxReusedLogged {
		listed = listed[:MaxReusedLogged]
	}
	msg := fmt.Sprintf("Workflow run %s of run %s: reused the outputs of %d node(s), executing %d node(s) first", kindWord(r.Origin), r.ParentRunID, len(plan.Reused), len(plan.Released))
	if r.RerunFromNodeID != "" {
		msg = fmt.Sprintf("Workflow run %s of run %s from node %s: reused the outputs of %d node(s) upstream", kindWord(r.Origin), r.ParentRunID, r.RerunFromNodeID, len(plan.Reused))
	}
	data := map[string]any{"parentRunId": r.ParentRunID, "origin": r.Origin, "reusedNodes": append([]string{}, listed...), "reusedCount": len(plan.Reused),
		"released": append([]string{}, plan.Released...)}
	if r.RerunFromNodeID != "" {
		data["fromNodeId"] = r.RerunFromNodeID
	}
	return []LogEntry{
		{RunID: r.ID, Type: workflow.LogSystem, Message: "Async workflow run started", At: now},
		{RunID: r.ID, Type: workflow.LogSystem, Message: msg, Data: data, At: now},
	}
}

func kindWord(origin string) string {
	if origin == OriginRetry {
		return "retry"
	}
	return "re-run"
}

// rerunHash fingerprints a retry or re-run request for its idempotency key: what it is made
// from and with (kind, parent run, start node, version choice, input in canonical form).
func rerunHash(origin, parentID, fromNodeID, version string, input json.RawMessage) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", origin, parentID, fromNodeID, version)
	h.Write(requestHash(input, 0, 0))
	return h.Sum(nil)
}

func nullJSON(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}
