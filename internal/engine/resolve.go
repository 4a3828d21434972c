package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// resolver resolves the outgoing edges of a finished or skipped node inside one transaction
// (ARCHITECTURE rule 4): each target's unresolved count drops by its edges from the source, its
// activated count rises by the taken ones; a target at 0 unresolved is released when at least
// one edge was taken and skipped otherwise, and a skip resolves its own edges, recursively.
// The counters are row-level and the run row is locked, so exactly one parent releases a join.
type resolver struct {
	tx      RunTx
	runID   string
	g       *workflow.Graph
	now     time.Time
	skipped int
	// skippedTypes are the node types of the tasks it skipped.
	skippedTypes []string
	released     []TaskRef

	// parentSpan is the traceparent of the finished node's span, recorded on the joins its
	// taken edges reach; empty when it is not traced.
	parentSpan string
	// skippedIDs are the node ids of the tasks it skipped, in the order it skipped them.
	skippedIDs []string
	// pick claims released tasks for this worker (eager dispatch); nil claims none.
	pick *eagerPick
}

type source struct {
	nodeID  string
	handles []string
	output  json.RawMessage
	skipped bool
}

func (r *resolver) resolve(ctx context.Context, nodeID string, handles []string, output json.RawMessage) error {
	work := []source{{nodeID: nodeID, handles: handles, output: output}}
	for len(work) > 0 {
		s := work[0]
		work = work[1:]
		var res []EdgeResolution
		index := map[string]int{}
		for _, e := range r.g.Outgoing(s.nodeID) {
			i, ok := index[e.TargetID]
			if !ok {
				i = len(res)
				index[e.TargetID] = i
				res = append(res, EdgeResolution{NodeID: e.TargetID})
			}
			res[i].Edges++
			if !s.skipped && workflow.EdgeTaken(e, s.handles) {
				res[i].Taken++
			}
		}
		if len(res) == 0 {
			continue
		}
		// A target whose only parent is this source resolves without reading its counters:
		// its last edge is resolved now. Joins go through the row-level counters.
		var release []Release
		var skip []string
		var joins []EdgeResolution
		for _, er := range res {
			switch {
			case len(r.g.Incoming(er.NodeID)) != er.Edges:
				if !s.skipped {
					er.ParentSpan = r.parentSpan
				}
				joins = append(joins, er)
			case er.Taken > 0:
				release = append(release, Release{NodeID: er.NodeID, Input: s.output, Edges: er.Edges, Taken: er.Taken})
			default:
				skip = append(skip, er.NodeID)
			}
		}
		var states []TargetState
		if len(joins) > 0 {
			var err error
			if states, err = r.tx.ResolveEdges(ctx, r.runID, joins); err != nil {
				return err
			}
		}
		for _, st := range states {
			switch {
			case st.Unresolved > 0:
			case st.Activated > 0:
				input, err := r.joinInput(ctx, st.NodeID, s)
				if err != nil {
					return err
				}
				release = append(release, Release{NodeID: st.NodeID, Input: input})
			default:
				skip = append(skip, st.NodeID)
			}
		}
		if len(release) > 0 {
			types := make([]string, len(release))
			for i := range release {
				if n, ok := r.g.Node(release[i].NodeID); ok {
					types[i] = n.Base.Type
				}
				r.pick.take(&release[i], types[i])
			}
			if err := r.tx.ReleaseTasks(ctx, r.runID, release, r.now); err != nil {
				return err
			}
			for i, rel := range release {
				if rel.Claim == nil {
					r.released = append(r.released, TaskRef{TaskID: TaskID(r.runID, rel.NodeID), RunID: r.runID, Kind: KindExecute, NodeType: types[i]})
				}
			}
		}
		if len(skip) > 0 {
			if err := r.tx.SkipTasks(ctx, r.runID, skip, r.now); err != nil {
				return err
			}
			r.skipped += len(skip)
			r.skippedIDs = append(r.skippedIDs, skip...)
			for _, id := range skip {
				if n, ok := r.g.Node(id); ok {
					r.skippedTypes = append(r.skippedTypes, n.Base.Type)
				}
				work = append(work, source{nodeID: id, skipped: true})
			}
		}
	}
	return nil
}

// joinInput is a released target's input: its single activated parent's output, or the
// shallow merge of its activated parents' outputs in edge order (ARCHITECTURE rule 5).
func (r *resolver) joinInput(ctx context.Context, target string, s source) (json.RawMessage, error) {
	incoming := r.g.Incoming(target)
	if !s.skipped && len(incoming) == 1 {
		return s.output, nil
	}
	var others []string
	seen := map[string]bool{s.nodeID: true}
	for _, e := range incoming {
		if !seen[e.SourceID] {
			seen[e.SourceID] = true
			others = append(others, e.SourceID)
		}
	}
	parents := map[string]ParentState{}
	if len(others) > 0 {
		states, err := r.tx.Parents(ctx, r.runID, others)
		if err != nil {
			return nil, err
		}
		for _, p := range states {
			parents[p.NodeID] = p
		}
	}
	var outputs []json.RawMessage
	used := map[string]bool{}
	for _, e := range incoming {
		if used[e.SourceID] {
			continue
		}
		if e.SourceID == s.nodeID {
			if !s.skipped && workflow.EdgeTaken(e, s.handles) {
				used[e.SourceID] = true
				outputs = append(outputs, s.output)
			}
			continue
		}
		p, ok := parents[e.SourceID]
		if ok && p.Status == workflow.TaskCompleted && workflow.EdgeTaken(e, p.Handles) {
			used[e.SourceID] = true
			outputs = append(outputs, p.Output)
		}
	}
	return mergeOutputs(outputs)
}

// mergeOutputs returns a single output as is, and merges several objects key by key, later
// parents winning; a parent whose output is not an object contributes nothing to a merge.
func mergeOutputs(outputs []json.RawMessage) (json.RawMessage, error) {
	switch len(outputs) {
	case 0:
		return json.RawMessage(`{}`), nil
	case 1:
		return outputs[0], nil
	}
	merged := map[string]json.RawMessage{}
	for _, o := range outputs {
		var m map[string]json.RawMessage
		if json.Unmarshal(o, &m) == nil {
			for k, v := range m {
				merged[k] = v
			}
		}
	}
	return json.Marshal(merged)
}
