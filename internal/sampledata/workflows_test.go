package sampledata

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestWorkflowGraphs checks the structural rules every sample must meet to be saved by the
// front end and accepted by the engine.
func TestWorkflowGraphs(t *testing.T) {
	t.Parallel()
	wfs, err := Workflows(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range wfs {
		t.Run(wf.Name, func(t *testing.T) {
			t.Parallel()
			def := decodeDefinition(t, wf)
			nodes := map[string]node{}
			for _, n := range def.Nodes {
				if n.ID == "" || n.ID != n.Base.ID {
					t.Errorf("node %q: base.id %q must equal id", n.ID, n.Base.ID)
				}
				if _, dup := nodes[n.ID]; dup {
					t.Errorf("duplicate node id %q", n.ID)
				}
				nodes[n.ID] = n
				if _, ok := configKeys[n.Base.Type]; !ok {
					t.Errorf("node %q: unknown type %q", n.ID, n.Base.Type)
				}
				if n.Base.Name == "" || n.Position.X == nil || n.Position.Y == nil {
					t.Errorf("node %q: name and position x/y are required", n.ID)
				}
				for what, raw := range map[string]json.RawMessage{"inputSchema": n.Base.InputSchema, "outputSchema": n.Base.OutputSchema, "config": n.Base.Config} {
					if !isObject(raw) {
						t.Errorf("node %q: %s must be an object, got %s", n.ID, what, raw)
					}
				}
				if n.Base.Connections == nil {
					t.Errorf("node %q: connections must be an array", n.ID)
				}
			}
			edgeIDs := map[string]bool{}
			targets := map[string][]string{}
			for _, e := range def.Edges {
				if e.ID == "" || edgeIDs[e.ID] {
					t.Errorf("edge %v: id %q empty or duplicate", e, e.ID)
				}
				edgeIDs[e.ID] = true
				src, okS := nodes[e.SourceID]
				dst, okT := nodes[e.TargetID]
				if !okS || !okT || e.SourceID == e.TargetID {
					t.Errorf("edge %v: must join two different existing nodes", e)
					continue
				}
				if h := deref(e.SourceHandleID); !slices.Contains(sourceHandles(t, src), h) {
					t.Errorf("edge %v: %s node %q cannot emit handle %q", e, src.Base.Type, src.ID, h)
				}
				if deref(e.TargetHandleID) != "in" {
					t.Errorf("edge %v: target handle must be \"in\"", e)
				}
				if *dst.Position.X <= *src.Position.X {
					t.Errorf("edge %v: layout must run left to right (x %v -> %v)", e, *src.Position.X, *dst.Position.X)
				}
				targets[e.SourceID] = append(targets[e.SourceID], e.TargetID)
			}
			for _, n := range def.Nodes {
				if !slices.Equal(n.Base.Connections, targets[n.ID]) {
					t.Errorf("node %q: connections %v, want the edge targets %v", n.ID, n.Base.Connections, targets[n.ID])
				}
				if n.Base.Type == "ifElse" {
					var handles []string
					for _, e := range def.Edges {
						if e.SourceID == n.ID {
							handles = append(handles, deref(e.SourceHandleID))
						}
					}
					if !slices.Equal(handles, []string{"out-true", "out-false"}) {
						t.Errorf("ifElse %q: outgoing handles %v, want one out-true and one out-false edge", n.ID, handles)
					}
				}
			}
			if left := cycleNodes(def); len(left) > 0 {
				t.Errorf("graph has a cycle through %v", left)
			}
		})
	}
}

func TestCycleNodesDetectsCycles(t *testing.T) {
	t.Parallel()
	def := definition{
		Nodes: []node{{ID: "a"}, {ID: "b"}, {ID: "c"}},
		Edges: []edge{{SourceID: "a", TargetID: "b"}, {SourceID: "b", TargetID: "c"}, {SourceID: "c", TargetID: "b"}},
	}
	if got := cycleNodes(def); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("cycleNodes = %v, want [b c]", got)
	}
}

