package nodes_test

import (
	"encoding/json"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

const childID = "3f2b8c1e-7d4a-4e6b-9a5c-1b2c3d4e5f60"

func TestInvokeConfigProblemsNameTheirField(t *testing.T) {
	r := registry("")
	for _, tc := range []struct {
		name   string
		config map[string]any
		field  string
	}{
		{"no workflowId", map[string]any{}, "workflowId"},
		{"empty workflowId", map[string]any{"workflowId": ""}, "workflowId"},
		{"workflowId not a uuid", map[string]any{"workflowId": "weather"}, "workflowId"},
		{"version 0", map[string]any{"workflowId": childID, "version": 0}, "version"},
		{"version fractional", map[string]any{"workflowId": childID, "version": 1.5}, "version"},
		{"version latest", map[string]any{"workflowId": childID, "version": "latest"}, "version"},
		{"input an array", map[string]any{"workflowId": childID, "input": []any{1}}, "input"},
		{"input a string", map[string]any{"workflowId": childID, "input": "{{x}}"}, "input"},
		{"retries out of range", map[string]any{"workflowId": childID, "retries": 11}, "retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := r.ValidateConfig(workflow.TypeInvokeWorkflow, mustJSON(t, tc.config))
			found := false
			for _, p := range problems {
				found = found || p.Field == tc.field
			}
			if !found {
				t.Errorf("problems %+v, want one naming %q", problems, tc.field)
			}
		})
	}
	for _, ok := range []map[string]any{
		{"workflowId": childID},
		{"workflowId": childID, "version": "current", "input": map[string]any{"a": "{{b}}"}},
		{"workflowId": childID, "version": 3, "input": nil},
	} {
		if problems := r.ValidateConfig(workflow.TypeInvokeWorkflow, mustJSON(t, ok)); len(problems) != 0 {
			t.Errorf("valid config %v: problems %+v", ok, problems)
		}
	}
	body := map[string]any{"items": "{{a}}", "body": map[string]any{"type": workflow.TypeInvokeWorkflow, "config": map[string]any{"version": -1}}}
	problems := r.ValidateConfig(workflow.TypeForEach, mustJSON(t, body))
	fields := map[string]bool{}
	for _, p := range problems {
		fields[p.Field] = true
	}
	if !fields["body.config.workflowId"] || !fields["body.config.version"] {
		t.Errorf("forEach body problems %+v, want body.config.workflowId and body.config.version", problems)
	}
}

// The input template renders strings; a string that is one placeholder becomes the value it
// names, and without a template the node's input passes on.
func TestInvokeRendersTheChildInput(t *testing.T) {
	r := registry("")
	payload := map[string]any{"user": map[string]any{"name": "Ada", "id": 7.0}, "city": "Oslo"}
	out, err := execute(t, r, workflow.TypeInvokeWorkflow, map[string]any{"workflowId": childID, "version": 2,
		"input": map[string]any{"who": "{{user}}", "greeting": "hi {{user.name}} in {{city}}", "big": json.Number("12345678901234567890"), "none": "{{missing}}", "list": []any{"{{city}}", 1}}}, payload)
	if err != nil {
		t.Fatal(err)
	}
	if out.Invoke == nil || out.Invoke.WorkflowID != childID || out.Invoke.Version != 2 {
		t.Fatalf("invoke %+v, want workflow %s version 2", out.Invoke, childID)
	}
	want := `{"big":12345678901234567890,"greeting":"hi Ada in Oslo","list":["Oslo",1],"none":null,"who":{"id":7,"name":"Ada"}}`
	if got := string(out.Invoke.Input); got != want {
		t.Errorf("input %s, want %s", got, want)
	}
	passed, err := execute(t, r, workflow.TypeInvokeWorkflow, map[string]any{"workflowId": childID}, payload)
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	if err := json.Unmarshal(passed.Invoke.Input, &in); err != nil || in["city"] != "Oslo" || passed.Invoke.Version != 0 {
		t.Errorf("input without a template %s (version %d), want the node's input and the current version", passed.Invoke.Input, passed.Invoke.Version)
	}
	scalar, err := execute(t, r, workflow.TypeInvokeWorkflow, map[string]any{"workflowId": childID}, "text")
	if err != nil || string(scalar.Invoke.Input) != `{}` {
		t.Errorf("input for a non-object payload %s (%v), want {}", scalar.Invoke.Input, err)
	}
}

// A child already retried its own nodes: an invokeWorkflow node retries only when asked.
func TestInvokeRetriesOnlyWhenAsked(t *testing.T) {
	p, err := nodes.ParsePolicy(workflow.TypeInvokeWorkflow, []byte(`{"workflowId":"`+childID+`"}`), 0)
	if err != nil || p.Retries != 0 || p.OnError != nodes.OnErrorFail {
		t.Errorf("default policy %+v (%v), want 0 retries and onError fail", p, err)
	}
	p, err = nodes.ParsePolicy(workflow.TypeInvokeWorkflow, []byte(`{"retries":2}`), 0)
	if err != nil || p.Retries != 2 {
		t.Errorf("policy with retries 2: %+v (%v)", p, err)
	}
}
