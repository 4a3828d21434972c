package nodes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// VersionCurrent is an invokeWorkflow node's version that runs the invoked workflow's current
// version when the node executes (the default).
const VersionCurrent = "current"

// Invoke is what an invokeWorkflow node asks the engine to start: a run of workflow WorkflowID
// at version Version (0: its current version) with Input (a JSON object). The engine starts
// it as a child run, parks the node's task until the child finishes and completes it with the
// child's result.
type Invoke struct {
	WorkflowID string
	Version    int
	Input      json.RawMessage
}

// InvokeConfig is an invokeWorkflow node's config, parsed.
type InvokeConfig struct {
	WorkflowID string
	// Version is the version number to run, 0 for the current version.
	Version int
	// Input is the child's input template: an object whose strings may hold {{...}}
	// placeholders; nil passes the node's input on.
	Input map[string]any
}

// ParseInvoke reads and checks an invokeWorkflow node's config; problems name their field.
func ParseInvoke(config json.RawMessage) (InvokeConfig, error) {
	var raw struct {
		WorkflowID *string         `json:"workflowId"`
		Version    json.RawMessage `json:"version"`
		Input      json.RawMessage `json:"input"`
	}
	var c InvokeConfig
	if err := json.Unmarshal(config, &raw); err != nil {
		return c, workflow.Invalid("", "invokeWorkflow config must be {workflowId, version?, input?}: %v", err)
	}
	v := &workflow.ValidationError{}
	switch {
	case raw.WorkflowID == nil || *raw.WorkflowID == "":
		v.Add("workflowId", "is required: the id of the workflow to invoke")
	case !isUUID(*raw.WorkflowID):
		v.Add("workflowId", "must be a workflow id (a UUID), got %.60q", *raw.WorkflowID)
	default:
		c.WorkflowID = *raw.WorkflowID
	}
	if version := bytes.TrimSpace(raw.Version); len(version) > 0 && !bytes.Equal(version, []byte("null")) {
		var s string
		var n float64
		switch {
		case json.Unmarshal(version, &s) == nil && s == VersionCurrent:
		case json.Unmarshal(version, &n) == nil && n == float64(int32(n)) && n >= 1:
			c.Version = int(n)
		default:
			v.Add("version", "must be a positive whole number or %q, got %.40s", VersionCurrent, version)
		}
	}
	if input := bytes.TrimSpace(raw.Input); len(input) > 0 && !bytes.Equal(input, []byte("null")) {
		d := json.NewDecoder(bytes.NewReader(input))
		d.UseNumber() // numbers pass on as written
		if err := d.Decode(&c.Input); err != nil || c.Input == nil {
			v.Add("input", "must be an object (the child run's input; its strings may hold {{...}} templates)")
		} else {
			for _, p := range templateProblems("input", c.Input) {
				v.Add(p.Field, "%s", p.Message)
			}
		}
	}
	return c, v.OrNil()
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// templateProblems reports the strings of an input template longer than MaxTemplateBytes.
func templateProblems(field string, v any) []workflow.Problem {
	switch t := v.(type) {
	case string:
		return checkTemplate(field, t)
	case map[string]any:
		var out []workflow.Problem
		for k, e := range t {
			out = append(out, templateProblems(field+"."+k, e)...)
		}
		return out
	case []any:
		var out []workflow.Problem
		for i, e := range t {
			out = append(out, templateProblems(fmt.Sprintf("%s[%d]", field, i), e)...)
		}
		return out
	}
	return nil
}

// invokeWorkflow renders its child's input; the engine starts the child run.
type invokeWorkflow struct{}

// Prepare parses the config once per workflow version.
func (invokeWorkflow) Prepare(config json.RawMessage) (Executor, error) {
	c, err := ParseInvoke(config)
	if err != nil {
		return nil, &Error{Reason: "config", Err: fmt.Errorf("invokeWorkflow config: %w", err)}
	}
	return preparedInvoke{c}, nil
}

func (x invokeWorkflow) Execute(ctx context.Context, in Input) (Output, error) {
	p, err := x.Prepare(in.Config)
	if err != nil {
		return Output{}, err
	}
	return p.Execute(ctx, in)
}

func (invokeWorkflow) Validate(config json.RawMessage) []workflow.Problem {
	if _, err := ParseInvoke(config); err != nil {
		return problemsOf(err)
	}
	return nil
}

type preparedInvoke struct{ c InvokeConfig }

// Execute renders the child's input: a string that is one placeholder becomes the value it
// names (an object stays an object; undefined becomes null), any other string is rendered as
// text. Without an input template the node's input (when an object) is the child's input.
func (p preparedInvoke) Execute(_ context.Context, in Input) (Output, error) {
	var input any = map[string]any{}
	if p.c.Input != nil {
		rendered, err := renderValue(p.c.Input, in.Scope, in.meter())
		if err != nil {
			return Output{}, budgetError("invokeWorkflow input", err)
		}
		input = rendered
	} else if obj, ok := in.Scope.Payload.(map[string]any); ok {
		input = obj
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return Output{}, Permanent("input", "invokeWorkflow input is not JSON: %v", err)
	}
	version := "current version"
	if p.c.Version > 0 {
		version = fmt.Sprintf("version %d", p.c.Version)
	}
	return Output{
		Invoke: &Invoke{WorkflowID: p.c.WorkflowID, Version: p.c.Version, Input: raw},
		Logs:   []Log{{Kind: "invoke", Message: fmt.Sprintf("Invoking workflow %s (%s)", p.c.WorkflowID, version)}},
	}, nil
}

// renderValue renders the templates in an input value.
func renderValue(v any, s expr.Scope, m *expr.Meter) (any, error) {
	switch t := v.(type) {
	case string:
		if !strings.Contains(t, "{{") {
			return t, nil
		}
		if singlePlaceholder(t) {
			value, _, err := s.ResolveBounded(expr.Paths(t)[0], m)
			return value, err
		}
		return expr.RenderBounded(t, s, m)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			r, err := renderValue(e, s, m)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			r, err := renderValue(e, s, m)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}
