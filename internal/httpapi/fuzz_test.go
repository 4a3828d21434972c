package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/sampledata"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// FuzzWorkflowDefinition feeds arbitrary create bodies through decoding and validation, seeded
// with the sample workflows: no input may panic, and anything refused must be refused with a
// validation error (a 4xx), never another kind of error.
func FuzzWorkflowDefinition(f *testing.F) {
	samples, err := sampledata.Workflows("http://localhost:3000")
	if err != nil {
		f.Fatal(err)
	}
	automations, err := sampledata.Automations("http://localhost:3000")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range append(samples, automations...) {
		f.Add([]byte(fmt.Sprintf(`{"name":%q,"workflow":%s}`, s.Name, s.Definition)))
	}
	f.Add([]byte(`{"name":"x","workflow":{"nodes":[{"id":"e","position":{"x":0,"y":0},"base":{"id":"e","type":"forEach","name":"e","config":{"items":"{{$run.input.list}}","concurrency":2,"onItemError":"skip","maxItems":3,"body":{"type":"apiCall","config":{"method":"GET","url":"http://x/{{item}}"}}}}},{"id":"e[0]","position":{"x":0,"y":0},"base":{"id":"e[0]","type":"notification","name":"n","config":{}}}],"edges":[{"id":"x","sourceId":"e","targetId":"e[0]"}]}}`))
	f.Add([]byte(`{"name":"x","workflow":{"nodes":[{"id":"c","position":{"x":0,"y":0},"base":{"id":"c","type":"invokeWorkflow","name":"c","config":{"workflowId":"3f2b8c1e-7d4a-4e6b-9a5c-1b2c3d4e5f60","version":"current","input":{"a":"{{$run.input.a}}","b":[1,"{{x}}"]},"retries":1}}},{"id":"e","position":{"x":0,"y":0},"base":{"id":"e","type":"forEach","name":"e","config":{"items":"{{list}}","body":{"type":"invokeWorkflow","config":{"workflowId":"not-a-uuid","version":0,"input":[]}}}}}],"edges":[{"id":"x","sourceId":"c","targetId":"e"}]}}`))
	f.Add([]byte(`{"name":"x","workflow":{"nodes":[],"edges":[]}}`))
	f.Add([]byte(`{"name":"x","workflow":{"nodes":[{"id":"a","position":{"x":"1","y":2},"base":{"id":"a","type":"delay","name":"a","config":{"delayType":"days","delayValue":1e308}}}],"edges":[{"id":"e","sourceId":"a","targetId":"a"}]}}`))
	f.Add([]byte(`{"name":"x","workflow":{"nodes":[{"id":"d","position":{"x":0,"y":0},"base":{"id":"d","type":"decision","name":"d","config":{"decisions":[{"id":"1","validationLogic":{"in":[{"var":"value"},[1,"2"]]}}]}}}],"edges":[]}}`))
	registry := nodes.NewRegistry(outbound.NewClient(outbound.Config{}), nodes.APICallConfig{})
	a := &API{cfg: Config{}.WithDefaults()}
	a.ValidateConfig = registry.ValidateConfig
	f.Fuzz(func(t *testing.T, body []byte) {
		var in createBody
		if err := decodeStrict(body, &in, "body"); err != nil {
			requireValidation(t, err)
			return
		}
		if in.Workflow == nil {
			return
		}
		if _, def, err := a.checkDefinition(in.Name, *in.Workflow); err != nil {
			requireValidation(t, err)
		} else if _, err := workflow.Compile(def); err != nil {
			t.Fatalf("a valid definition does not compile: %v", err)
		}
	})
}

// FuzzExecuteBody feeds arbitrary execute-async bodies through the run-input path.
func FuzzExecuteBody(f *testing.F) {
	for _, seed := range []string{``, `{}`, `{"input":{"city":"Dubai"}}`, `{"input":[1]}`, `{"input":null,"timeoutMs":1e9}`,
		`{"input":{"a":{"b":[1,2,{"c":"\u0000"}]}},"idempotencyKey":"k"}`, `not json`, `{"version":2}`, `{"version":1.5}`, `{"version":-1}`, `{"version":"2"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, version, err := parseExecuteBody(body, 256<<10)
		if err != nil {
			status, _ := statusOf(err, "")
			if status < 400 || status >= 500 {
				t.Fatalf("refused with status %d: %v", status, err)
			}
			return
		}
		if len(req.Input) > 0 && string(req.Input) != "null" {
			var m map[string]any
			if json.Unmarshal(req.Input, &m) != nil {
				t.Fatalf("accepted an input that is not an object: %s", req.Input)
			}
		}
		if version < 0 {
			t.Fatalf("accepted version %d", version)
		}
	})
}

func requireValidation(t *testing.T, err error) {
	t.Helper()
	var ve *workflow.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("refused with %T (%v), want a validation error", err, err)
	}
	if status, _ := statusOf(err, ""); status != 400 {
		t.Fatalf("validation error maps to %d", status)
	}
}
