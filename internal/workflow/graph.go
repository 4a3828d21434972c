package workflow

import (
	"encoding/json"
	"fmt"
)

// Graph is a validated definition indexed for the engine: edges by source and target in
// definition order, and the root nodes (no incoming edge).
type Graph struct {
	Def      Definition
	index    map[string]int
	outgoing [][]int
	incoming [][]int
	roots    []string
}

// Compile indexes a definition. It reports dangling edges and duplicate node ids; callers that
// need every rule checked use Validate first.
func Compile(def Definition) (*Graph, error) {
	g := &Graph{
		Def:      def,
		index:    make(map[string]int, len(def.Nodes)),
		outgoing: make([][]int, len(def.Nodes)),
		incoming: make([][]int, len(def.Nodes)),
	}
	for i, n := range def.Nodes {
		if _, dup := g.index[n.ID]; dup {
			return nil, fmt.Errorf("duplicate node id %q", n.ID)
		}
		g.index[n.ID] = i
	}
	for i, e := range def.Edges {
		s, ok := g.index[e.SourceID]
		if !ok {
			return nil, fmt.Errorf("edge %q: unknown source %q", e.ID, e.SourceID)
		}
		t, ok := g.index[e.TargetID]
		if !ok {
			return nil, fmt.Errorf("edge %q: unknown target %q", e.ID, e.TargetID)
		}
		g.outgoing[s] = append(g.outgoing[s], i)
		g.incoming[t] = append(g.incoming[t], i)
	}
	for i, n := range def.Nodes {
		if len(g.incoming[i]) == 0 {
			g.roots = append(g.roots, n.ID)
		}
	}
	return g, nil
}

// Node returns the node with the given id.
func (g *Graph) Node(id string) (Node, bool) {
	i, ok := g.index[id]
	if !ok {
		return Node{}, false
	}
	return g.Def.Nodes[i], true
}

// Outgoing returns the edges leaving a node, in definition order.
func (g *Graph) Outgoing(id string) []Edge {
	return g.edges(g.outgoing, id)
}

// Incoming returns the edges entering a node, in definition order.
func (g *Graph) Incoming(id string) []Edge {
	return g.edges(g.incoming, id)
}

func (g *Graph) edges(by [][]int, id string) []Edge {
	i, ok := g.index[id]
	if !ok {
		return nil
	}
	out := make([]Edge, len(by[i]))
	for k, e := range by[i] {
		out[k] = g.Def.Edges[e]
	}
	return out
}

// Roots returns the nodes without incoming edges, in definition order. Every root starts when
// a run starts.
func (g *Graph) Roots() []string { return g.roots }

// Branching reports whether a node type chooses which outgoing handles fire.
func Branching(nodeType string) bool {
	return nodeType == TypeIfElse || nodeType == TypeDecision || nodeType == TypeWait
}

// EmittableHandles returns the source handles a node can emit. For non-branching nodes it
// returns nil: their edges carry "out" or no handle, and every edge is taken.
func EmittableHandles(n Node) []string {
	switch n.Base.Type {
	case TypeIfElse:
		return []string{"out-true", "out-false"}
	case TypeWait:
		return []string{HandleOut, HandleTimeout}
	case TypeDecision:
		var cfg struct {
			Decisions []struct {
				ID string `json:"id"`
			} `json:"decisions"`
		}
		_ = json.Unmarshal(n.Base.Config, &cfg) // config shape is checked by the node validator
		out := make([]string, 0, len(cfg.Decisions))
		for _, d := range cfg.Decisions {
			out = append(out, "out-"+d.ID)
		}
		return out
	}
	return nil
}

// EdgeTaken reports whether an edge fires given the handles its completed source chose
// (nil: every edge fires). An edge without a handle is an "out" edge: only a wait node
// chooses "out", and it means those edges too.
func EdgeTaken(e Edge, chosen []string) bool {
	if chosen == nil {
		return true
	}
	h := e.SourceHandle()
	if h == "" {
		h = HandleOut
	}
	for _, c := range chosen {
		if c == h {
			return true
		}
	}
	return false
}
