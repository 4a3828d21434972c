package workflow_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

func TestElementNodeIDs(t *testing.T) {
	for _, tc := range []struct {
		id     string
		parent string
		index  int
		ok     bool
	}{
		{workflow.ElementNodeID("each", 0), "each", 0, true},
		{workflow.ElementNodeID("a[1]", 12), "a[1]", 12, true},
		{"each[]", "", 0, false},
		{"each[01]", "", 0, false},
		{"each[-1]", "", 0, false},
		{"each[x]", "", 0, false},
		{"[3]", "", 0, false},
		{"each", "", 0, false},
		{"each[1234567890]", "", 0, false},
	} {
		parent, index, ok := workflow.ElementOf(tc.id)
		if parent != tc.parent || index != tc.index || ok != tc.ok {
			t.Errorf("ElementOf(%q) = %q, %d, %v; want %q, %d, %v", tc.id, parent, index, ok, tc.parent, tc.index, tc.ok)
		}
	}
}

// A node may not take the id of an element of a forEach node of its workflow.
func TestValidateRefusesElementIDsAsNodeIDs(t *testing.T) {
	def := workflowtest.New().Node("each", workflow.TypeForEach, map[string]any{}).Notify("each[2]", "x").Notify("other[2]", "y").Build()
	err := workflow.Validate(def, workflow.DefaultLimits, nil)
	var v *workflow.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("error %v, want a validation error", err)
	}
	var hits []string
	for _, p := range v.Problems {
		if strings.Contains(p.Message, "element of forEach") {
			hits = append(hits, p.Field)
		}
	}
	if len(hits) != 1 || hits[0] != "nodes[1].id" {
		t.Errorf("element id problems at %v, want exactly nodes[1].id (other[2] is no forEach element)", hits)
	}
}
