package expr

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func decodeOrNil(s string) any {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return v
}

// FuzzRender checks that rendering never panics, leaves templates without placeholders alone,
// and that RenderJSON keeps a template valid JSON when it is valid JSON with its placeholders
// standing for values.
func FuzzRender(f *testing.F) {
	seeds := []struct{ tmpl, payload string }{
		{"Hello {{name}}", `{"name": "Ada"}`},
		{`{"name": "{{name}}", "id": {{id}}}`, `{"name": "O\"Brien", "id": 3}`},
		{`{"title": "{{t}}", "userId": {{userId}}}`, `{"t": "a\\b\n", "userId": "1"}`},
		{"{{items[0].name}} {{items.length}}", `{"items": [{"name": "x"}]}`},
		{"{{$run.id}} {{$nodes.a.b}}", `{}`},
		{"{{{a}}} {{}} {{a}b}} {{ }}", `{"a": [1, [2, null], {"k": 1}]}`},
		{`["{{v}}", {{v}}, "\{{v}}"]`, `{"v": 1e21}`},
		{`"{{v}}`, `{"v": null}`},
	}
	for _, s := range seeds {
		f.Add(s.tmpl, s.payload)
	}
	f.Fuzz(func(t *testing.T, tmpl, payload string) {
		scope := Scope{
			Payload: decodeOrNil(payload),
			Run:     map[string]any{"id": "r1", "input": decodeOrNil(payload)},
			Nodes:   map[string]any{"a": decodeOrNil(payload)},
		}
		text := Render(tmpl, scope)
		body := RenderJSON(tmpl, scope)
		Paths(tmpl)
		ReferencesOf(tmpl)
		if !strings.Contains(tmpl, "{{") && (text != tmpl || body != tmpl) {
			t.Fatalf("template without placeholders changed: Render %q, RenderJSON %q", text, body)
		}
		var skeleton strings.Builder
		last := 0
		for _, p := range placeholders(tmpl) {
			skeleton.WriteString(tmpl[last:p.start] + "null")
			last = p.end
		}
		skeleton.WriteString(tmpl[last:])
		if json.Valid([]byte(skeleton.String())) && !json.Valid([]byte(body)) {
			t.Fatalf("RenderJSON(%q) = %q is not valid JSON", tmpl, body)
		}
	})
}

// FuzzParseRuleEval checks that parsing and evaluating rules never panics, that every parse
// error wraps ErrInvalidRule and that evaluation is deterministic.
func FuzzParseRuleEval(f *testing.F) {
	seeds := []struct{ rule, subject string }{
		{`{"and": [{">": [{"var": "value"}, 25]}]}`, `30`},
		{`{"in": ["ell", {"var": "value"}]}`, `"hello"`},
		{`{"in": [{"var": "value"}, [1, 2, "3"]]}`, `"3"`},
		{`{"or": [0, "x"]}`, `null`},
		{`{"<": [1, {"var": "value.n"}, 10]}`, `{"n": 5}`},
		{`{"if": [{"missing": ["value.a"]}, "missing a", true]}`, `{}`},
		{`{"substr": [{"var": "value"}, -3, -1]}`, `"héllo😀"`},
		{`{"merge": [[1], {"var": "value"}, null]}`, `[[2]]`},
		{`{"missing_some": [1, ["value.a", "value.b"]]}`, `{"b": ""}`},
		{`{"max": [{"var": "value"}, "7", {"+": [null, 1]}]}`, `[3]`},
		{`{"cat": [{"var": ""}, {"%": [7, {"-": [3]}]}, {"*": ["2", {"/": [1, 0]}]}]}`, `{"k": [1, {}]}`},
		{`{"!": {"!!": [{"===": [{}, {"var": "value"}]}]}}`, `{}`},
		{`{"==": [1]}`, `1`},
		{`{"a": 1, "b": 2}`, `1`},
	}
	for _, s := range seeds {
		f.Add(s.rule, s.subject)
	}
	f.Fuzz(func(t *testing.T, rule, subject string) {
		r, err := ParseRule(json.RawMessage(rule))
		if err != nil {
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("ParseRule(%q) error %v does not wrap ErrInvalidRule", rule, err)
			}
			return
		}
		s := decodeOrNil(subject)
		pass1, msg1 := r.Eval(s)
		pass2, msg2 := r.Eval(s)
		if pass1 != pass2 || msg1 != msg2 {
			t.Fatalf("Eval(%q, %q) not deterministic: (%v, %q) then (%v, %q)", rule, subject, pass1, msg1, pass2, msg2)
		}
		if r == nil {
			return
		}
		if got, err := r.apply(s); err == nil {
			if f, ok := got.(float64); ok && math.IsNaN(f) && pass1 {
				t.Fatalf("Eval(%q, %q) passed on NaN", rule, subject)
			}
		}
	})
}
