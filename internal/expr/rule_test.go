package expr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t testing.TB, rule string) *Rule {
	t.Helper()
	r, err := ParseRule(json.RawMessage(rule))
	if err != nil {
		t.Fatalf("ParseRule(%s): %v", rule, err)
	}
	return r
}

func TestParseRuleNoRule(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "  \n", "null", " null ", "{}"} {
		t.Run(fmt.Sprintf("%q", raw), func(t *testing.T) {
			t.Parallel()
			r, err := ParseRule(json.RawMessage(raw))
			if err != nil {
				t.Fatalf("ParseRule(%q) error: %v", raw, err)
			}
			if r != nil {
				t.Fatalf("ParseRule(%q) = %+v, want a nil rule", raw, r)
			}
			if pass, msg := r.Eval("anything"); !pass || msg != "" {
				t.Errorf("nil rule Eval = (%v, %q), want (true, \"\")", pass, msg)
			}
		})
	}
	if r, err := ParseRule(nil); r != nil || err != nil {
		t.Errorf("ParseRule(nil) = (%v, %v), want (nil, nil)", r, err)
	}
}

func TestParseRuleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule string
		want string // the error message after "invalid rule: "
	}{
		{"invalid JSON", `{"==": [1,`, "not valid JSON: unexpected end of JSON input"},
		{"unknown operator", `{"regex": ["a", "b"]}`, `unknown operator "regex"`},
		{"unknown operator with one argument", `{"bogus": 1}`, `unknown operator "bogus"`},
		{"nested unknown operator", `{"and": [{">": [1, 0]}, {"or": [true, {"like": [1, 2]}]}]}`,
			`unknown operator "like" at and[1].or[1]`},
		{"unknown operator in an array literal", `{"in": [1, [{"nope": 1}]]}`, `unknown operator "nope" at in[1][0]`},
		{"method call", `{"toUpperCase.x": []}`, `unknown operator "toUpperCase.x"`},
		{"library extension set", `{"set": [{}, "a", 1]}`, `unknown operator "set"`},
		{"library extension in_sorted", `{"in_sorted": [1, [1]]}`, `unknown operator "in_sorted"`},
		{"array operator map", `{"map": [[1], {"var": ""}]}`, `unknown operator "map"`},
		{"array operator some", `{"some": [[1], true]}`, `unknown operator "some"`},
		{"several keys", `{"==": [1, 1], "var": "x"}`,
			`an operation has exactly one key, the operator; got 2 keys ("==", "var")`},
		{"several keys nested", `{"!": {"a": 1, "b": 2}}`,
			`an operation has exactly one key, the operator; got 2 keys ("a", "b") at !`},
		{"== with one argument", `{"==": [1]}`, `operator "==" takes 2 arguments, got 1`},
		{"!= with three arguments", `{"!=": [1, 2, 3]}`, `operator "!=" takes 2 arguments, got 3`},
		{"> with three arguments", `{">": [3, 2, 1]}`, `operator ">" takes 2 arguments, got 3`},
		{"< with four arguments", `{"<": [1, 2, 3, 4]}`, `operator "<" takes 2 to 3 arguments, got 4`},
		{"in with one argument", `{"in": ["a"]}`, `operator "in" takes 2 arguments, got 1`},
		{"! without argument", `{"!": []}`, `operator "!" takes 1 argument, got 0`},
		{"var with three arguments", `{"var": ["a", 1, 2]}`, `operator "var" takes 0 to 2 arguments, got 3`},
		{"* without argument", `{"*": []}`, `operator "*" takes at least 1 argument, got 0`},
		{"nested arity", `{"and": [{"<=": [1]}]}`, `operator "<=" takes 2 to 3 arguments, got 1 at and[0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRule(json.RawMessage(tt.rule))
			if err == nil {
				t.Fatalf("ParseRule(%s) = %+v, want an error", tt.rule, r)
			}
			if !errors.Is(err, ErrInvalidRule) {
				t.Errorf("ParseRule(%s) error %v does not wrap ErrInvalidRule", tt.rule, err)
			}
			if got, want := err.Error(), "invalid rule: "+tt.want; got != want {
				t.Errorf("ParseRule(%s) error\n got %q\nwant %q", tt.rule, got, want)
			}
		})
	}
}

func TestParseRuleAccepts(t *testing.T) {
	t.Parallel()
	rules := []string{
		`true`, `false`, `0`, `"message"`, `[1, {"var": "value"}]`,
		`{"var": "value"}`, `{"var": ["value.x", 0]}`, `{"var": []}`, `{"var": ""}`,
		`{"missing": ["a", "b"]}`, `{"missing_some": [1, ["a", "b"]]}`,
		`{"if": []}`, `{"if": [true, 1, 2]}`, `{"?:": [true, 1, 2]}`,
		`{"and": []}`, `{"or": [1]}`, `{"!": [1]}`, `{"!": 1}`, `{"!!": [[]]}`,
		`{"==": [1, 1]}`, `{"!=": [1, 1]}`, `{"===": [1, 1]}`, `{"!==": [1, 1]}`,
		`{"<": [1, 2]}`, `{"<": [1, 2, 3]}`, `{"<=": [1, 2, 3]}`, `{">": [1, 2]}`, `{">=": [1, 2]}`,
		`{"in": ["a", "abc"]}`, `{"cat": []}`, `{"substr": ["abc"]}`, `{"substr": ["abc", 1, 1]}`,
		`{"merge": []}`, `{"+": []}`, `{"*": [2]}`, `{"-": [1]}`, `{"/": [1, 2]}`, `{"%": [1, 2]}`,
		`{"min": []}`, `{"max": [1, 2]}`, `{"==": [{}, {}]}`,
		`{"and": [{">": [{"var": "value"}, 25]}]}`,
	}
	for _, rule := range rules {
		t.Run(rule, func(t *testing.T) {
			t.Parallel()
			if r := mustParse(t, rule); r == nil {
				t.Errorf("ParseRule(%s) = nil rule", rule)
			}
		})
	}
}

func TestEvalDoesNotModifySubject(t *testing.T) {
	t.Parallel()
	r := mustParse(t, `{"merge": [{"var": "value.list"}, 9]}`)
	subject := map[string]any{"list": []any{1.0, 2.0}}
	r.Eval(subject)
	if diff := cmp.Diff(map[string]any{"list": []any{1.0, 2.0}}, subject); diff != "" {
		t.Errorf("subject changed (-want +got):\n%s", diff)
	}
}

// TestEvalConcurrent shares one Rule and one subject between goroutines; run with -race.
func TestEvalConcurrent(t *testing.T) {
	t.Parallel()
	r := mustParse(t, `{"and": [
		{">": [{"var": "value.n"}, 10]},
		{"in": [{"var": "value.tag"}, ["a", "b"]]},
		{"==": [{"cat": [{"var": "value.tag"}, {"substr": ["xyz", 1]}]}, {"var": "value.want"}]},
		{"merge": [{"var": "value.list"}]}
	]}`)
	shared := map[string]any{"n": 11.0, "tag": "a", "want": "ayz", "list": []any{1.0}}
	const workers = 32
	var wg sync.WaitGroup
	failures := make(chan string, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := map[string]any{"n": float64(w), "tag": "b", "want": "byz", "list": []any{1.0}}
			for range 200 {
				if pass, msg := r.Eval(shared); !pass {
					failures <- fmt.Sprintf("shared subject failed: %q", msg)
					return
				}
				if pass, _ := r.Eval(own); pass != (w > 10) {
					failures <- fmt.Sprintf("worker %d: pass = %v", w, pass)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	var msgs []string
	for m := range failures {
		msgs = append(msgs, m)
	}
	if len(msgs) > 0 {
		t.Fatalf("concurrent Eval:\n%s", strings.Join(msgs, "\n"))
	}
}
