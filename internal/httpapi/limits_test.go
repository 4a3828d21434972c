package httpapi_test

import (
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/httpapi"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// A workflow limit set on its own (MAX_WORKFLOW_NODES without MAX_WORKFLOW_EDGES) keeps its
// value, and the others keep their defaults.
func TestConfigKeepsEachWorkflowLimit(t *testing.T) {
	t.Parallel()
	got := httpapi.Config{Limits: workflow.Limits{MaxNodes: 1100}}.WithDefaults().Limits
	want := workflow.Limits{MaxNodes: 1100, MaxEdges: workflow.DefaultLimits.MaxEdges, MaxConfigBytes: workflow.DefaultLimits.MaxConfigBytes}
	if got != want {
		t.Fatalf("limits %+v, want %+v", got, want)
	}
	if got := (httpapi.Config{}).WithDefaults().Limits; got != workflow.DefaultLimits {
		t.Fatalf("default limits %+v, want %+v", got, workflow.DefaultLimits)
	}
}
