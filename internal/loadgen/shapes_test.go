package loadgen

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// validate checks a definition the way the service does on POST /workflows.
func validate(t *testing.T, def workflow.Definition) {
	t.Helper()
	reg := nodes.NewRegistry(nil, nodes.APICallConfig{})
	if err := workflow.Validate(def, workflow.DefaultLimits, reg.ValidateConfig); err != nil {
		t.Fatalf("definition is invalid: %v", err)
	}
	if _, err := workflow.Compile(def); err != nil {
		t.Fatalf("definition does not compile: %v", err)
	}
}

func TestWorkloadsAreValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shape      string
		n          int
		name       string
		nodes      int
		executions int
		join       string
		// joinParents is how many edges enter the join.
		joinParents int
	}{
		{ShapeChain, 10, "chain-10", 10, 10, "", 0},
		{ShapeChain, 2, "chain-2", 2, 2, "", 0},
		{ShapeChain, 500, "chain-500", 500, 500, "", 0},
		{ShapeFanout, 498, "fanout-498", 500, 500, "join", 498},
		{ShapeFanout, 10, "fanout-10", 12, 12, "join", 10},
		{ShapeFanout, 1, "fanout-1", 3, 3, "join", 1},
		{ShapeIfElse, 0, "ifelse", 7, 5, "join", 2},
		{ShapeAPICall, 0, "apicall", 3, 3, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := NewWorkload(tt.shape, tt.n, "http://127.0.0.1:3000/")
			if err != nil {
				t.Fatal(err)
			}
			validate(t, w.Definition)
			if w.Name != tt.name || w.Shape != tt.shape || w.Executions != tt.executions || w.Join != tt.join {
				t.Errorf("got name %q shape %q executions %d join %q, want %q %q %d %q",
					w.Name, w.Shape, w.Executions, w.Join, tt.name, tt.shape, tt.executions, tt.join)
			}
			if len(w.Definition.Nodes) != tt.nodes {
				t.Errorf("got %d nodes, want %d", len(w.Definition.Nodes), tt.nodes)
			}
			g, _ := workflow.Compile(w.Definition)
			var roots []string
			for _, n := range w.Definition.Nodes {
				if len(g.Incoming(n.ID)) == 0 {
					roots = append(roots, n.ID+":"+n.Base.Type)
				}
			}
			if diff := cmp.Diff([]string{"in:inputText"}, roots); diff != "" {
				t.Errorf("roots (-want +got):\n%s", diff)
			}
			if got := len(parents(w.Definition)[w.Join]); w.Join != "" && got != tt.joinParents {
				t.Errorf("join has %d parents, want %d", got, tt.joinParents)
			}
		})
	}
}

// The service stores what it is sent; the request body must survive the persisted format.
func TestWorkloadJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, shape := range Shapes {
		w, err := NewWorkload(shape, 4, "http://127.0.0.1:3000")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(map[string]any{"name": w.Name, "workflow": w.Definition})
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Name     string              `json:"name"`
			Workflow workflow.Definition `json:"workflow"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w.Definition, body.Workflow); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", shape, diff)
		}
		for _, key := range []string{`"inputSchema":{}`, `"outputSchema":{}`, `"connections":[]`, `"sourceHandleId":"out"`, `"targetHandleId":"in"`} {
			if !strings.Contains(string(raw), key) {
				t.Errorf("%s: request body lacks %s", shape, key)
			}
		}
	}
}

func TestIfElseAlternatesBranches(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeIfElse, 0, "")
	if got := w.Input(0)["score"]; got != 90 {
		t.Errorf("run 0 score = %v, want 90 (high branch)", got)
	}
	if got := w.Input(1)["score"]; got != 10 {
		t.Errorf("run 1 score = %v, want 10 (low branch)", got)
	}
	var handles []string
	for _, e := range w.Definition.Edges {
		if e.SourceID == "check" {
			handles = append(handles, e.SourceHandle()+"→"+e.TargetID)
		}
	}
	if diff := cmp.Diff([]string{"out-true→t1", "out-false→f1"}, handles); diff != "" {
		t.Errorf("ifElse edges (-want +got):\n%s", diff)
	}
}

func TestAPICallURL(t *testing.T) {
	t.Parallel()
	w, err := NewWorkload(ShapeAPICall, 0, "http://127.0.0.1:4000/")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	}
	if err := json.Unmarshal(w.Definition.Nodes[1].Base.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Method != "GET" || cfg.URL != "http://127.0.0.1:4000/workflows/api/test-weather?city=Dubai" {
		t.Errorf("apiCall config = %+v", cfg)
	}
}

func TestNewWorkloadRejects(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		shape string
		n     int
		base  string
		want  string
	}{
		{"star", 3, "", "unknown shape"},
		{ShapeChain, 1, "", "chain length"},
		{ShapeChain, 501, "", "chain length must be 2-500"},
		{ShapeChain, 1000, "", "chain length"},
		{ShapeFanout, 0, "", "fan-out width"},
		{ShapeFanout, 499, "", "fan-out width must be 1-498"},
		{ShapeAPICall, 0, "127.0.0.1:3000", "must be http(s)"},
	} {
		_, err := NewWorkload(tt.shape, tt.n, tt.base)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewWorkload(%q, %d, %q) error = %v, want it to mention %q", tt.shape, tt.n, tt.base, err, tt.want)
		}
	}
}

// The largest shapes must also fit in a request body of the API's default limit (1 MiB).
func TestLargestWorkloadsFitARequest(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{ShapeChain, ShapeFanout} {
		w, err := NewWorkload(shape, MaxSize(shape), "")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(map[string]any{"name": "sfload " + w.Name, "workflow": w.Definition})
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) >= 1<<20 {
			t.Errorf("%s: a %d-byte request body, over the API's 1 MiB", w.Name, len(raw))
		}
	}
}
