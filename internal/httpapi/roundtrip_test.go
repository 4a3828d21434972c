package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/sampledata"
)

// TestWorkflowGetPutRoundTrip sends every seeded sample workflow back with PUT exactly as
// GET returned it (the same bytes): the update is accepted, writes the next version, and the
// definition, which is the sample's, is unchanged.
func TestWorkflowGetPutRoundTrip(t *testing.T) {
	t.Parallel()
	base := start(t)
	samples, err := sampledata.Workflows(base)
	if err != nil {
		t.Fatal(err)
	}
	automations, err := sampledata.Automations(base)
	if err != nil {
		t.Fatal(err)
	}
	samples = append(samples, automations...)
	byName := map[string]json.RawMessage{}
	for _, s := range samples {
		byName[s.Name] = s.Definition
	}
	list := listWorkflows(t, base)
	if len(list) != len(samples) {
		t.Fatalf("%d workflows seeded, want the %d samples", len(list), len(samples))
	}
	for _, w := range list {
		id, name := w["id"].(string), w["name"].(string)
		t.Run(name, func(t *testing.T) {
			got := call(t, "GET", base+"/workflows/"+id, nil)
			before := got.object(t, http.StatusOK)
			sample, ok := byName[name]
			if !ok {
				t.Fatalf("workflow %q is not a sample", name)
			}
			var def map[string]any
			if err := json.Unmarshal(sample, &def); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "GET definition vs the sample", def, map[string]any{"nodes": before["nodes"], "edges": before["edges"]})

			put := call(t, "PUT", base+"/workflows/"+id, got.raw).object(t, http.StatusOK)
			after := call(t, "GET", base+"/workflows/"+id, nil).object(t, http.StatusOK)
			sameJSON(t, "PUT answer vs GET after it", after, put)
			for _, k := range []string{"id", "name", "nodes", "edges", "createdAt"} {
				sameJSON(t, k+" after the round trip", before[k], after[k])
			}
			if num(t, after, "version") != num(t, before, "version")+1 {
				t.Errorf("version %v after the round trip, want %v", after["version"], before["version"].(float64)+1)
			}
		})
	}
}

// TestWorkflowPutVersionField checks the version field GET returns: PUT accepts it and
// ignores its value, but refuses one that is no positive integer, naming the field.
func TestWorkflowPutVersionField(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "versioned", smallDef())
	def := smallDef()
	ok := call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "stale", "version": 7, "nodes": def.Nodes, "edges": def.Edges}).object(t, http.StatusOK)
	if num(t, ok, "version") != 2 {
		t.Errorf("version %v after one update, want 2 (the body's version is ignored)", ok["version"])
	}
	for _, bad := range []any{"2", 1.5, 0, true} {
		call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "x", "version": bad, "nodes": def.Nodes, "edges": def.Edges}).
			wantProblem(t, "version", "positive integer")
	}
}
