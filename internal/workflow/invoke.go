package workflow

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TypeInvokeWorkflow starts another workflow as a child run and completes with its result.
const TypeInvokeWorkflow = "invokeWorkflow"

// OriginInvoke is the origin of a run started by an invokeWorkflow node (runs.origin).
const OriginInvoke = "invoke"

// CheckSelfInvoke refuses a definition of workflow workflowID whose invokeWorkflow node (or
// forEach body of that type) invokes workflowID itself: such a run would start itself until
// the nesting limit failed it. Longer cycles (A invokes B invokes A) are bounded at run time
// by the nesting limit. Problems name the config field like Validate does.
func CheckSelfInvoke(def Definition, workflowID string) error {
	v := &ValidationError{}
	for i, n := range def.Nodes {
		at := fmt.Sprintf("nodes[%d] (%s).base.config", i, n.ID)
		switch n.Base.Type {
		case TypeInvokeWorkflow:
			if strings.EqualFold(invokedID(n.Base.Config), workflowID) {
				v.Add(at+".workflowId", "a workflow cannot invoke itself (%s)", workflowID)
			}
		case TypeForEach:
			var cfg struct {
				Body struct {
					Type   string          `json:"type"`
					Config json.RawMessage `json:"config"`
				} `json:"body"`
			}
			if json.Unmarshal(n.Base.Config, &cfg) == nil && cfg.Body.Type == TypeInvokeWorkflow && strings.EqualFold(invokedID(cfg.Body.Config), workflowID) {
				v.Add(at+".body.config.workflowId", "a workflow cannot invoke itself (%s)", workflowID)
			}
		}
	}
	return v.OrNil()
}

// invokedID is the workflowId of an invokeWorkflow config ("" when it has none).
func invokedID(config json.RawMessage) string {
	var cfg struct {
		WorkflowID string `json:"workflowId"`
	}
	if json.Unmarshal(config, &cfg) != nil {
		return ""
	}
	return cfg.WorkflowID
}
