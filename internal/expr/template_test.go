package expr

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	t.Parallel()
	tenth := 0.1
	payload := decode(t, `{
		"name": "Ada", "age": 35, "temp": 25.5, "big": 1e21, "tiny": 1e-7, "ok": true, "no": false,
		"nothing": null, "zero": 0, "quote": "say \"hi\"",
		"tags": ["a", "b"], "mixed": [1, [2, null], null, {"k": 1}], "obj": {"k": "v"},
		"items": [{"name": "first"}, {"name": "second"}],
		"data": {"person": {"city": "Paris"}}
	}`).(map[string]any)
	payload["sum"] = tenth + 0.2
	payload["negZero"] = math.Copysign(0, -1)
	payload["num"] = json.Number("42")
	payload["int"] = 7
	scope := Scope{
		Payload: payload,
		Run:     map[string]any{"id": "run-1", "input": map[string]any{"city": "Rome"}},
		Nodes:   map[string]any{"fetch": map[string]any{"status": 201.0}},
	}
	tests := []struct {
		name string
		tmpl string
		want string
	}{
		{"no placeholders", "plain text", "plain text"},
		{"empty template", "", ""},
		{"string", "Hello {{name}}!", "Hello Ada!"},
		{"optional spaces", "Hello {{  name  }}!", "Hello Ada!"},
		{"tabs and newlines count as spaces", "{{\tname\n}}", "Ada"},
		{"integer", "{{age}}", "35"},
		{"decimal", "{{temp}}", "25.5"},
		{"shortest float", "{{sum}}", "0.30000000000000004"},
		{"exponent for large numbers", "{{big}}", "1e+21"},
		{"exponent for small numbers", "{{tiny}}", "1e-7"},
		{"negative zero", "{{negZero}}", "0"},
		{"json.Number", "{{num}}", "42"},
		{"int", "{{int}}", "7"},
		{"booleans", "{{ok}}/{{no}}", "true/false"},
		{"zero", "{{zero}}", "0"},
		{"null renders empty", "[{{nothing}}]", "[]"},
		{"missing renders empty", "[{{missing}}]", "[]"},
		{"missing nested renders empty", "[{{data.nobody.city}}]", "[]"},
		{"array comma-joined", "{{tags}}", "a,b"},
		{"nested array with nulls and object", "{{mixed}}", "1,2,,,[object Object]"},
		{"object", "{{obj}}", "[object Object]"},
		{"nested path", "{{data.person.city}}", "Paris"},
		{"bracket index", "{{items[1].name}}", "second"},
		{"dotted index", "{{items.0.name}}", "first"},
		{"length", "{{items.length}}", "2"},
		{"inserted as-is", "{{quote}}", `say "hi"`},
		{"run", "{{$run.id}} {{$run.input.city}}", "run-1 Rome"},
		{"upstream node", "{{$nodes.fetch.status}}", "201"},
		{"several placeholders", "{{name}} is {{age}} in {{data.person.city}}", "Ada is 35 in Paris"},
		{"repeated placeholder", "{{name}}{{name}}", "AdaAda"},
		{"empty braces are not a placeholder", "{{}}", "{{}}"},
		{"blank placeholder renders empty", "a{{ }}b", "ab"},
		{"brace inside is not a placeholder", "{{a}b}}", "{{a}b}}"},
		{"unterminated", "{{name", "{{name"},
		{"single closing brace", "{{name}", "{{name}"},
		{"three opening braces", "{{{name}}}", "}"},
		{"placeholder after a failed one", "{{a}b}} {{name}}", "{{a}b}} Ada"},
		{"single braces", "{name}", "{name}"},
		{"multi-line", "line1\n{{name}}\nline3", "line1\nAda\nline3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Render(tt.tmpl, scope); got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.tmpl, got, tt.want)
			}
		})
	}
}

func TestRenderZeroScope(t *testing.T) {
	t.Parallel()
	if got := Render("[{{a}}|{{$run.id}}|{{$nodes.x.y}}]", Scope{}); got != "[||]" {
		t.Errorf("Render with an empty scope = %q, want %q", got, "[||]")
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tmpl string
		want []string
	}{
		{"none", "no placeholders", nil},
		{"trimmed, in order", "{{ b }} {{a}}", []string{"b", "a"}},
		{"distinct", "{{a}} {{ a }} {{b}}", []string{"a", "b"}},
		{"scoped paths", "{{$run.input.x}} {{$nodes.n1.data[0]}}", []string{"$run.input.x", "$nodes.n1.data[0]"}},
		{"blank placeholder", "{{ }}", []string{""}},
		{"malformed ignored", "{{a}b}} {{}} {{c", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Paths(tt.tmpl)); diff != "" {
				t.Errorf("Paths(%q) (-want +got):\n%s", tt.tmpl, diff)
			}
		})
	}
}

func TestReferencesOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		tmpls []string
		want  References
	}{
		{"payload only", []string{"{{a}} {{b.c}}"}, References{}},
		{"run", []string{"{{$run.input.city}}"}, References{Run: true, Reads: []Read{{Path: []string{"city"}}}}},
		{"run id only", []string{"{{$run.id}} {{$run.workflowId}}"}, References{Run: true}},
		{"whole run", []string{"{{$run}}"}, References{Run: true, Reads: []Read{{}}}},
		{"whole input covers its paths", []string{"{{$run.input.a.b}} {{$run.input}} {{$run.input.c}}"},
			References{Run: true, Reads: []Read{{}}}},
		{"shorter path covers longer", []string{"{{$run.input.a.b}} {{$run.input.a}} {{$run.input.a.c}}"},
			References{Run: true, Reads: []Read{{Path: []string{"a"}}}}},
		{"indexes and length stay in Go", []string{"{{$run.input.a.list[0].x}} {{$run.input.s.length}}"},
			References{Run: true, Reads: []Read{{Path: []string{"a", "list"}}, {Path: []string{"s"}}}}},
		{"numeric key stays in Go", []string{"{{$run.input.-1}} {{$run.input.x}}"},
			References{Run: true, Reads: []Read{{}}}},
		{"nodes in first-use order", []string{"{{$nodes.b.x}} {{$nodes.a}}", "{{$nodes.b.y}}"},
			References{Reads: []Read{{Node: "b", Path: []string{"x"}}, {Node: "a"}, {Node: "b", Path: []string{"y"}}}}},
		{"node with index", []string{"{{$nodes.list[0]}}"}, References{Reads: []Read{{Node: "list"}}}},
		{"all nodes", []string{"{{$nodes}}"}, References{AllNodes: true}},
		{"empty node id reads nothing", []string{"{{$nodes.}} {{$nodes..x}}"}, References{}},
		{"prefix-like payload keys", []string{"{{$runner}} {{$nodesX.a}}"}, References{}},
		{"no templates", nil, References{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, ReferencesOf(tt.tmpls...)); diff != "" {
				t.Errorf("ReferencesOf(%q) (-want +got):\n%s", tt.tmpls, diff)
			}
		})
	}
}
