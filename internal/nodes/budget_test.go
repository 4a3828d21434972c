package nodes_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// TestBudgetIsPermanentNodeError checks that a rule or template that goes over the execution's
// budget fails the node permanently with reason "budget", on the prepared executors the engine
// runs as well as on the plain ones.
func TestBudgetIsPermanentNodeError(t *testing.T) {
	t.Parallel()
	r := registry("")
	payload := map[string]any{"s": strings.Repeat("z", 1<<20)}
	grow := json.RawMessage(`{"cat":[{"var":"value.s"},{"var":"value.s"},{"var":"value.s"}]}`)
	configs := map[string]any{
		workflow.TypeIfElse: map[string]any{"condition": map[string]any{"predicates": []any{map[string]any{"id": "p", "validationLogic": grow}}}},
		workflow.TypeDecision: map[string]any{"decisions": []any{
			map[string]any{"id": "a", "validationLogic": grow}, map[string]any{"id": "b", "validationLogic": grow}}},
		workflow.TypeNotification: map[string]any{"template": strings.Repeat("{{s}}", 3)},
		workflow.TypeAPICall:      map[string]any{"method": "POST", "url": "http://127.0.0.1:9/", "bodyTemplate": `{"a":"` + strings.Repeat("{{s}}", 3) + `"}`},
	}
	for nodeType, cfg := range configs {
		raw, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := r.Executor(nodeType)
		prepared, _ := r.Prepare(nodeType, raw)
		for name, exec := range map[string]nodes.Executor{"plain": plain, "prepared": prepared} {
			in := nodes.Input{NodeID: "n", Config: raw, Scope: expr.Scope{Payload: payload}, Meter: expr.NewMeter(expr.Budget{Bytes: 2 << 20})}
			_, err := exec.Execute(context.Background(), in)
			var ne *nodes.Error
			if !errors.As(err, &ne) || ne.Retryable || ne.Reason != "budget" || !errors.Is(err, expr.ErrBudgetExceeded) {
				t.Errorf("%s %s: %v, want a permanent budget error", name, nodeType, err)
			}
		}
	}
}

// TestPrepareReportsConfigErrors checks that a node whose rule does not compile fails when it
// runs, with the same permanent config error as before it was prepared.
func TestPrepareReportsConfigErrors(t *testing.T) {
	t.Parallel()
	r := registry("")
	raw := json.RawMessage(`{"condition":{"predicates":[{"id":"p","validationLogic":{"nope":[1]}}]}}`)
	exec, ok := r.Prepare(workflow.TypeIfElse, raw)
	if !ok {
		t.Fatal("ifElse is not known")
	}
	_, err := exec.Execute(context.Background(), nodes.Input{})
	var ne *nodes.Error
	if !errors.As(err, &ne) || ne.Reason != "config" || !strings.Contains(err.Error(), `unknown operator "nope"`) {
		t.Fatalf("Execute: %v, want the config error", err)
	}
}
