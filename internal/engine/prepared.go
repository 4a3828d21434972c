package engine

import (
	"context"
	"encoding/json"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Nodes is what the engine needs of the node executors; *nodes.Registry satisfies it.
type Nodes interface {
	// Prepare returns the executor of one node compiled for its config; false for a type
	// this worker does not know.
	Prepare(nodeType string, config json.RawMessage) (nodes.Executor, bool)
	// Inline reports whether a node type does no I/O and finishes at once.
	Inline(nodeType string) bool
}

// version is a workflow version prepared once for execution and shared by every execution
// path: its graph and, per node, the executor compiled for the node's config and the values
// of the run its templates read. Versions are immutable, so it is cached by version id (the
// PreparedVersions most recently used).
type version struct {
	graph    *workflow.Graph
	nodes    map[string]preparedNode
	workflow WorkflowRef // what telemetry names the version by
}

// preparedNode is one node of a prepared version.
type preparedNode struct {
	node workflow.Node
	exec nodes.Executor // nil for a type this worker does not know
	refs expr.References
	// policy is the node's retries, onError and timeout, parsed once; policyErr is set
	// instead when its config's policy keys do not parse.
	policy    nodes.Policy
	policyErr error
	// forEach is set for a forEach node: what its elements run.
	forEach *forEachPlan
	// onError, when set, replaces the node's own onError (a forEach element's body).
	onError string
}

// version returns the prepared form of a workflow version, preparing it on first use.
func (e *Engine) version(ctx context.Context, versionID string) (*version, error) {
	if v, ok := e.versions.Get(versionID); ok {
		return v, nil
	}
	vd, err := e.store.Definition(ctx, versionID)
	if err != nil {
		return nil, err
	}
	def := vd.Definition
	g, err := workflow.Compile(def)
	if err != nil {
		return nil, err
	}
	v := &version{graph: g, nodes: make(map[string]preparedNode, len(def.Nodes)),
		workflow: WorkflowRef{ID: vd.WorkflowID, Name: vd.WorkflowName, Version: vd.Version}}
	for _, n := range def.Nodes {
		pn := e.prepareNode(n)
		if n.Base.Type == workflow.TypeForEach {
			pn.forEach = e.prepareForEach(n)
		}
		v.nodes[n.ID] = pn
	}
	e.versions.Add(versionID, v)
	return v, nil
}

// prepareNode compiles one node: its executor, the run values its templates read and its
// policy.
func (e *Engine) prepareNode(n workflow.Node) preparedNode {
	pn := preparedNode{node: n, refs: expr.ReferencesOf(configStrings(n.Base.Config)...)}
	if exec, ok := e.nodes.Prepare(n.Base.Type, n.Base.Config); ok {
		pn.exec = exec
	}
	pn.policy, pn.policyErr = nodes.ParsePolicy(n.Base.Type, n.Base.Config, e.cfg.NodeTimeout)
	return pn
}

// nodePolicy is the policy a task of the node runs with: the node's own, with a forEach
// body's onError in place of the body node's.
func (pn preparedNode) nodePolicy() (nodes.Policy, error) {
	p := pn.policy
	if pn.onError != "" {
		p.OnError = pn.onError
	}
	return p, pn.policyErr
}

// describe fills in what telemetry reports of a claim from its prepared version (cached, so no
// query per node): the workflow's name and version and the node's name. A version that cannot
// be loaded leaves them empty; executing the claim reports that error.
func (e *Engine) describe(ctx context.Context, c *Claim) *version {
	v, err := e.version(ctx, c.VersionID)
	if err != nil {
		return nil
	}
	c.WorkflowName, c.WorkflowVersion = v.workflow.Name, v.workflow.Version
	if pn, ok := v.node(c.NodeID); ok {
		c.NodeName = pn.node.Base.Name
	}
	return v
}

// workflowOf names the workflow of a version for telemetry; a version that cannot be loaded
// is reported with its run's workflow id only.
func (e *Engine) workflowOf(ctx context.Context, versionID string) WorkflowRef {
	v, err := e.version(ctx, versionID)
	if err != nil {
		e.log.DebugContext(ctx, "name workflow version for telemetry", "version_id", versionID, "error", err)
		return WorkflowRef{}
	}
	return v.workflow
}

// claimWait says what a claimed execution waited for between its due time and its start: a
// redelivery that took over a running task is none of them; a claim from queued with a later
// attempt than the first is a retry's wake-up, the first attempt a release.
func claimWait(c Claim) string {
	switch {
	case c.Redelivered:
		return ""
	case !c.ThrottledSince.IsZero():
		return WaitThrottle
	case c.Attempt > 1:
		return WaitRetry
	}
	return WaitQueue
}

// graph returns the compiled graph of a workflow version.
func (e *Engine) graph(ctx context.Context, versionID string) (*workflow.Graph, error) {
	v, err := e.version(ctx, versionID)
	if err != nil {
		return nil, err
	}
	return v.graph, nil
}

// configStrings returns every string in a node's config: the templates are among them, so
// their references are found whatever the node type calls its template fields.
func configStrings(config json.RawMessage) []string {
	var decoded any
	if json.Unmarshal(config, &decoded) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			out = append(out, t)
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(decoded)
	return out
}
