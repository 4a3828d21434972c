package nodes_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// TestPreparedExecutorsDoNotReadConfig checks that the executor the engine prepares once per
// workflow version carries everything its config says: executed with a config that does not
// even parse, it does what the plain executor does with the real one. A prepared executor
// that parsed its config again per execution would fail here.
func TestPreparedExecutorsDoNotReadConfig(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"city":"Paris","path":"` + r.URL.Path + `"}`))
	}))
	t.Cleanup(srv.Close)
	r := registry("")
	rule := json.RawMessage(`{">":[{"var":"value.n"},1]}`)
	configs := map[string]any{
		workflow.TypeInputText:    map[string]any{"fields": []any{map[string]any{"key": "n"}}},
		workflow.TypeNotification: map[string]any{"template": "n is {{n}}"},
		workflow.TypeDelay:        map[string]any{"delayType": "seconds", "delayValue": 3},
		workflow.TypeIfElse:       map[string]any{"condition": map[string]any{"predicates": []any{map[string]any{"id": "p", "validationLogic": rule}}}},
		workflow.TypeDecision:     map[string]any{"decisions": []any{map[string]any{"id": "big", "validationLogic": rule}}},
		workflow.TypeAPICall: map[string]any{"method": "GET", "url": srv.URL + "/n/{{n}}", "expectedStatusCodes": []int{200},
			"headers": []any{map[string]any{"key": "X-N", "value": "{{n}}", "enabled": true}}},
	}
	for nodeType, cfg := range configs {
		raw, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := r.Executor(nodeType)
		prepared, ok := r.Prepare(nodeType, raw)
		if !ok {
			t.Fatalf("%s is not known", nodeType)
		}
		run := func(exec nodes.Executor, config json.RawMessage) (nodes.Output, error) {
			return exec.Execute(context.Background(), nodes.Input{NodeID: "n", Config: config,
				Scope: expr.Scope{Payload: map[string]any{"n": 2.0}}, Meter: expr.NewMeter(expr.Budget{})})
		}
		want, werr := run(plain, raw)
		got, gerr := run(prepared, json.RawMessage(`{"not json`))
		if werr != nil || gerr != nil {
			t.Errorf("%s: plain %v, prepared %v; want both to succeed", nodeType, werr, gerr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s prepared: %+v\nwant %+v", nodeType, got, want)
		}
	}
}
