package expr

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decode parses JSON test data the way payloads arrive: numbers as float64.
func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

func TestLookup(t *testing.T) {
	t.Parallel()
	payload := `{
		"name": "Ada", "age": 36, "zero": 0, "empty": "", "no": false, "nothing": null,
		"items": [{"name": "first"}, {"name": "second"}],
		"grid": [[1, 2], [3, 4]],
		"data": {"person": {"city": "Paris"}},
		"": "empty key", "a[x]": "brackets"
	}`
	tests := []struct {
		name   string
		root   any
		path   string
		want   any
		wantOK bool
	}{
		{"top-level key", decode(t, payload), "name", "Ada", true},
		{"nested keys", decode(t, payload), "data.person.city", "Paris", true},
		{"dotted index", decode(t, payload), "items.0.name", "first", true},
		{"bracket index", decode(t, payload), "items[1].name", "second", true},
		{"array length", decode(t, payload), "items.length", 2.0, true},
		{"nested brackets", decode(t, payload), "grid[1][0]", 3.0, true},
		{"string length", decode(t, payload), "name.length", 3.0, true},
		{"string index", decode(t, payload), "name.1", "d", true},
		{"falsy value at the end is returned", decode(t, payload), "zero", 0.0, true},
		{"false at the end", decode(t, payload), "no", false, true},
		{"empty string at the end", decode(t, payload), "empty", "", true},
		{"null at the end is found", decode(t, payload), "nothing", nil, true},
		{"whole object", decode(t, payload), "data.person", map[string]any{"city": "Paris"}, true},
		{"empty key", decode(t, payload), "", "empty key", true},
		{"non-numeric brackets are part of the key", decode(t, payload), "a[x]", "brackets", true},
		{"missing key", decode(t, payload), "missing", nil, false},
		{"missing in the middle", decode(t, payload), "missing.deeper", nil, false},
		{"zero in the middle", decode(t, payload), "zero.x", nil, false},
		{"empty string in the middle", decode(t, payload), "empty.length", nil, false},
		{"false in the middle", decode(t, payload), "no.x", nil, false},
		{"null in the middle", decode(t, payload), "nothing.x", nil, false},
		{"index out of range", decode(t, payload), "items.2", nil, false},
		{"non-canonical index", decode(t, payload), "items.01", nil, false},
		{"negative index", decode(t, payload), "items.-1", nil, false},
		{"named property of an array", decode(t, payload), "items.name", nil, false},
		{"property of a number", decode(t, payload), "age.x", nil, false},
		{"nil root", nil, "a", nil, false},
		{"falsy root", 0.0, "a", nil, false},
		{"json.Number zero is falsy", map[string]any{"n": json.Number("0")}, "n.x", nil, false},
		{"json.Number returned as is", map[string]any{"n": json.Number("7")}, "n", json.Number("7"), true},
		{"typed map", map[string]string{"k": "v"}, "k", "v", true},
		{"typed slice", map[string]any{"s": []string{"a", "b"}}, "s.1", "b", true},
		{"typed slice length", []int{1, 2, 3}, "length", 3.0, true},
		{"pointer to map", &map[string]any{"k": 1}, "k", 1, true},
		{"nil pointer", (*map[string]any)(nil), "k", nil, false},
		{"int zero in the middle", map[string]any{"n": 0}, "n.x", nil, false},
		{"struct is not addressable", struct{ A int }{1}, "A", nil, false},
		{"map with non-string keys", map[int]any{1: "x"}, "1", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Lookup(tt.root, tt.path)
			if ok != tt.wantOK {
				t.Errorf("Lookup(%q) ok = %v, want %v", tt.path, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lookup(%q) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestScopeResolve(t *testing.T) {
	t.Parallel()
	scope := Scope{
		Payload: decode(t, `{"city": "Oslo", "$runner": "payload key"}`),
		Run:     decode(t, `{"id": "r1", "input": {"city": "Rome"}}`).(map[string]any),
		Nodes:   decode(t, `{"fetch": {"data": {"temp": 21.5}}}`).(map[string]any),
	}
	tests := []struct {
		name   string
		scope  Scope
		path   string
		want   any
		wantOK bool
	}{
		{"payload", scope, "city", "Oslo", true},
		{"run field", scope, "$run.id", "r1", true},
		{"run input", scope, "$run.input.city", "Rome", true},
		{"whole run", scope, "$run", scope.Run, true},
		{"upstream node output", scope, "$nodes.fetch.data.temp", 21.5, true},
		{"upstream node", scope, "$nodes.fetch", scope.Nodes["fetch"], true},
		{"all nodes", scope, "$nodes", scope.Nodes, true},
		{"unknown node", scope, "$nodes.other.data", nil, false},
		{"missing run field", scope, "$run.workflowId", nil, false},
		{"prefix-like payload key", scope, "$runner", "payload key", true},
		{"no run data", Scope{}, "$run.id", nil, false},
		{"no run data, whole run", Scope{}, "$run", nil, false},
		{"no nodes", Scope{}, "$nodes.fetch", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.scope.Resolve(tt.path)
			if ok != tt.wantOK {
				t.Errorf("Resolve(%q) ok = %v, want %v", tt.path, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%q) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestRewriteIndexes(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"items[0]":        "items.0",
		"a[12].b[3]":      "a.12.b.3",
		"[0].name":        ".0.name",
		"a[x]":            "a[x]",
		"a[]":             "a[]",
		"a[1":             "a[1",
		"a[-1]":           "a[-1]",
		"plain.path":      "plain.path",
		"a[1][2]":         "a.1.2",
		"a[[1]]":          "a[.1]",
		"trailing[":       "trailing[",
		"unicode[3]é":     "unicode.3é",
		"x[007]":          "x.007",
		"\u00e9[1]\u00e9": "\u00e9.1\u00e9",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got := rewriteIndexes(in); got != want {
				t.Errorf("rewriteIndexes(%q) = %q, want %q", in, got, want)
			}
		})
	}
}
