// Package workflow is the domain model of SequenceFlow: workflow definitions in the persisted
// format the front end reads and writes, their validation, the compiled graph the engine walks,
// and the run and task statuses. It does no I/O.
package workflow

import (
	"encoding/json"
	"time"
)

// Node types.
const (
	TypeInputText    = "inputText"
	TypeAPICall      = "apiCall"
	TypeNotification = "notification"
	TypeDelay        = "delay"
	TypeIfElse       = "ifElse"
	TypeDecision     = "decision"
	// TypeWait parks its task until an event is delivered to it or its timeout passes.
	TypeWait = "wait"
)

// Handles of a wait node: "out" fires when an event is delivered (an edge without a handle
// means the same), "out-timeout" when the wait timed out.
const (
	HandleOut     = "out"
	HandleTimeout = "out-timeout"
)

// Workflow is a stored workflow at its current version.
type Workflow struct {
	ID         string
	Name       string
	Version    int
	VersionID  string
	Definition Definition
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Summary is a workflow as the list route shows it.
type Summary struct {
	ID        string
	Name      string
	UpdatedAt time.Time
}

// Definition is the graph of a workflow: nodes and edges as the front end persists them.
type Definition struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node is one step of a workflow. ID is canonical; Base.ID must equal it.
type Node struct {
	ID       string   `json:"id"`
	Position Position `json:"position"`
	Base     Base     `json:"base"`
}

// Position is where the builder draws a node.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Base carries a node's type, name and configuration. The schemas and connections are
// front-end data that must round-trip unchanged; execution ignores them.
type Base struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Name            string          `json:"name"`
	InputSchema     json.RawMessage `json:"inputSchema"`
	OutputSchema    json.RawMessage `json:"outputSchema"`
	Config          json.RawMessage `json:"config"`
	ValidationLogic json.RawMessage `json:"validationLogic,omitempty"`
	Connections     json.RawMessage `json:"connections"`
}

// Edge connects a source node's handle to a target node. Only the source handle matters at
// run time.
type Edge struct {
	ID             string  `json:"id"`
	SourceID       string  `json:"sourceId"`
	TargetID       string  `json:"targetId"`
	SourceHandleID *string `json:"sourceHandleId,omitempty"`
	TargetHandleID *string `json:"targetHandleId,omitempty"`
}

// SourceHandle returns the edge's source handle, or "" when it has none.
func (e Edge) SourceHandle() string {
	if e.SourceHandleID == nil {
		return ""
	}
	return *e.SourceHandleID
}

// Run is a run with its tasks and logs, as the status and detail routes show it.
type Run struct {
	ID           string
	WorkflowID   string
	Version      int
	Status       string
	Input        json.RawMessage
	Result       json.RawMessage
	Error        string
	TraceContext string
	StartedAt    time.Time
	FinishedAt   *time.Time
	Tasks        []Task
	Logs         []LogLine
}

// RunSummary is a run as the run lists and run search show it.
type RunSummary struct {
	ID           string
	WorkflowID   string
	WorkflowName string
	Version      int
	Status       string
	// FailedNodes counts the run's failed nodes (see RunFilter), recorded when it finished.
	FailedNodes int
	StartedAt   time.Time
	FinishedAt  *time.Time
	// Error is a preview of the run's error ("" when it has none), cut to a bounded length;
	// ErrorTruncated tells whether it was cut.
	Error          string
	ErrorTruncated bool
	IdempotencyKey string
	// TraceContext is the run's stored W3C traceparent ("" when it has none).
	TraceContext string
}

// Task is one node's execution state within a run.
type Task struct {
	ID       string
	NodeID   string
	NodeType string
	Status   string
	// Attempt counts the node's own attempts (its retries budget); Redeliveries counts the
	// deliveries that began an attempt again after an earlier one ended without an outcome.
	Attempt      int
	Redeliveries int
	Input        json.RawMessage
	Output       json.RawMessage
	Error        *string
	// Outcome is "failed_continued" for a completed task whose node failed and continued
	// (onError: continue), empty otherwise.
	Outcome     string
	StartedAt   *time.Time
	CompletedAt *time.Time
}

// LogLine is one run log entry.
type LogLine struct {
	ID        string
	NodeID    *string
	Type      string
	Message   string
	Data      json.RawMessage
	Timestamp time.Time
}