// TestNodeConfigs checks each node's config against the shapes of section 10 and the D18 fixes.
func TestNodeConfigs(t *testing.T) {
	t.Parallel()
	wfs, err := Workflows(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range wfs {
		t.Run(wf.Name, func(t *testing.T) {
			t.Parallel()
			for _, n := range decodeDefinition(t, wf).Nodes {
				var keys map[string]json.RawMessage
				if err := json.Unmarshal(n.Base.Config, &keys); err != nil {
					t.Fatal(err)
				}
				for k := range keys {
					if !slices.Contains(configKeys[n.Base.Type], k) {
						t.Errorf("node %q: config key %q is not read by %s nodes", n.ID, k, n.Base.Type)
					}
				}
				switch n.Base.Type {
				case "apiCall":
					checkAPICall(t, n)
				case "inputText":
					checkInputText(t, n)
				case "ifElse":
					checkIfElse(t, n)
				case "delay":
					if cfg := decodeDelay(t, n); cfg.DelayType != "seconds" || cfg.DelayValue < 1 {
						t.Errorf("delay %q: %+v, want a whole number of seconds >= 1", n.ID, cfg)
					}
				case "notification":
					var cfg struct {
						Template string `json:"template"`
					}
					strictDecode(t, n.Base.Config, &cfg)
					if strings.TrimSpace(cfg.Template) == "" {
						t.Errorf("notification %q: empty template", n.ID)
					}
				}
			}
		})
	}
}

func checkAPICall(t *testing.T, n node) {
	t.Helper()
	cfg := decodeAPICall(t, n)
	if !strings.HasPrefix(cfg.URL, testBaseURL+"/") && !strings.HasPrefix(cfg.URL, "https://") {
		t.Errorf("apiCall %q: url %q must start with the base URL or https://", n.ID, cfg.URL)
	}
	route, ok := mockRoute(cfg.Method, cfg.URL)
	if !ok {
		t.Errorf("apiCall %q: %s %s is not a mock route of section 7", n.ID, cfg.Method, cfg.URL)
	} else if !slices.Contains(cfg.ExpectedStatusCodes, route.status) {
		t.Errorf("apiCall %q: expectedStatusCodes %v miss %d, the status %s answers", n.ID, cfg.ExpectedStatusCodes, route.status, route.pattern)
	}
	wantTimeout := 10000
	if strings.Contains(cfg.URL, "/test-weather") {
		wantTimeout = 5000
	}
	if cfg.TimeoutMs != wantTimeout {
		t.Errorf("apiCall %q: timeoutMs %d, want %d", n.ID, cfg.TimeoutMs, wantTimeout)
	}
	if cfg.Headers == nil {
		t.Errorf("apiCall %q: headers must be an array", n.ID)
	}
	for _, h := range cfg.Headers {
		if h.ID == "" || h.Key == "" || h.Value == "" || h.Enabled == nil || !*h.Enabled {
			t.Errorf("apiCall %q: header %+v needs id, key, value and enabled:true", n.ID, h)
		}
	}
	switch cfg.Method {
	case "GET":
		if cfg.BodyTemplate != nil {
			t.Errorf("apiCall %q: GET sends no body, drop bodyTemplate", n.ID)
		}
	case "POST", "PUT", "PATCH":
		if cfg.BodyTemplate == nil || !json.Valid([]byte(withNumbers(*cfg.BodyTemplate))) {
			t.Errorf("apiCall %q: bodyTemplate must be JSON once placeholders are filled", n.ID)
		}
	default:
		t.Errorf("apiCall %q: unexpected method %q", n.ID, cfg.Method)
	}
}

func checkInputText(t *testing.T, n node) {
	t.Helper()
	fields := decodeFields(t, n)
	if len(fields) == 0 {
		t.Fatalf("inputText %q: no fields", n.ID)
	}
	var schema struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(n.Base.OutputSchema, &schema); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, f := range fields {
		if f.ID == "" || f.Key == "" || f.Label == "" || ids[f.ID] {
			t.Errorf("inputText %q: field %+v needs a unique id, a key and a label", n.ID, f)
		}
		ids[f.ID] = true
		if !slices.Contains([]string{"text", "number", "date"}, f.InputKind) {
			t.Errorf("inputText %q: field %q has inputKind %q", n.ID, f.Key, f.InputKind)
		}
		if _, ok := schema.Properties[f.Key]; !ok {
			t.Errorf("inputText %q: outputSchema does not describe field %q", n.ID, f.Key)
		}
	}
	if schema.Type != "object" || len(schema.Properties) != len(fields) {
		t.Errorf("inputText %q: outputSchema must be an object with one property per field", n.ID)
	}
}

func checkIfElse(t *testing.T, n node) {
	t.Helper()
	cfg := decodeIfElse(t, n)
	if cfg.TrueLabel == "" || cfg.FalseLabel == "" {
		t.Errorf("ifElse %q: trueLabel and falseLabel are required", n.ID)
	}
	c := cfg.Condition
	if c.ID == "" || c.Name == "" || (c.Combiner != "all" && c.Combiner != "any") || len(c.Predicates) == 0 {
		t.Errorf("ifElse %q: condition needs id, name, combiner all|any and predicates", n.ID)
	}
	for _, p := range c.Predicates {
		if p.ID == "" || p.TargetField == "" || !isObject(p.ValidationLogic) {
			t.Errorf("ifElse %q: predicate %+v needs id, targetField and validationLogic", n.ID, p)
		}
	}
}
