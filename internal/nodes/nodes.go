// Package nodes holds one executor per node type behind one small interface, the registry
// that maps node types to executors, and the per-node policies (retries, onError, timeout)
// the engine applies around them.
package nodes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Input is what an executor sees of one task execution.
type Input struct {
	NodeID   string
	NodeName string
	Attempt  int
	Config   json.RawMessage
	// Scope holds the payload (the node's input) and the $run and $nodes template contexts.
	Scope expr.Scope
	// Meter bounds the work of the rules and templates this execution evaluates; nil means
	// the default budget.
	Meter *expr.Meter
}

// meter returns the execution's meter.
func (in Input) meter() *expr.Meter {
	if in.Meter == nil {
		return expr.NewMeter(expr.Budget{})
	}
	return in.Meter
}

// budgetError is the permanent failure of an execution whose rules or templates went over
// their budget; what names the rule or template.
func budgetError(what string, err error) *Error {
	return Permanent("budget", "%s: %w", what, err)
}

// Output is the result of a successful execution.
type Output struct {
	// Payload is the node's output, passed to its children.
	Payload any
	// Handles are the source handles a branching node chose; nil means every edge fires.
	Handles []string
	// Wait parks the task for this long before it completes (delay nodes).
	Wait time.Duration
	// Event makes Wait a timeout: the task waits for an event delivered to it (wait nodes),
	// completing with the event on handle "out", or with its input on "out-timeout" once
	// Wait passed.
	Event bool
	// Logs are node-output run log lines.
	Logs []Log
	// Elements, when not nil, are the inputs of a forEach node's element tasks, in order: the
	// engine creates one task per element to run the node's body (ParseForEach), and the node
	// completes once every element has finished. Payload is then stored while it waits.
	Elements []any
	// Invoke, when set, asks the engine to start a child run of another workflow (an
	// invokeWorkflow node): the task waits until the child finishes and completes with its
	// result.
	Invoke *Invoke
}

// Log is one node-output line; Kind is the seed's executor kind (input, api, api-error,
// decision, notification, delay) or wait.
type Log struct {
	Kind    string
	Message string
}

// Executor runs one node type.
type Executor interface {
	Execute(ctx context.Context, in Input) (Output, error)
}

// Preparer is implemented by executors that compile a node's config once per workflow
// version: the executor Prepare returns runs that one node without parsing its config again
// (Input.Config is then ignored). An error is the node's permanent config error.
type Preparer interface {
	Prepare(config json.RawMessage) (Executor, error)
}

// Validator checks a node type's config when a workflow is saved.
type Validator interface {
	Validate(config json.RawMessage) []workflow.Problem
}

// Error is a failed execution. Retryable errors are retried with backoff up to the node's
// retries; after that, or for permanent errors, the node's onError policy decides.
type Error struct {
	Retryable bool
	// Throttled marks a call held back by its host's limits before it was sent: the engine
	// runs it again after RetryAfter without counting an attempt (reasons rate_limited,
	// concurrency_limited, host_paused, limiter_unavailable).
	Throttled bool
	// RetryAfter is the least wait the target asked for (HTTP 429/503 Retry-After).
	RetryAfter time.Duration
	// Reason is a low-cardinality class: timeout, connection, http_5xx, http_429, http_status,
	// config, response, blocked_address, breaker_open, invalid_header, cancelled, budget (a
	// rule or template went over its work budget), and the throttle reasons above.
	Reason string
	// Output is the payload to continue with when onError is "continue"; nil means
	// {"error": message}.
	Output any
	// Logs are node-output lines to record with the failure.
	Logs []Log
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Permanent returns a non-retryable error of the given reason.
func Permanent(reason string, format string, args ...any) *Error {
	return &Error{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// AsError returns err as an *Error; errors of other kinds are permanent with reason "internal".
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Reason: "internal", Err: err}
}

// Registry maps node types to executors.
type Registry struct {
	executors map[string]Executor
}

// NewRegistry returns the registry of every built-in node type; apiCall requests go through
// caller.
func NewRegistry(caller HTTPDoer, cfg APICallConfig) *Registry {
	r := &Registry{executors: map[string]Executor{
		workflow.TypeInputText:      inputText{},
		workflow.TypeNotification:   notification{},
		workflow.TypeDelay:          delay{},
		workflow.TypeIfElse:         ifElse{},
		workflow.TypeDecision:       decision{},
		workflow.TypeAPICall:        newAPICall(caller, cfg),
		workflow.TypeWait:           wait{},
		workflow.TypeInvokeWorkflow: invokeWorkflow{},
	}}
	r.executors[workflow.TypeForEach] = forEach{registry: r}
	return r
}

// Inline reports whether a node type does no I/O and finishes at once, so the engine may claim
// and complete its task in one transaction.
func (r *Registry) Inline(nodeType string) bool {
	switch nodeType {
	case workflow.TypeInputText, workflow.TypeNotification, workflow.TypeIfElse, workflow.TypeDecision, workflow.TypeDelay, workflow.TypeWait:
		return true
	}
	return false
}

// Prepare returns the executor of one node of a workflow version: compiled for its config
// when the type is a Preparer, else the type's executor. A config that does not compile gives
// an executor that fails with that permanent error. ok is false for an unknown type.
func (r *Registry) Prepare(nodeType string, config json.RawMessage) (_ Executor, ok bool) {
	e, ok := r.executors[nodeType]
	if !ok {
		return nil, false
	}
	p, ok := e.(Preparer)
	if !ok {
		return e, true
	}
	prepared, err := p.Prepare(config)
	if err != nil {
		return failing{AsError(err)}, true
	}
	return prepared, true
}

// failing is a node whose config does not compile.
type failing struct{ err *Error }

func (f failing) Execute(context.Context, Input) (Output, error) { return Output{}, f.err }

// Executor returns the executor of a node type.
func (r *Registry) Executor(nodeType string) (Executor, bool) {
	e, ok := r.executors[nodeType]
	return e, ok
}

// ValidateConfig checks a node's config with its type's validator and the common policy keys.
// It satisfies workflow.ConfigValidator.
func (r *Registry) ValidateConfig(nodeType string, config json.RawMessage) []workflow.Problem {
	var problems []workflow.Problem
	if _, err := ParsePolicy(nodeType, config, time.Second); err != nil {
		problems = append(problems, problemsOf(err)...)
	}
	if v, ok := r.executors[nodeType].(Validator); ok {
		problems = append(problems, v.Validate(config)...)
	}
	return problems
}

func problemsOf(err error) []workflow.Problem {
	var v *workflow.ValidationError
	if errors.As(err, &v) {
		return v.Problems
	}
	return []workflow.Problem{{Message: err.Error()}}
}
