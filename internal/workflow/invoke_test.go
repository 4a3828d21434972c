package workflow_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A workflow that invokes itself directly, as a node or as a forEach body, is refused with a
// problem naming the field; invoking another workflow is not.
func TestCheckSelfInvoke(t *testing.T) {
	const self, other = "3f2b8c1e-7d4a-4e6b-9a5c-1b2c3d4e5f60", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	def := workflowtest.New().Input("in").
		Node("call", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": strings.ToUpper(self)}).
		Node("each", workflow.TypeForEach, map[string]any{"items": "{{x}}", "body": map[string]any{"type": workflow.TypeInvokeWorkflow, "config": map[string]any{"workflowId": self}}}).
		Node("fine", workflow.TypeInvokeWorkflow, map[string]any{"workflowId": other}).Build()
	err := workflow.CheckSelfInvoke(def, self)
	var ve *workflow.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("error %v, want two problems", err)
	}
	if f := ve.Problems[0].Field; f != "nodes[1] (call).base.config.workflowId" {
		t.Errorf("first problem names %q", f)
	}
	if f := ve.Problems[1].Field; f != "nodes[2] (each).base.config.body.config.workflowId" {
		t.Errorf("second problem names %q", f)
	}
	if err := workflow.CheckSelfInvoke(def, "00000000-0000-4000-8000-000000000009"); err != nil {
		t.Errorf("a workflow that invokes others: %v", err)
	}
}
