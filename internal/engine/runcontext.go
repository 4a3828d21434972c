package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sequenceflow/sequenceflow/internal/expr"
)

// scope builds the template context of a claimed task: the payload, and of the $run and $nodes
// contexts only the values the node's templates read (refs), each loaded by its path.
func (e *Engine) scope(ctx context.Context, c Claim, refs expr.References) (expr.Scope, error) {
	var s expr.Scope
	if len(c.Input) > 0 {
		if err := json.Unmarshal(c.Input, &s.Payload); err != nil {
			return s, fmt.Errorf("decode input: %w", err)
		}
	}
	if refs.Run {
		s.Run = map[string]any{"id": c.RunID, "workflowId": c.WorkflowID}
	}
	if len(refs.Reads) == 0 && !refs.AllNodes {
		return s, nil
	}
	var wanted []expr.Read
	var reads []ValueRead
	for _, r := range refs.Reads {
		if r.Node != "" && refs.AllNodes {
			continue // every output is loaded whole
		}
		vr := ValueRead{Path: r.Path}
		if r.Node != "" {
			vr.TaskID = TaskID(c.RunID, r.Node)
		}
		wanted, reads = append(wanted, r), append(reads, vr)
	}
	values, outputs, err := e.store.RunValues(ctx, c.RunID, reads, refs.AllNodes)
	if err != nil {
		return s, err
	}
	if refs.AllNodes {
		s.Nodes = make(map[string]any, len(outputs))
		for id, raw := range outputs {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return s, fmt.Errorf("decode output of node %s: %w", id, err)
			}
			s.Nodes[id] = v
		}
	}
	for i, r := range wanted {
		if values[i] == nil {
			continue
		}
		var v any
		if err := json.Unmarshal(values[i], &v); err != nil {
			return s, fmt.Errorf("decode run value: %w", err)
		}
		s.Place(r, v)
	}
	return s, nil
}
