// Package loadgen is the library of sfload, SequenceFlow's load generator: workflow shapes to
// load-test, closed- and open-loop drivers that start runs through the REST API and track them
// until they end, measurement from PostgreSQL timestamps and statistics, the bare-asynq floor
// the engine is compared with, and the report.
package loadgen

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Shape names.
const (
	ShapeChain   = "chain"
	ShapeFanout  = "fanout"
	ShapeIfElse  = "ifelse"
	ShapeAPICall = "apicall"
)

// Shapes lists every shape in report order.
var Shapes = []string{ShapeChain, ShapeFanout, ShapeIfElse, ShapeAPICall}

// Branch is one side of a branching workload: a run took it when Node completed.
type Branch struct {
	Label string
	Node  string
}

// Workload is a workflow definition to load-test and what every run of it must do.
type Workload struct {
	Shape string
	// Name is the shape with its size, as reports show it ("chain-10").
	Name       string
	Definition workflow.Definition
	// Executions is how many nodes one successful run executes.
	Executions int
	// Join is the node that must run exactly once per run; "" when the shape has none.
	Join string
	// Branches are the alternatives of a branching shape; a run takes exactly one.
	Branches []Branch
	// APICall is the apiCall node whose output must report success; "" when none.
	APICall string
	// Input returns the input of the run with sequence number seq.
	Input func(seq int) map[string]any
}

// NewWorkload builds a shape. n sizes chain (nodes in the line) and fanout (parallel nodes);
// apiBase is where the service reaches its own mock endpoints (apicall).
func NewWorkload(shape string, n int, apiBase string) (Workload, error) {
	switch shape {
	case ShapeChain:
		return chain(n)
	case ShapeFanout:
		return fanout(n)
	case ShapeIfElse:
		return ifElse(), nil
	case ShapeAPICall:
		return apiCall(apiBase)
	}
	return Workload{}, fmt.Errorf("unknown shape %q (want one of %s)", shape, strings.Join(Shapes, ", "))
}

// Limits are the service's workflow limits the sized shapes must fit in: its defaults, unless
// the service runs with MAX_WORKFLOW_NODES or MAX_WORKFLOW_EDGES raised (sfload reads the same
// variables from its own environment).
var Limits = workflow.DefaultLimits

// MaxSize is the largest n NewWorkload accepts for a sized shape (chain, fanout): the largest
// definition Limits allow (nodes and edges); 0 for a shape without a size.
func MaxSize(shape string) int {
	l := Limits
	switch shape {
	case ShapeChain: // n nodes, n-1 edges
		return min(l.MaxNodes, l.MaxEdges+1)
	case ShapeFanout: // n+2 nodes, 2n edges
		return min(l.MaxNodes-2, l.MaxEdges/2)
	}
	return 0
}

func seqInput(seq int) map[string]any { return map[string]any{"seq": seq} }

// chain is inputText followed by n-1 notifications in a line.
func chain(n int) (Workload, error) {
	if hi := MaxSize(ShapeChain); n < 2 || n > hi {
		return Workload{}, fmt.Errorf("chain length must be 2-%d (the service's workflow limits), got %d", hi, n)
	}
	var b defBuilder
	b.input("in")
	prev := "in"
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("n%d", i)
		b.notify(id, fmt.Sprintf("run {{seq}} step %d", i))
		b.edge(prev, id, "out")
		prev = id
	}
	return Workload{Shape: ShapeChain, Name: fmt.Sprintf("chain-%d", n), Definition: b.def,
		Executions: n, Input: seqInput}, nil
}

// fanout is inputText, n notifications in parallel, and one notification joining them.
func fanout(n int) (Workload, error) {
	if hi := MaxSize(ShapeFanout); n < 1 || n > hi {
		return Workload{}, fmt.Errorf("fan-out width must be 1-%d (the service's workflow limits), got %d", hi, n)
	}
	var b defBuilder
	b.input("in")
	b.notify("join", "run {{seq}} joined")
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("b%d", i)
		b.notify(id, fmt.Sprintf("run {{seq}} branch %d", i))
		b.edge("in", id, "out")
		b.edge(id, "join", "out")
	}
	return Workload{Shape: ShapeFanout, Name: fmt.Sprintf("fanout-%d", n), Definition: b.def,
		Executions: n + 2, Join: "join", Input: seqInput}, nil
}

