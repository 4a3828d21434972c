// Package workflowtest builds workflow definitions for tests.
package workflowtest

import (
	"encoding/json"
	"fmt"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Builder assembles a definition node by node.
type Builder struct {
	def workflow.Definition
}

// New returns an empty builder.
func New() *Builder { return &Builder{} }

// Node adds a node of any type with a config given as a Go value.
func (b *Builder) Node(id, nodeType string, config any) *Builder {
	raw, err := json.Marshal(config)
	if err != nil {
		panic(err)
	}
	b.def.Nodes = append(b.def.Nodes, workflow.Node{
		ID:       id,
		Position: workflow.Position{X: float64(100 * len(b.def.Nodes)), Y: 100},
		Base: workflow.Base{ID: id, Type: nodeType, Name: id, InputSchema: json.RawMessage(`{}`),
			OutputSchema: json.RawMessage(`{}`), Config: raw, Connections: json.RawMessage(`[]`)},
	})
	return b
}

// Input adds an inputText node.
func (b *Builder) Input(id string) *Builder {
	return b.Node(id, workflow.TypeInputText, map[string]any{"fields": []any{}})
}

// Notify adds a notification node with a template.
func (b *Builder) Notify(id, template string) *Builder {
	return b.Node(id, workflow.TypeNotification, map[string]any{"template": template})
}

// Delay adds a delay node.
func (b *Builder) Delay(id string, seconds float64) *Builder {
	return b.Node(id, workflow.TypeDelay, map[string]any{"delayType": "seconds", "delayValue": seconds})
}

// IfElse adds an ifElse node whose condition applies rule to targetField.
func (b *Builder) IfElse(id, targetField string, rule any) *Builder {
	return b.Node(id, workflow.TypeIfElse, map[string]any{
		"condition": map[string]any{"id": "c", "name": "c", "combiner": "all",
			"predicates": []any{map[string]any{"id": "p", "targetField": targetField, "validationLogic": rule}}},
		"trueLabel": "Yes", "falseLabel": "No",
	})
}

// Decision adds a decision node; outcomes maps decision id to a rule on targetField.
func (b *Builder) Decision(id, targetField string, outcomes ...Outcome) *Builder {
	var ds []any
	for _, o := range outcomes {
		ds = append(ds, map[string]any{"id": o.ID, "name": o.ID, "combiner": "all",
			"predicates": []any{map[string]any{"id": "p-" + o.ID, "targetField": targetField, "validationLogic": o.Rule}}})
	}
	return b.Node(id, workflow.TypeDecision, map[string]any{"decisions": ds})
}

// Outcome is one decision outcome.
type Outcome struct {
	ID   string
	Rule any
}

// APICall adds an apiCall node; extra config keys (retries, onError, timeoutMs, ...) merge in.
func (b *Builder) APICall(id, method, url string, extra map[string]any) *Builder {
	cfg := map[string]any{"method": method, "url": url, "headers": []any{}}
	for k, v := range extra {
		cfg[k] = v
	}
	return b.Node(id, workflow.TypeAPICall, cfg)
}

// Edge connects source to target through handle ("" for none).
func (b *Builder) Edge(source, target, handle string) *Builder {
	e := workflow.Edge{ID: fmt.Sprintf("e%d-%s-%s", len(b.def.Edges), source, target), SourceID: source, TargetID: target}
	if handle != "" {
		e.SourceHandleID = &handle
	}
	in := "in"
	e.TargetHandleID = &in
	b.def.Edges = append(b.def.Edges, e)
	return b
}

// Chain connects the given nodes in order through "out".
func (b *Builder) Chain(ids ...string) *Builder {
	for i := 1; i < len(ids); i++ {
		b.Edge(ids[i-1], ids[i], "out")
	}
	return b
}

// Build returns the definition.
func (b *Builder) Build() workflow.Definition { return b.def }

// JSON returns the definition as {"nodes": [...], "edges": [...]}.
func (b *Builder) JSON() json.RawMessage {
	raw, err := json.Marshal(b.def)
	if err != nil {
		panic(err)
	}
	return raw
}
