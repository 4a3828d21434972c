package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/sampledata"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// schemaPath is the published JSON Schema of a workflow definition.
var schemaPath = filepath.Join("..", "..", "docs", "workflow.schema.json")

// compileDefinitionSchema compiles docs/workflow.schema.json as draft 2020-12.
func compileDefinitionSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("workflow.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("workflow.schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	return s
}

// goValidate checks a definition as POST /workflows checks its "workflow" value: strict
// decoding, required fields and types, then the graph rules and node configs.
func goValidate(raw []byte) error {
	var g graphIn
	if err := decodeStrict(raw, &g, "workflow"); err != nil {
		return err
	}
	def, err := g.toDefinition()
	if err != nil {
		return err
	}
	reg := nodes.NewRegistry(nil, nodes.APICallConfig{})
	return workflow.Validate(def, workflow.DefaultLimits, reg.ValidateConfig)
}

func schemaValidate(s *jsonschema.Schema, raw []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// TestDefinitionSchemaAcceptsSamples: every sample workflow is valid for the schema and for
// the validator.
func TestDefinitionSchemaAcceptsSamples(t *testing.T) {
	s := compileDefinitionSchema(t)
	samples, err := sampledata.Workflows("http://localhost:3000")
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no sample workflows")
	}
	automations, err := sampledata.Automations("http://localhost:3000")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, a := range append(slices.Clone(samples), automations...) {
		ids[a.Key] = "00000000-0000-4000-8000-000000000001"
	}
	if err := sampledata.ResolveSampleIDs(automations, ids); err != nil {
		t.Fatal(err)
	}
	samples = append(samples, automations...)
	for _, w := range samples {
		if err := schemaValidate(s, w.Definition); err != nil {
			t.Errorf("%s: schema refuses the sample: %v", w.Name, err)
		}
		if err := goValidate(w.Definition); err != nil {
			t.Errorf("%s: validator refuses the sample: %v", w.Name, err)
		}
	}
}