// ifElse is inputText, an ifElse on score > 50, two branches of two notifications each, and a
// notification joining them. Even runs take the true branch, odd runs the false one.
func ifElse() Workload {
	var b defBuilder
	b.input("in")
	b.node("check", workflow.TypeIfElse, map[string]any{
		"condition": map[string]any{"id": "c-score", "name": "score above 50", "combiner": "all",
			"predicates": []any{map[string]any{"id": "p-score", "targetField": "score",
				"validationLogic": map[string]any{">": []any{map[string]any{"var": "value"}, 50}}}}},
		"trueLabel": "High", "falseLabel": "Low",
	})
	b.notify("t1", "run {{seq}} high 1")
	b.notify("t2", "run {{seq}} high 2")
	b.notify("f1", "run {{seq}} low 1")
	b.notify("f2", "run {{seq}} low 2")
	b.notify("join", "run {{seq}} done with score {{score}}")
	b.edge("in", "check", "out")
	b.edge("check", "t1", "out-true")
	b.edge("t1", "t2", "out")
	b.edge("t2", "join", "out")
	b.edge("check", "f1", "out-false")
	b.edge("f1", "f2", "out")
	b.edge("f2", "join", "out")
	return Workload{Shape: ShapeIfElse, Name: "ifelse", Definition: b.def, Executions: 5, Join: "join",
		Branches: []Branch{{Label: "high", Node: "t1"}, {Label: "low", Node: "f1"}},
		Input: func(seq int) map[string]any {
			score := 90
			if seq%2 == 1 {
				score = 10
			}
			return map[string]any{"seq": seq, "score": score}
		}}
}

// apiCall is inputText, a GET of the service's test-weather endpoint, and a notification.
func apiCall(apiBase string) (Workload, error) {
	apiBase = strings.TrimRight(apiBase, "/")
	if !strings.HasPrefix(apiBase, "http://") && !strings.HasPrefix(apiBase, "https://") {
		return Workload{}, fmt.Errorf("API base URL must be http(s), got %q", apiBase)
	}
	var b defBuilder
	b.input("in")
	b.node("weather", workflow.TypeAPICall, map[string]any{
		"method": "GET", "url": apiBase + "/workflows/api/test-weather?city=Dubai", "headers": []any{},
		"timeoutMs": 5000, "expectedStatusCodes": []int{200},
	})
	b.notify("report", "Dubai: {{data.temperature}} degrees, status {{status}}")
	b.edge("in", "weather", "out")
	b.edge("weather", "report", "out")
	return Workload{Shape: ShapeAPICall, Name: "apicall", Definition: b.def, Executions: 3, APICall: "weather", Input: seqInput}, nil
}

// defBuilder assembles a definition in the persisted format the front end writes.
type defBuilder struct {
	def workflow.Definition
}

func (b *defBuilder) node(id, nodeType string, config any) {
	raw, err := json.Marshal(config)
	if err != nil {
		panic(fmt.Sprintf("loadgen: config of %s: %v", id, err)) // configs are literals above
	}
	i := len(b.def.Nodes)
	b.def.Nodes = append(b.def.Nodes, workflow.Node{
		ID:       id,
		Position: workflow.Position{X: float64(220 * (i % 8)), Y: float64(140 * (i / 8))},
		Base: workflow.Base{ID: id, Type: nodeType, Name: id, InputSchema: json.RawMessage(`{}`),
			OutputSchema: json.RawMessage(`{}`), Config: raw, Connections: json.RawMessage(`[]`)},
	})
}

func (b *defBuilder) input(id string) {
	b.node(id, workflow.TypeInputText, map[string]any{"fields": []any{
		map[string]any{"id": "f-seq", "key": "seq", "label": "Sequence", "inputKind": "number"},
	}})
}

func (b *defBuilder) notify(id, template string) {
	b.node(id, workflow.TypeNotification, map[string]any{"template": template})
}

func (b *defBuilder) edge(source, target, handle string) {
	in := "in"
	b.def.Edges = append(b.def.Edges, workflow.Edge{
		ID: fmt.Sprintf("e-%s-%s", source, target), SourceID: source, TargetID: target,
		SourceHandleID: &handle, TargetHandleID: &in,
	})
}

// parents maps each node to the nodes its incoming edges come from.
func parents(def workflow.Definition) map[string][]string {
	p := make(map[string][]string, len(def.Nodes))
	for _, e := range def.Edges {
		p[e.TargetID] = append(p[e.TargetID], e.SourceID)
	}
	return p
}
