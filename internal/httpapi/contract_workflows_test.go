package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/sampledata"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// sampleNames are the seeded workflows in their seeding order: the seven originals, then the
// automation samples (data/automation-*.json).
var sampleNames = append([]string{
	"🌤️ Simple Weather Alert",
	"👤 Person Enrichment",
	"📧 Simple Notification",
	"🔀 Temperature Alert System",
	"🎯 LinkedIn Lead Qualification",
	"🏢 Smart Building Cooling System",
	"🏢 Advanced Building Cooling System",
}, automationNames()...)

func automationNames() []string {
	automations, err := sampledata.Automations("http://localhost:3000")
	if err != nil {
		panic(err)
	}
	var names []string
	for _, a := range automations {
		names = append(names, a.Name)
	}
	return names
}

// listWorkflows checks the list's shape and order and returns it.
func listWorkflows(t *testing.T, base string) []map[string]any {
	t.Helper()
	list := asObjects(t, call(t, "GET", base+"/workflows", nil).array(t, http.StatusOK))
	for i, w := range list {
		uuidField(t, w, "id")
		str(t, w, "name")
		num(t, w, "updatedAt")
		if len(w) != 3 {
			t.Errorf("item %d has keys %v, want id, name, updatedAt", i, keys(w))
		}
		if i > 0 && w["updatedAt"].(float64) > list[i-1]["updatedAt"].(float64) {
			t.Errorf("item %d (updatedAt %v) is newer than item %d (%v): want newest first", i, w["updatedAt"], i-1, list[i-1]["updatedAt"])
		}
	}
	return list
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestContractWorkflowList(t *testing.T) {
	t.Parallel()
	base := start(t)
	list := listWorkflows(t, base)
	var names []string
	for _, w := range list {
		names = append(names, w["name"].(string))
	}
	if diff := cmp.Diff(sampleNames, names); diff != "" {
		t.Errorf("seeded workflows (-want +got):\n%s", diff)
	}
	if ms := list[0]["updatedAt"].(float64); time.Since(time.UnixMilli(int64(ms))) > time.Hour {
		t.Errorf("updatedAt %v is not epoch milliseconds of a recent time", ms)
	}

	id := createWorkflow(t, base, "newest", smallDef())
	if list = listWorkflows(t, base); list[0]["id"] != id || len(list) != len(sampleNames)+1 {
		t.Errorf("after create, first item is %v (of %d), want the new workflow %s", list[0]["name"], len(list), id)
	}
	// Saving the oldest workflow moves it to the top.
	last := list[len(list)-1]["id"].(string)
	call(t, "PUT", base+"/workflows/"+last, map[string]any{"name": "renamed", "nodes": smallDef().Nodes, "edges": smallDef().Edges}).object(t, http.StatusOK)
	if list = listWorkflows(t, base); list[0]["id"] != last || list[0]["name"] != "renamed" {
		t.Errorf("after PUT, first item is %v, want the updated workflow %s", list[0], last)
	}
}

// rawWorkflow is a definition written as JSON, as the front end sends it: null handles,
// a numeric-string position, opaque schemas and config.
const rawWorkflow = `{"name": "Weather check", "workflow": {
  "nodes": [
    {"id": "n-in", "position": {"x": "100.5", "y": 100},
     "base": {"id": "n-in", "type": "inputText", "name": "City Input",
              "inputSchema": {"type": "object", "properties": {"city": {"type": "string", "enum": ["a", "b"]}}, "n": 12345678901234567890},
              "outputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
              "config": {"fields": [{"id": "f1", "key": "city", "label": "City", "inputKind": "text", "ui": {"deep": [1, null, true]}}]},
              "validationLogic": null,
              "connections": ["n-note"]}},
    {"id": "n-note", "position": {"x": 400, "y": "-20"},
     "base": {"id": "n-note", "type": "notification", "name": "Notify", "inputSchema": {}, "outputSchema": {},
              "config": {"template": "It is {{city}}"}, "validationLogic": {"==": [1, 1]}, "connections": []}}
  ],
  "edges": [
    {"id": "my-own-edge-id", "sourceId": "n-in", "targetId": "n-note", "sourceHandleId": null, "targetHandleId": null},
    {"id": "second", "sourceId": "n-in", "targetId": "n-note", "sourceHandleId": "out", "targetHandleId": "in"}
  ]}}`

// sameJSON compares two JSON values by meaning (key order and spacing aside; numbers exact).
func sameJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	norm := func(v any) any {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var out any
		if err := dec.Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if diff := cmp.Diff(norm(want), norm(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func TestContractWorkflowCreateAndGet(t *testing.T) {
	t.Parallel()
	base := start(t)
	before := time.Now().Add(-time.Second).UnixMilli()
	res := call(t, "POST", base+"/workflows", rawWorkflow)
	created := res.object(t, http.StatusCreated)
	id := uuidField(t, created, "id")
	if created["name"] != "Weather check" {
		t.Errorf("name = %v", created["name"])
	}
	createdAt, updatedAt := num(t, created, "createdAt"), num(t, created, "updatedAt")
	if int64(createdAt) < before || createdAt != updatedAt {
		t.Errorf("createdAt %v, updatedAt %v: want equal epoch ms of now", createdAt, updatedAt)
	}

	nodes := asObjects(t, arrayField(t, created, "nodes"))
	if len(nodes) != 2 {
		t.Fatalf("got %d nodes, want 2", len(nodes))
	}
	sameJSON(t, "positions", []any{map[string]any{"x": 100.5, "y": 100}, map[string]any{"x": 400, "y": -20}},
		[]any{nodes[0]["position"], nodes[1]["position"]})
	in := objectField(t, nodes[0], "base")
	if _, ok := in["validationLogic"]; ok {
		t.Errorf("null base.validationLogic should be left out, got %v", in["validationLogic"])
	}
	var sent struct {
		Workflow struct {
			Nodes []struct {
				Base map[string]any `json:"base"`
			} `json:"nodes"`
		} `json:"workflow"`
	}
	dec := json.NewDecoder(strings.NewReader(rawWorkflow))
	dec.UseNumber()
	if err := dec.Decode(&sent); err != nil {
		t.Fatal(err)
	}
	var exact struct {
		Nodes []struct {
			Base map[string]json.RawMessage `json:"base"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(res.raw, &exact); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"inputSchema", "outputSchema", "config", "connections"} {
		sameJSON(t, "nodes[0].base."+k, sent.Workflow.Nodes[0].Base[k], exact.Nodes[0].Base[k])
	}
	sameJSON(t, "nodes[1].base.validationLogic", map[string]any{"==": []any{1, 1}}, objectField(t, nodes[1], "base")["validationLogic"])

	edges := asObjects(t, arrayField(t, created, "edges"))
	sameJSON(t, "edges", []any{
		map[string]any{"id": "my-own-edge-id", "sourceId": "n-in", "targetId": "n-note"},
		map[string]any{"id": "second", "sourceId": "n-in", "targetId": "n-note", "sourceHandleId": "out", "targetHandleId": "in"},
	}, edges)

	// GET returns the same workflow, unchanged.
	got := call(t, "GET", base+"/workflows/"+id, nil).object(t, http.StatusOK)
	sameJSON(t, "GET after POST", created, got)
	upper := call(t, "GET", base+"/workflows/"+strings.ToUpper(id), nil).object(t, http.StatusOK)
	sameJSON(t, "GET with an upper-case id", created, upper)

	// A sample: its definition round-trips too, and carries the readable node ids.
	var weather string
	for _, w := range listWorkflows(t, base) {
		if w["name"] == sampleNames[0] {
			weather = w["id"].(string)
		}
	}
	sample := call(t, "GET", base+"/workflows/"+weather, nil).object(t, http.StatusOK)
	var ids []string
	for _, n := range asObjects(t, arrayField(t, sample, "nodes")) {
		ids = append(ids, n["id"].(string))
		if b := objectField(t, n, "base"); b["id"] != n["id"] {
			t.Errorf("sample node %v has base.id %v", n["id"], b["id"])
		}
	}
	if diff := cmp.Diff([]string{"city-input", "weather-api", "weather-report"}, ids); diff != "" {
		t.Errorf("sample node ids (-want +got):\n%s", diff)
	}

	call(t, "GET", base+"/workflows/"+missingID, nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
	call(t, "GET", base+"/workflows/abc", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
}

// strictCases put an unknown property at each level of a create body.
var strictCases = []struct{ where, prop, body string }{
	{"top level", "extraTop", `{"name":"x","workflow":{"nodes":[],"edges":[]},"extraTop":1}`},
	{"workflow", "extraWorkflow", `{"name":"x","workflow":{"nodes":[],"edges":[],"extraWorkflow":1}}`},
	{"node", "extraNode", `{"name":"x","workflow":{"nodes":[{"id":"a","position":{"x":0,"y":0},"base":{"id":"a","type":"inputText","name":"a","inputSchema":{},"outputSchema":{},"config":{"fields":[]},"connections":[]},"extraNode":1}],"edges":[]}}`},
	{"base", "extraBase", `{"name":"x","workflow":{"nodes":[{"id":"a","position":{"x":0,"y":0},"base":{"id":"a","type":"inputText","name":"a","inputSchema":{},"outputSchema":{},"config":{"fields":[]},"connections":[],"extraBase":1}}],"edges":[]}}`},
	{"position", "extraPosition", `{"name":"x","workflow":{"nodes":[{"id":"a","position":{"x":0,"y":0,"extraPosition":1},"base":{"id":"a","type":"inputText","name":"a","inputSchema":{},"outputSchema":{},"config":{"fields":[]},"connections":[]}}],"edges":[]}}`},
	{"edge", "extraEdge", `{"name":"x","workflow":{"nodes":[],"edges":[{"id":"e","sourceId":"a","targetId":"b","extraEdge":1}]}}`},
}

func TestContractWorkflowCreateStrict(t *testing.T) {
	t.Parallel()
	base := start(t)
	for _, tc := range strictCases {
		t.Run(tc.where, func(t *testing.T) {
			call(t, "POST", base+"/workflows", tc.body).wantProblem(t, tc.prop, "should not exist")
		})
	}
	t.Run("empty name", func(t *testing.T) {
		call(t, "POST", base+"/workflows", map[string]any{"name": "", "workflow": smallDef()}).wantProblem(t, "name", "should not be empty")
	})
	t.Run("blank name", func(t *testing.T) {
		call(t, "POST", base+"/workflows", map[string]any{"name": "  ", "workflow": smallDef()}).wantProblem(t, "name", "should not be empty")
	})
	t.Run("missing name", func(t *testing.T) {
		call(t, "POST", base+"/workflows", map[string]any{"workflow": smallDef()}).wantProblem(t, "name")
	})
	t.Run("missing workflow", func(t *testing.T) {
		call(t, "POST", base+"/workflows", map[string]any{"name": "x"}).wantProblem(t, "workflow")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		call(t, "POST", base+"/workflows", `{"name":`).wantProblem(t, "name: malformed JSON at byte 8")
		call(t, "POST", base+"/workflows", `{"name": nope}`).wantProblem(t, "name: malformed JSON at byte 11")
	})
	t.Run("position that is not numeric", func(t *testing.T) {
		call(t, "POST", base+"/workflows", strings.Replace(strictCases[2].body, `,"extraNode":1`, ``, 1)).object(t, http.StatusCreated)
		body := strings.Replace(strings.Replace(strictCases[2].body, `,"extraNode":1`, ``, 1), `"x":0`, `"x":"abc"`, 1)
		call(t, "POST", base+"/workflows", body).wantProblem(t, "number")
	})
	if n := len(listWorkflows(t, base)); n != len(sampleNames)+1 {
		t.Errorf("%d workflows stored, want only the samples and the one valid create", n)
	}
}

// node is a node of the given type with its config.
func node(id, nodeType string, config any) workflow.Node {
	return workflowtest.New().Node(id, nodeType, config).Build().Nodes[0]
}

func edge(id, source, target, handle string) workflow.Edge {
	e := workflow.Edge{ID: id, SourceID: source, TargetID: target}
	if handle != "" {
		e.SourceHandleID = &handle
	}
	return e
}

var ifElseConfig = map[string]any{
	"condition": map[string]any{"id": "c", "name": "c", "combiner": "all",
		"predicates": []any{map[string]any{"id": "p", "targetField": "t", "validationLogic": map[string]any{">": []any{map[string]any{"var": "value"}, 1}}}}},
	"trueLabel": "Yes", "falseLabel": "No",
}

func TestContractWorkflowValidation(t *testing.T) {
	t.Parallel()
	base := start(t)
	in := node("in", workflow.TypeInputText, map[string]any{"fields": []any{}})
	note := node("note", workflow.TypeNotification, map[string]any{"template": "x"})
	api := func(id string, cfg map[string]any) workflow.Node { return node(id, workflow.TypeAPICall, cfg) }
	delay := func(id, unit string, v float64) workflow.Node {
		return node(id, workflow.TypeDelay, map[string]any{"delayType": unit, "delayValue": v})
	}
	otherBase := node("odd", workflow.TypeNotification, map[string]any{"template": "x"})
	otherBase.Base.ID = "not-odd"
	for _, tc := range []struct {
		name  string
		nodes []workflow.Node
		edges []workflow.Edge
		parts []string // one message must contain all of them
	}{
		{"cycle", []workflow.Node{in, note, node("n2", workflow.TypeNotification, map[string]any{"template": "x"})},
			[]workflow.Edge{edge("e1", "in", "note", "out"), edge("e2", "note", "n2", ""), edge("e3", "n2", "note", "")},
			[]string{"edges", "cycle", "note", "n2"}},
		{"unknown node type", []workflow.Node{in, node("weird", "teleport", map[string]any{})}, nil,
			[]string{"nodes[1]", "weird", "base.type", "teleport"}},
		{"edge from an unknown node", []workflow.Node{in, note}, []workflow.Edge{edge("e1", "ghost", "note", "out")},
			[]string{"edges[0].sourceId", "ghost"}},
		{"edge to an unknown node", []workflow.Node{in, note}, []workflow.Edge{edge("e1", "in", "phantom", "out")},
			[]string{"edges[0].targetId", "phantom"}},
		{"duplicate node ids", []workflow.Node{in, note, in}, nil,
			[]string{"nodes[2].id", "duplicate", "in"}},
		{"base.id differs from id", []workflow.Node{otherBase}, nil,
			[]string{"nodes[0].base.id", "odd", "not-odd"}},
		{"ifElse edge with handle out", []workflow.Node{node("check", workflow.TypeIfElse, ifElseConfig), note},
			[]workflow.Edge{edge("e1", "check", "note", "out")},
			[]string{"edges[0].sourceHandleId", "check", "out"}},
		{"decision handle of an unknown decision", []workflow.Node{
			workflowtest.New().Decision("route", "t", workflowtest.Outcome{ID: "big", Rule: map[string]any{">": []any{map[string]any{"var": "value"}, 1}}}).Build().Nodes[0], note},
			[]workflow.Edge{edge("e1", "route", "note", "out-small")},
			[]string{"edges[0].sourceHandleId", "route", "out-small"}},
		{"apiCall ftp url", []workflow.Node{api("call", map[string]any{"method": "GET", "url": "ftp://x"})}, nil,
			[]string{"nodes[0]", "call", "config.url"}},
		{"apiCall url that is not a url", []workflow.Node{api("call", map[string]any{"method": "GET", "url": "not a url"})}, nil,
			[]string{"nodes[0]", "call", "config.url"}},
		{"apiCall bad method", []workflow.Node{api("call", map[string]any{"method": "FETCH", "url": "http://example.com"})}, nil,
			[]string{"nodes[0]", "call", "config.method", "FETCH"}},
		{"negative delay", []workflow.Node{delay("pause", "seconds", -1)}, nil,
			[]string{"nodes[0]", "pause", "config.delayValue"}},
		{"delay over 30 days", []workflow.Node{delay("pause", "days", 31)}, nil,
			[]string{"nodes[0]", "pause", "config.delayValue"}},
		{"unknown json-logic operator", []workflow.Node{node("check", workflow.TypeIfElse, map[string]any{
			"condition": map[string]any{"combiner": "all", "predicates": []any{map[string]any{"id": "p", "targetField": "t",
				"validationLogic": map[string]any{"regex_match": []any{map[string]any{"var": "value"}, "x"}}}}}})}, nil,
			[]string{"nodes[0]", "check", "config.condition.predicates[0].validationLogic", "regex_match"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edges := tc.edges
			if edges == nil {
				edges = []workflow.Edge{}
			}
			def := workflow.Definition{Nodes: tc.nodes, Edges: edges}
			call(t, "POST", base+"/workflows", map[string]any{"name": tc.name, "workflow": def}).wantProblem(t, tc.parts...)
			// The same graph is refused by PUT too.
			call(t, "PUT", base+"/workflows/"+listWorkflows(t, base)[0]["id"].(string),
				map[string]any{"name": tc.name, "nodes": def.Nodes, "edges": def.Edges}).wantProblem(t, tc.parts...)
		})
	}
	t.Run("a delay of exactly 30 days is accepted", func(t *testing.T) {
		def := workflow.Definition{Nodes: []workflow.Node{delay("pause", "days", 30)}, Edges: []workflow.Edge{}}
		call(t, "POST", base+"/workflows", map[string]any{"name": "30 days", "workflow": def}).object(t, http.StatusCreated)
	})
	if n := len(listWorkflows(t, base)); n != len(sampleNames)+1 {
		t.Errorf("%d workflows stored, want the samples and the 30-day one", n)
	}
}

func TestContractWorkflowUpdate(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "v1", smallDef())
	first := call(t, "GET", base+"/workflows/"+id, nil).object(t, http.StatusOK)
	version := num(t, first, "version")

	wait := func() { // let the clock move so a bumped updatedAt is visible
		ms := time.Now().UnixMilli()
		testenv.WaitFor(t, time.Second, "the clock to tick", func() bool { return time.Now().UnixMilli() > ms+1 })
	}
	check := func(t *testing.T, got map[string]any, name string, nodes int, prev map[string]any) {
		t.Helper()
		if got["id"] != id || got["name"] != name || len(arrayField(t, got, "nodes")) != nodes {
			t.Errorf("got id %v name %v with %d nodes, want %s %q with %d", got["id"], got["name"], len(arrayField(t, got, "nodes")), id, name, nodes)
		}
		if num(t, got, "createdAt") != first["createdAt"] {
			t.Errorf("createdAt changed from %v to %v", first["createdAt"], got["createdAt"])
		}
		if num(t, got, "updatedAt") <= prev["updatedAt"].(float64) {
			t.Errorf("updatedAt %v not bumped past %v", got["updatedAt"], prev["updatedAt"])
		}
		if num(t, got, "version") != prev["version"].(float64)+1 {
			t.Errorf("version %v, want %v", got["version"], prev["version"].(float64)+1)
		}
		sameJSON(t, "GET after PUT", got, call(t, "GET", base+"/workflows/"+id, nil).object(t, http.StatusOK))
	}

	three := workflowtest.New().Input("in").Delay("pause", 1).Notify("note", "x").Chain("in", "pause", "note").Build()
	wait()
	// Flat form, as the front end sends it: body id, createdAt and updatedAt are ignored.
	flat := call(t, "PUT", base+"/workflows/"+id, map[string]any{"id": missingID, "name": "flat", "nodes": three.Nodes,
		"edges": three.Edges, "createdAt": 1, "updatedAt": time.Now().UnixMilli()}).object(t, http.StatusOK)
	check(t, flat, "flat", 3, first)
	if version != 1 {
		t.Errorf("first version = %v, want 1", version)
	}
	wait()
	nested := call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "nested", "workflow": smallDef(), "createdAt": 5}).object(t, http.StatusOK)
	check(t, nested, "nested", 2, flat)

	for _, tc := range []struct {
		name  string
		body  any
		parts []string
	}{
		{"neither form", map[string]any{"name": "x"}, []string{"nodes"}},
		{"nodes without edges", map[string]any{"name": "x", "nodes": smallDef().Nodes}, []string{"edges"}},
		{"fractional createdAt", map[string]any{"name": "x", "workflow": smallDef(), "createdAt": 1.5}, []string{"createdAt", "integer"}},
		{"string createdAt", map[string]any{"name": "x", "workflow": smallDef(), "createdAt": "yesterday"}, []string{"createdAt", "integer"}},
		{"string updatedAt", map[string]any{"name": "x", "nodes": smallDef().Nodes, "edges": smallDef().Edges, "updatedAt": "now"}, []string{"updatedAt", "integer"}},
		{"empty name", map[string]any{"name": "", "workflow": smallDef()}, []string{"name", "should not be empty"}},
		{"unknown property", map[string]any{"name": "x", "workflow": smallDef(), "color": "red"}, []string{"color", "should not exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call(t, "PUT", base+"/workflows/"+id, tc.body).wantProblem(t, tc.parts...)
		})
	}
	if got := call(t, "GET", base+"/workflows/"+id, nil).object(t, http.StatusOK); got["version"] != nested["version"] || got["name"] != "nested" {
		t.Errorf("refused PUTs changed the workflow: version %v name %v", got["version"], got["name"])
	}
	body := map[string]any{"name": "x", "workflow": smallDef()}
	call(t, "PUT", base+"/workflows/"+missingID, body).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
	call(t, "PUT", base+"/workflows/abc", body).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
}

func TestContractWorkflowDelete(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "doomed", smallDef())
	runID := startRun(t, base, id, map[string]any{"city": "Oslo"})
	waitRun(t, base, runID)
	parked := createWorkflow(t, base, "doomed while running", parkedDef())
	parkedRun := startRun(t, base, parked, nil)
	waitParked(t, base, parkedRun)

	// A workflow with a run in flight is kept (409), unless forced: then its runs are
	// cancelled first.
	call(t, "DELETE", base+"/workflows/"+parked, nil).wantError(t, http.StatusConflict,
		"Workflow has runs queued or running; cancel them or delete with ?force=true", "Conflict")
	if run := runStatus(t, base, parkedRun); run["status"] != "running" {
		t.Fatalf("refused delete changed the run to %v", run["status"])
	}
	call(t, "DELETE", base+"/workflows/"+parked+"?force=maybe", nil).wantProblem(t, "force")

	for _, del := range []string{id, parked + "?force=true", missingID, "abc", id} {
		got := call(t, "DELETE", base+"/workflows/"+del, nil).object(t, http.StatusOK)
		if diff := cmp.Diff(map[string]any{"deleted": true}, got); diff != "" {
			t.Errorf("DELETE %s (-want +got):\n%s", del, diff)
		}
	}
	for _, gone := range []string{id, parked} {
		call(t, "GET", base+"/workflows/"+gone, nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
		call(t, "GET", base+"/workflows/"+gone+"/runs", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
	}
	for _, r := range []string{runID, parkedRun} {
		call(t, "GET", base+"/workflows/runs/"+r+"/status", nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
		call(t, "GET", base+"/workflows/runs/"+r+"/logs", nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
	}
	for _, w := range listWorkflows(t, base) {
		if w["id"] == id || w["id"] == parked {
			t.Errorf("deleted workflow %v still listed", w)
		}
	}
	if n := len(listWorkflows(t, base)); n != len(sampleNames) {
		t.Errorf("%d workflows listed, want %d", n, len(sampleNames))
	}
}