// TestDefinitionSchemaRefusesWhatTheValidatorRefuses: definitions whose fault the schema can
// express are refused by both the schema and the validator.
func TestDefinitionSchemaRefusesWhatTheValidatorRefuses(t *testing.T) {
	s := compileDefinitionSchema(t)
	samples, err := sampledata.Workflows("http://localhost:3000")
	if err != nil {
		t.Fatal(err)
	}
	base := samples[0].Definition // Simple Weather Alert: inputText -> apiCall -> notification
	// mutate returns the sample's definition after edit changed its decoded form.
	mutate := func(edit func(d map[string]any)) []byte {
		var d map[string]any
		if err := json.Unmarshal(base, &d); err != nil {
			t.Fatal(err)
		}
		edit(d)
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	node := func(d map[string]any, i int) map[string]any { return d["nodes"].([]any)[i].(map[string]any) }
	baseOf := func(d map[string]any, i int) map[string]any { return node(d, i)["base"].(map[string]any) }
	config := func(d map[string]any, i int) map[string]any { return baseOf(d, i)["config"].(map[string]any) }
	edge := func(d map[string]any, i int) map[string]any { return d["edges"].([]any)[i].(map[string]any) }
	withForEach := func(cfg map[string]any) func(d map[string]any) {
		return func(d map[string]any) { baseOf(d, 2)["type"] = "forEach"; baseOf(d, 2)["config"] = cfg }
	}
	withInvoke := func(cfg map[string]any) func(d map[string]any) {
		return func(d map[string]any) { baseOf(d, 2)["type"] = "invokeWorkflow"; baseOf(d, 2)["config"] = cfg }
	}
	const childID = "00000000-0000-4000-8000-000000000001"
	withDelay := func(cfg map[string]any) func(d map[string]any) {
		return func(d map[string]any) { baseOf(d, 2)["type"] = "delay"; baseOf(d, 2)["config"] = cfg }
	}

	for _, tc := range []struct {
		name string
		def  []byte
	}{
		{"not an object", []byte(`[]`)},
		{"missing nodes", mutate(func(d map[string]any) { delete(d, "nodes") })},
		{"missing edges", mutate(func(d map[string]any) { delete(d, "edges") })},
		{"nodes not an array", mutate(func(d map[string]any) { d["nodes"] = map[string]any{} })},
		{"unknown top-level property", mutate(func(d map[string]any) { d["color"] = "red" })},
		{"node without id", mutate(func(d map[string]any) { delete(node(d, 0), "id") })},
		{"node id a number", mutate(func(d map[string]any) { node(d, 0)["id"] = 7 })},
		{"node without base", mutate(func(d map[string]any) { delete(node(d, 1), "base") })},
		{"unknown node property", mutate(func(d map[string]any) { node(d, 1)["kind"] = "x" })},
		{"position x a boolean", mutate(func(d map[string]any) { node(d, 0)["position"] = map[string]any{"x": true, "y": 0} })},
		{"position x not numeric", mutate(func(d map[string]any) { node(d, 0)["position"] = map[string]any{"x": "left", "y": 0} })},
		{"base without type", mutate(func(d map[string]any) { delete(baseOf(d, 1), "type") })},
		{"base without name", mutate(func(d map[string]any) { delete(baseOf(d, 1), "name") })},
		{"base name a number", mutate(func(d map[string]any) { baseOf(d, 1)["name"] = 3 })},
		{"base without config", mutate(func(d map[string]any) { delete(baseOf(d, 1), "config") })},
		{"config an array", mutate(func(d map[string]any) { baseOf(d, 1)["config"] = []any{} })},
		{"unknown node type", mutate(func(d map[string]any) { baseOf(d, 1)["type"] = "webhook" })},
		{"unknown base property", mutate(func(d map[string]any) { baseOf(d, 1)["icon"] = "x" })},
		{"connections an object", mutate(func(d map[string]any) { baseOf(d, 1)["connections"] = map[string]any{} })},
		{"retries too many", mutate(func(d map[string]any) { config(d, 1)["retries"] = 11 })},
		{"retries fractional", mutate(func(d map[string]any) { config(d, 1)["retries"] = 1.5 })},
		{"onError unknown", mutate(func(d map[string]any) { config(d, 1)["onError"] = "ignore" })},
		{"timeoutMs zero", mutate(func(d map[string]any) { config(d, 1)["timeoutMs"] = 0 })},
		{"timeoutMs above 10 minutes", mutate(func(d map[string]any) { config(d, 1)["timeoutMs"] = 600001 })},
		{"apiCall without url", mutate(func(d map[string]any) { delete(config(d, 1), "url") })},
		{"apiCall unknown method", mutate(func(d map[string]any) { config(d, 1)["method"] = "FETCH" })},
		{"apiCall status code out of range", mutate(func(d map[string]any) { config(d, 1)["expectedStatusCodes"] = []any{700} })},
		{"notification template a number", mutate(func(d map[string]any) { config(d, 2)["template"] = 5 })},
		{"delay unknown unit", mutate(withDelay(map[string]any{"delayType": "weeks", "delayValue": 1}))},
		{"delay negative", mutate(withDelay(map[string]any{"delayType": "seconds", "delayValue": -1}))},
		{"delay unit without value", mutate(withDelay(map[string]any{"delayType": "seconds"}))},
		{"ifElse unknown combiner", mutate(func(d map[string]any) {
			baseOf(d, 2)["type"] = "ifElse"
			baseOf(d, 2)["config"] = map[string]any{"condition": map[string]any{"combiner": "xor", "predicates": []any{}}}
		})},
		{"decision without id", mutate(func(d map[string]any) {
			baseOf(d, 2)["type"] = "decision"
			baseOf(d, 2)["config"] = map[string]any{"decisions": []any{map[string]any{"name": "x"}}}
		})},
		{"forEach without items", mutate(withForEach(map[string]any{"body": map[string]any{"type": "notification", "config": map[string]any{}}}))},
		{"forEach items not one placeholder", mutate(withForEach(map[string]any{"items": "users: {{users}}", "body": map[string]any{"type": "notification", "config": map[string]any{}}}))},
		{"forEach without body", mutate(withForEach(map[string]any{"items": "{{users}}"}))},
		{"forEach nested", mutate(withForEach(map[string]any{"items": "{{users}}", "body": map[string]any{"type": "forEach", "config": map[string]any{}}}))},
		{"forEach concurrency 0", mutate(withForEach(map[string]any{"items": "{{users}}", "concurrency": 0, "body": map[string]any{"type": "notification", "config": map[string]any{}}}))},
		{"forEach maxItems too many", mutate(withForEach(map[string]any{"items": "{{users}}", "maxItems": 10001, "body": map[string]any{"type": "notification", "config": map[string]any{}}}))},
		{"forEach unknown onItemError", mutate(withForEach(map[string]any{"items": "{{users}}", "onItemError": "ignore", "body": map[string]any{"type": "notification", "config": map[string]any{}}}))},
		{"forEach body apiCall without url", mutate(withForEach(map[string]any{"items": "{{users}}", "body": map[string]any{"type": "apiCall", "config": map[string]any{"method": "GET"}}}))},
		{"invokeWorkflow without workflowId", mutate(withInvoke(map[string]any{"input": map[string]any{}}))},
		{"invokeWorkflow workflowId not a uuid", mutate(withInvoke(map[string]any{"workflowId": "weather"}))},
		{"invokeWorkflow version 0", mutate(withInvoke(map[string]any{"workflowId": childID, "version": 0}))},
		{"invokeWorkflow version latest", mutate(withInvoke(map[string]any{"workflowId": childID, "version": "latest"}))},
		{"invokeWorkflow input an array", mutate(withInvoke(map[string]any{"workflowId": childID, "input": []any{1}}))},
		{"forEach body invokeWorkflow without workflowId", mutate(withForEach(map[string]any{"items": "{{users}}", "body": map[string]any{"type": "invokeWorkflow", "config": map[string]any{}}}))},
		{"edges not an array", mutate(func(d map[string]any) { d["edges"] = "e1" })},
		{"edge without targetId", mutate(func(d map[string]any) { delete(edge(d, 0), "targetId") })},
		{"edge without id", mutate(func(d map[string]any) { delete(edge(d, 0), "id") })},
		{"edge sourceId a number", mutate(func(d map[string]any) { edge(d, 0)["sourceId"] = 1 })},
		{"edge handle a number", mutate(func(d map[string]any) { edge(d, 0)["sourceHandleId"] = 1 })},
		{"unknown edge property", mutate(func(d map[string]any) { edge(d, 0)["label"] = "x" })},
		{"edge an array", mutate(func(d map[string]any) { d["edges"].([]any)[0] = []any{"a", "b"} })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := schemaValidate(s, tc.def); err == nil {
				t.Errorf("schema accepts %s", tc.def)
			}
			var ve *workflow.ValidationError
			if err := goValidate(tc.def); err == nil {
				t.Errorf("validator accepts %s", tc.def)
			} else if !errors.As(err, &ve) {
				t.Errorf("validator refuses it with %T, not a validation error (400): %v", err, err)
			}
		})
	}
}
