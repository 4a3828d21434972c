package expr

import (
	"encoding/json"
	"testing"
)

// jsonbPath is PostgreSQL's #> for paths of object keys: each step must be a key of an
// object, or the result is missing.
func jsonbPath(v any, path []string) (any, bool) {
	for _, step := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[step]; !ok {
			return nil, false
		}
	}
	return v, true
}

// TestPlacedReadsAnswerLikeTheWholeRun renders templates against a scope holding only the
// values ReferencesOf says they read (extracted by key paths, as the store does) and against
// the whole run, and expects the same text for every path shape: keys, indexes, length,
// string characters, falsy values, nulls, missing keys and nodes.
func TestPlacedReadsAnswerLikeTheWholeRun(t *testing.T) {
	t.Parallel()
	var input, output any
	if err := json.Unmarshal([]byte(`{"a":{"b":{"c":[10,{"d":"x"}]},"s":"héllo","z":0,"f":false,"n":null,"e":""},
		"list":[{"k":1},{"k":2}],"0":"zero","length":7,"":"empty","-1":"neg"}`), &input); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"data":{"city":"Paris","tags":["x","y"]},"status":200}`), &output); err != nil {
		t.Fatal(err)
	}
	paths := []string{
		"$run", "$run.id", "$run.input", "$run.input.a", "$run.input.a.b.c", "$run.input.a.b.c[1].d", "$run.input.a.b.c.length",
		"$run.input.a.s.length", "$run.input.a.s.1", "$run.input.a.z.x", "$run.input.a.f.x", "$run.input.a.n", "$run.input.a.n.x",
		"$run.input.a.e.length", "$run.input.list[1].k", "$run.input.list.k", "$run.input.0", "$run.input.length", "$run.input.",
		"$run.input.-1", "$run.input.nope.x", "$run.input.a.b.c.0", "$run.input.a.b.zz",
		"$nodes.api", "$nodes.api.data.city", "$nodes.api.data.tags[0]", "$nodes.api.data.tags.length", "$nodes.api.status.x",
		"$nodes.gone.x", "$nodes.api.data.nope",
	}
	full := Scope{Run: map[string]any{"id": "r1", "workflowId": "w1", "input": input}, Nodes: map[string]any{"api": output}}
	for _, path := range paths {
		tmpl := "{{" + path + "}}"
		refs := ReferencesOf(tmpl)
		narrow := Scope{}
		if refs.Run {
			narrow.Run = map[string]any{"id": "r1", "workflowId": "w1"}
		}
		for _, r := range refs.Reads {
			root := input
			if r.Node != "" {
				root = full.Nodes[r.Node]
				if root == nil {
					continue
				}
			}
			if v, ok := jsonbPath(root, r.Path); ok {
				narrow.Place(r, v)
			}
		}
		want := RenderJSON(`{"v":`+tmpl+`,"s":"`+tmpl+`"}`, full)
		got := RenderJSON(`{"v":`+tmpl+`,"s":"`+tmpl+`"}`, narrow)
		if got != want {
			t.Errorf("%s: narrowed scope renders %s, whole run %s (reads %+v)", path, got, want, refs.Reads)
		}
	}
}
