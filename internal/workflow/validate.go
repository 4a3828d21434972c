package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Limits bound the size of a definition.
type Limits struct {
	MaxNodes int
	MaxEdges int
	// MaxConfigBytes bounds one node's config.
	MaxConfigBytes int
}

// DefaultLimits are generous for hand-built workflows and bound what one request can make the
// engine do.
var DefaultLimits = Limits{MaxNodes: 500, MaxEdges: 2000, MaxConfigBytes: 64 << 10}

// ConfigValidator checks one node's config; the nodes package provides it. It returns problems
// with field paths relative to the config object.
type ConfigValidator func(nodeType string, config json.RawMessage) []Problem

// Validate checks a definition: unique non-empty ids, base.id equal to id, known node types,
// edges between existing nodes with handles the source can emit, no cycles, and each node's
// config. Every problem is reported with its field path.
func Validate(def Definition, limits Limits, checkConfig ConfigValidator) error {
	v := &ValidationError{}
	if len(def.Nodes) > limits.MaxNodes {
		v.Add("nodes", "at most %d nodes are allowed, got %d", limits.MaxNodes, len(def.Nodes))
	}
	if len(def.Edges) > limits.MaxEdges {
		v.Add("edges", "at most %d edges are allowed, got %d", limits.MaxEdges, len(def.Edges))
	}
	if len(v.Problems) > 0 {
		return v
	}
	nodes := make(map[string]Node, len(def.Nodes))
	for i, n := range def.Nodes {
		at := fmt.Sprintf("nodes[%d]", i)
		switch {
		case n.ID == "":
			v.Add(at+".id", "must not be empty")
			continue
		case n.Base.ID != n.ID:
			v.Add(at+".base.id", "must equal the node id %q, got %q", n.ID, n.Base.ID)
		}
		if _, dup := nodes[n.ID]; dup {
			v.Add(at+".id", "duplicate node id %q", n.ID)
			continue
		}
		nodes[n.ID] = n
		at = fmt.Sprintf("nodes[%d] (%s)", i, n.ID)
		if !knownType(n.Base.Type) {
			v.Add(at+".base.type", "unknown node type %q (want one of inputText, apiCall, notification, delay, ifElse, decision, forEach, wait, invokeWorkflow)", n.Base.Type)
			continue
		}
		if !isObject(n.Base.Config) {
			v.Add(at+".base.config", "must be an object")
			continue
		}
		if limits.MaxConfigBytes > 0 && len(n.Base.Config) > limits.MaxConfigBytes {
			v.Add(at+".base.config", "is %d bytes, larger than the limit of %d bytes", len(n.Base.Config), limits.MaxConfigBytes)
			continue
		}
		if checkConfig != nil {
			for _, p := range checkConfig(n.Base.Type, n.Base.Config) {
				v.Add(at+".base.config."+p.Field, "%s", p.Message)
			}
		}
	}
	validateEdges(def, nodes, v)
	validateElementIDs(def, v)
	if len(v.Problems) == 0 {
		if cyc := cycleNodes(def); len(cyc) > 0 {
			v.Add("edges", "the graph has a cycle through nodes %v", cyc)
		}
	}
	return v.OrNil()
}

func validateEdges(def Definition, nodes map[string]Node, v *ValidationError) {
	ids := make(map[string]bool, len(def.Edges))
	type link struct{ source, target, handle string }
	links := make(map[link]bool, len(def.Edges))
	for i, e := range def.Edges {
		at := fmt.Sprintf("edges[%d]", i)
		if e.ID == "" {
			v.Add(at+".id", "must not be empty")
		} else if ids[e.ID] {
			v.Add(at+".id", "duplicate edge id %q", e.ID)
		}
		ids[e.ID] = true
		src, okS := nodes[e.SourceID]
		if !okS {
			v.Add(at+".sourceId", "unknown node %q", e.SourceID)
		}
		if _, ok := nodes[e.TargetID]; !ok {
			v.Add(at+".targetId", "unknown node %q", e.TargetID)
		}
		if e.SourceID == e.TargetID && okS {
			v.Add(at, "an edge cannot connect node %q to itself", e.SourceID)
		}
		l := link{e.SourceID, e.TargetID, e.SourceHandle()}
		if links[l] {
			v.Add(at, "duplicate edge from %q handle %q to %q", e.SourceID, e.SourceHandle(), e.TargetID)
		}
		links[l] = true
		if !okS || !knownType(src.Base.Type) {
			continue
		}
		h := e.SourceHandle()
		if h == "" && src.Base.Type == TypeWait {
			h = HandleOut // a wait node's edge without a handle fires on an event
		}
		if Branching(src.Base.Type) {
			if allowed := EmittableHandles(src); !slices.Contains(allowed, h) {
				v.Add(at+".sourceHandleId", "node %q (%s) cannot emit handle %q (it emits %v)", src.ID, src.Base.Type, h, allowed)
			}
		} else if h != "" && h != "out" {
			v.Add(at+".sourceHandleId", "node %q (%s) emits only handle \"out\", got %q", src.ID, src.Base.Type, h)
		}
	}
}

// cycleNodes returns the ids of nodes left over by a topological sort (those on or behind a
// cycle), or nil when the graph is acyclic.
func cycleNodes(def Definition) []string {
	indegree := make(map[string]int, len(def.Nodes))
	next := make(map[string][]string, len(def.Nodes))
	for _, n := range def.Nodes {
		indegree[n.ID] += 0
	}
	for _, e := range def.Edges {
		indegree[e.TargetID]++
		next[e.SourceID] = append(next[e.SourceID], e.TargetID)
	}
	queue := make([]string, 0, len(def.Nodes))
	for _, n := range def.Nodes {
		if indegree[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	seen := 0
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		seen++
		for _, t := range next[id] {
			indegree[t]--
			if indegree[t] == 0 {
				queue = append(queue, t)
			}
		}
	}
	if seen == len(def.Nodes) {
		return nil
	}
	var left []string
	for _, n := range def.Nodes {
		if indegree[n.ID] > 0 {
			left = append(left, n.ID)
		}
	}
	return left
}

func knownType(t string) bool {
	switch t {
	case TypeInputText, TypeAPICall, TypeNotification, TypeDelay, TypeIfElse, TypeDecision, TypeForEach, TypeWait, TypeInvokeWorkflow:
		return true
	}
	return false
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
